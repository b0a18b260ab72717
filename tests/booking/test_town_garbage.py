"""Garbage days through the API and the CLI: the sample calendar imported, exactly its days."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drt.cli import app
from tests.booking.conftest import Svc
from town import calendars

pytestmark = pytest.mark.services
SAMPLE = Path(__file__).resolve().parents[2] / "areas" / "kurate" / "garbage-sample"

# 中山, December 2026, by hand: 燃やすごみ every Monday and Thursday, 燃やさないごみ the second
# Wednesday, 資源ごみ the first and third Friday (its months include December); the centre
# is closed from 30 December, so Thursday the 31st is not collected.
NAKAYAMA_DECEMBER = [
    ("2026-12-03", "燃やすごみ"), ("2026-12-04", "資源ごみ"), ("2026-12-07", "燃やすごみ"),
    ("2026-12-09", "燃やさないごみ"), ("2026-12-10", "燃やすごみ"), ("2026-12-14", "燃やすごみ"),
    ("2026-12-17", "燃やすごみ"), ("2026-12-18", "資源ごみ"), ("2026-12-21", "燃やすごみ"),
    ("2026-12-24", "燃やすごみ"), ("2026-12-28", "燃やすごみ"),
]  # fmt: skip


def _import(svc: Svc) -> None:
    with svc.db.sessionmaker()() as session:
        calendars.import_calendar(session, SAMPLE, by="test", label="sample")
        session.commit()


def test_before_an_import_the_days_say_so(svc: Svc) -> None:
    r = svc.client.get("/v1/town/garbage/areas")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "garbage_calendar_missing")


def test_an_areas_days_without_a_login(svc: Svc) -> None:
    _import(svc)
    areas = svc.client.get("/v1/town/garbage/areas").json()
    assert {"name": "中山", "center": "東部センター"} in areas
    r = svc.client.get("/v1/town/garbage/days",
                       params={"area": "中山", "from": "2026-12-01", "to": "2026-12-31"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [(d["date"], d["category"]) for d in r.json()] == NAKAYAMA_DECEMBER
    unknown = svc.client.get("/v1/town/garbage/days",
                             params={"area": "東京", "from": "2026-12-01", "to": "2026-12-31"})  # fmt: skip
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "garbage_area_unknown")
    too_long = svc.client.get("/v1/town/garbage/days",
                              params={"area": "中山", "from": "2026-01-01", "to": "2027-12-31"})  # fmt: skip
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (422, "invalid_input")
    what = svc.client.get("/v1/town/garbage/what", params={"q": "ぺっとぼとる"}).json()
    assert what
    assert what[0]["name"] == "ペットボトル"


def test_staff_see_which_calendar_is_in_force(svc: Svc) -> None:
    _import(svc)
    assert svc.client.get("/v1/town/garbage/calendar").status_code == 401
    info = svc.client.get("/v1/town/garbage/calendar", headers=svc.auth(svc.operator_token))
    assert info.status_code == 200
    assert (info.json()["label"], info.json()["areas"]) == ("sample", 13)


def test_the_cli_imports_prints_the_days_and_exports(embedded_cli: Path) -> None:
    tmp_path = embedded_cli
    runner = CliRunner()
    imported = runner.invoke(app, ["town", "garbage", "import", str(SAMPLE), "--format", "json"])
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["areas"] == 13
    args = ["town", "garbage", "days", "--area", "中山", "--from", "2026-12-01", "--to",
            "2026-12-31", "--format", "json"]  # fmt: skip
    days = runner.invoke(app, args)
    assert days.exit_code == 0, days.output
    assert [(d["date"], d["category"]) for d in json.loads(days.stdout)] == NAKAYAMA_DECEMBER
    from_folder = runner.invoke(app, [*args, "--dir", str(SAMPLE)])
    assert json.loads(from_folder.stdout) == json.loads(days.stdout)
    out = tmp_path / "export"
    out.mkdir()
    assert runner.invoke(app, ["town", "garbage", "export", str(out)]).exit_code == 0
    again = runner.invoke(app, ["town", "garbage", "days", "--area", "中山", "--from",
                                "2026-12-01", "--to", "2026-12-31", "--format", "json",
                                "--dir", str(out)])  # fmt: skip
    assert json.loads(again.stdout) == json.loads(days.stdout)  # exported: the same days
    bad = runner.invoke(app, ["town", "garbage", "days", "--area", "中山", "--from", "12/1",
                              "--to", "2026-12-31"])  # fmt: skip
    assert bad.exit_code == 2
    assert "[invalid_input]" in bad.output
    assert date(2026, 12, 31).isoformat() not in days.stdout  # the centre's closure
