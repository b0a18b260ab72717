"""`drt serve` refuses the demo's published secrets and accounts, and weak new ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from common.db import make_engine, make_sessionmaker
from common.errors import DrtError
from common.settings import load_settings
from driver_app_api.service import check_pin
from drt.cli import app
from line_channel.demo import DEMO_SECRET, DEMO_TOKEN
from residents.service import check_password, create_staff
from server.migrate import upgrade
from server.seed import demo_leftovers, seed_demo
from tests.harness import IsolatedDatabase

runner = CliRunner()


@pytest.mark.services
def test_the_demo_leaves_four_things_a_real_deployment_must_not_have(
    db_schema: IsolatedDatabase,
) -> None:
    upgrade(db_schema.engine)
    settings = load_settings(line_channel_secret=DEMO_SECRET, line_channel_access_token=DEMO_TOKEN)
    with db_schema.sessionmaker()() as session:
        assert demo_leftovers(load_settings(), session) == []
        create_staff(session, "admin", "a-long-admin-password", "admin")  # a real admin
        assert demo_leftovers(load_settings(), session) == []
        session.commit()
    with db_schema.sessionmaker()() as session:
        seed_demo(session)
        problems = demo_leftovers(settings, session)
    assert len(problems) == 4  # LINE secrets, the demo operator, the demo tablet, the demo driver
    assert any("LINE" in p for p in problems)
    assert any("'operator'" in p for p in problems)
    assert not any("'admin'" in p for p in problems)  # its own password, not the demo's


def test_drt_serve_exits_with_the_demo_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph_dir: Path, world: object
) -> None:
    url = f"sqlite:///{tmp_path / 'drt.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        seed_demo(session)
        session.commit()
    engine.dispose()
    monkeypatch.setenv("DRT_DATABASE_URL", url)
    monkeypatch.setenv("DRT_CACHE_DIR", str(graph_dir))  # the graph the session built
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "demo password" in result.output
    assert "DRT_SURVEY_KEY is empty" in result.output  # and no survey key of its own


@pytest.mark.parametrize(("password", "role"), [("a", "admin"), ("aaaaaaaaaaaaaaa", "admin"),
                                               ("short-pw", "operator")])  # fmt: skip
def test_weak_staff_passwords_are_refused(password: str, role: str) -> None:
    with pytest.raises(DrtError) as caught:
        check_password(password, role)
    assert caught.value.code == "weak_secret"


def test_a_good_password_passes() -> None:
    check_password("kurate-bus-2026-office", "admin")


@pytest.mark.parametrize("pin", ["1", "111", "0000", "1234", "9876", "12a4", "123456789"])
def test_weak_driver_pins_are_refused(pin: str) -> None:
    with pytest.raises(DrtError):
        check_pin(pin)


def test_a_good_pin_passes() -> None:
    check_pin("4821")
    check_pin("４８２１")  # full-width digits from a Japanese IME are the same PIN
