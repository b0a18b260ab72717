"""Meeting points administered from the console: added, renamed, closed for road works and
opened again through the dispatch log, so another process sees them without a restart."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from core.host import DispatchHost
from core.snapshots import capture, fingerprint, restore
from core.world import World
from residents.service import create_staff
from routing.stops import save_stops
from tests.booking.conftest import START, Svc
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services

NEW = {
    "name": "古門公民館前",
    "kana": "ふるかど こうみんかん まえ",
    "lat": 33.7897,
    "lon": 130.6866,
}


def admin(svc: Svc) -> dict[str, str]:
    with svc.db.sessionmaker()() as s:
        create_staff(s, "chief", "chief-pass-long", "admin", "所長")
        s.commit()
    r = svc.client.post("/v1/auth/token", data={"username": "chief", "password": "chief-pass-long"})
    return svc.auth(r.json()["access_token"])


def quote(svc: Svc, origin: str, minutes: int = 60) -> dict:
    _, rider = svc.register()
    body = {"origin": origin, "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(minutes=minutes)).isoformat()}  # fmt: skip
    r = svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider))
    assert r.status_code == 200, r.text
    return dict(r.json())


def booked_from_010(svc: Svc) -> tuple[str, dict, dict]:
    """A rider booked from KUR-010 at 12:00: (the rider's token, the quote body, the booking)."""
    _, rider = svc.register()
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(hours=2)).isoformat()}  # fmt: skip
    q = svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider)).json()
    b = svc.client.post(
        "/v1/bookings",
        json={"quote_id": q["offer"]["quote_id"]},
        headers=svc.auth(rider, **{"Idempotency-Key": q["offer"]["quote_id"]}),
    )
    assert b.status_code == 201, b.text
    return rider, body, dict(b.json())


def test_an_added_meeting_point_takes_bookings_at_once_and_a_replica_knows_it(
    svc: Svc, db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str
) -> None:
    head = admin(svc)
    r = svc.client.post("/v1/operator/meeting-points", json=NEW, headers=head)
    assert r.status_code == 201, r.text
    point = r.json()
    expected_id = svc.world.stops.new_id()  # the next id of the shipped file (KUR-181)
    assert (point["id"], point["kana"], point["kind"]) == (
        expected_id,
        "フルカド コウミンカン マエ",
        "manual",
    )
    again = svc.client.post("/v1/operator/meeting-points", json=NEW, headers=head)
    assert (again.status_code, again.json()["id"]) == (200, expected_id)  # a retry: the same
    ids = [p["id"] for p in svc.client.get("/v1/meeting-points", headers=head).json()]
    assert ids.count(expected_id) == 1
    q = quote(svc, expected_id)
    assert q["offer"]["origin"]["name"] == "古門公民館前"  # an offer from it at once
    assert expected_id not in [p.id for p in svc.world.stops.points]  # the shipped world: as it was
    # another process: its own world, the same database; it reads the log, no restart
    other = svc.world.fork()
    replica = DispatchHost(other, db_schema.sessionmaker(), redis_client, redis_prefix + "r:",
                           svc.clock)  # fmt: skip
    with replica.read():
        assert other.stops.get(expected_id).name == "古門公民館前"
        live = svc.client.app.state.host.world  # type: ignore[attr-defined]
        assert other.place_of(expected_id) == live.place_of(expected_id)  # the same place
    blob = capture(replica._dispatcher, other)  # a snapshot carries it too
    fresh = svc.world.fork()
    restore(fresh, blob)
    assert fresh.stops.get(expected_id).kana == "フルカド コウミンカン マエ"
    assert fresh.place_of(expected_id) == other.place_of(expected_id)


def test_a_meeting_point_closed_for_road_works_is_refused_with_one_nearby(svc: Svc) -> None:
    head = admin(svc)
    rider, body, b = booked_from_010(svc)
    closure = {"closed_from": START.isoformat(), "closed_to": (START + timedelta(days=1)).isoformat(),
               "closed_note": "道路工事"}  # fmt: skip
    r = svc.client.patch("/v1/operator/meeting-points/KUR-010", json=closure, headers=head)
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["point"]["closed_note"] == "道路工事"
    assert [a["booking_id"] for a in changed["affected"]] == [b["id"]]  # to be called
    refused = svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider))
    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (422, "meeting_point_closed")
    assert "道路工事" in error["message_ja"]
    assert "近くの「" in error["message_ja"]  # where to go instead
    later = {**body, "time": (START + timedelta(days=1, hours=1)).isoformat()}
    assert svc.client.post("/v1/quotes", json=later, headers=svc.auth(rider)).status_code == 200
    r = svc.client.patch("/v1/operator/meeting-points/KUR-010", json={"reopen": True}, headers=head)
    assert r.json()["point"]["closed_from"] is None
    assert svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider)).status_code == 200
    log = svc.client.get("/v1/operator/audit", params={"action": "meeting_point.change"},
                         headers=head).json()  # fmt: skip
    assert [e["details"].get("reopened", False) for e in log] == [True, False]


def test_a_renamed_meeting_point_reads_so_everywhere(svc: Svc) -> None:
    head = admin(svc)
    rider, _, b = booked_from_010(svc)
    r = svc.client.patch("/v1/operator/meeting-points/KUR-010",
                         json={"name": "新しい名前の乗降所", "kana": "あたらしい"}, headers=head)  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["point"]["name"], r.json()["point"]["kana"]) == (
        "新しい名前の乗降所",
        "アタラシイ",
    )
    mine = svc.client.get(f"/v1/bookings/{b['id']}", headers=svc.auth(rider)).json()
    assert mine["origin"]["name"] == "新しい名前の乗降所"  # the rider's booking reads it so
    taken = svc.client.patch("/v1/operator/meeting-points/KUR-010",
                             json={"name": svc.world.stops.get("KUR-001").name}, headers=head)  # fmt: skip
    assert (taken.status_code, taken.json()["error"]["code"]) == (422, "meeting_point_invalid")


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [("", {**NEW, "lat": 35.0, "lon": 135.0}, 422, "outside_service_area"),
     ("", {**NEW, "lat": "north"}, 422, "invalid_input"),
     ("", {**NEW, "name": ""}, 422, "invalid_input"),
     ("", {**NEW, "short_name": "十七文字の名前はボタンに入りきらないのです"}, 422, "invalid_input"),
     ("/KUR-010", {"short_name": ""}, 422, "invalid_input"),
     ("/KUR-999", {"name": "どこか"}, 404, "meeting_point_not_found"),
     ("/KUR-010", {"closed_from": "2026-12-04T10:00:00+09:00"}, 422, "invalid_input"),
     ("/KUR-010", {"closed_from": "2026-12-05T10:00:00+09:00",
                   "closed_to": "2026-12-04T10:00:00+09:00"}, 422, "invalid_input"),
     ("/KUR-010", {"reopen": True, "closed_from": "2026-12-04T10:00:00+09:00",
                   "closed_to": "2026-12-05T10:00:00+09:00"}, 422, "invalid_input")],
)  # fmt: skip
def test_bad_meeting_point_changes_say_why_and_change_nothing(
    svc: Svc, path: str, body: dict, status: int, code: str
) -> None:
    head = admin(svc)
    before = svc.client.get("/v1/operator/meeting-points", headers=head).json()
    method = svc.client.post if not path else svc.client.patch
    r = method(f"/v1/operator/meeting-points{path}", json=body, headers=head)
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert r.json()["error"]["message_ja"]
    assert svc.client.get("/v1/operator/meeting-points", headers=head).json() == before


def test_a_point_without_a_reading_is_read_by_machine_until_staff_confirm_it(svc: Svc) -> None:
    head = admin(svc)
    body = {"name": "古門・古月小学校の東", "lat": 33.7897, "lon": 130.6866}
    r = svc.client.post("/v1/operator/meeting-points", json=body, headers=head)
    assert r.status_code == 201, r.text
    point = r.json()
    assert (point["kana"], point["kana_source"]) == (
        "フルモン・フルツキショウガッコウノヒガシ",
        "machine",
    )
    assert point["short_name"] == "古門・古月小学校の東"
    pid = point["id"]
    ok = svc.client.patch(f"/v1/operator/meeting-points/{pid}", json={"kana": point["kana"]},
                          headers=head).json()["point"]  # fmt: skip
    assert (ok["kana"], ok["kana_source"]) == (point["kana"], "staff")  # the same one: confirmed
    short = svc.client.patch(f"/v1/operator/meeting-points/{pid}", json={"short_name": "古月小東"},
                             headers=head).json()["point"]  # fmt: skip
    assert (short["short_name"], short["kana_source"]) == ("古月小東", "staff")
    renamed = svc.client.patch(f"/v1/operator/meeting-points/{pid}",
                               json={"name": "古門・長谷の入口"}, headers=head).json()["point"]  # fmt: skip
    # a new name is read again by machine, and gets a short name of its own
    assert (renamed["kana"], renamed["kana_source"]) == ("フルモン・ハセノイリグチ", "machine")
    assert renamed["short_name"] == "古門・長谷の入口"
    riders = svc.client.get(
        "/v1/meeting-points", params={"q": "はせのいりぐち"}, headers=head
    ).json()
    assert pid in [p["id"] for p in riders]  # found by the machine reading


def test_operators_and_the_guide_search_as_line_does(svc: Svc) -> None:
    op = svc.auth(svc.operator_token)
    found = svc.client.get("/v1/operator/meeting-points", params={"q": "きづき"}, headers=op)
    assert found.status_code == 200
    names = [p["name"] for p in found.json()]
    assert names
    assert all("木月" in n for n in names[:3])
    by_number = svc.client.get("/v1/operator/meeting-points", params={"q": "１２"}, headers=op)
    assert by_number.json()[0]["id"] == "KUR-012"
    public = svc.client.get("/v1/guide/meeting-points", params={"q": "鞍手町立病因"})  # no login
    assert public.status_code == 200
    assert public.json()[0] == next(
        p.id for p in svc.world.stops.points if p.name == "鞍手町立病院"
    )
    assert svc.client.get("/v1/guide/meeting-points", params={"q": ""}).status_code == 422
    bad = svc.client.get("/v1/guide/meeting-points", params={"q": "x" * 41})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_input")


def test_a_snapshot_taken_before_the_file_was_renamed_is_not_restored(
    world: World, tmp_path: Path
) -> None:
    """A snapshot carries the meeting points as the log left them: restored after a release
    that renamed points in the file, it would bring the old names back."""
    before = fingerprint(world)
    renamed = tmp_path / "meeting_points.geojson"
    stops = world.stops.with_renamed("KUR-010", "新しい名前", None)
    save_stops(stops, renamed)
    moved = dataclasses.replace(world, area=dataclasses.replace(world.area, meeting_points=renamed))
    assert fingerprint(moved) != before


def test_operators_see_the_meeting_points_but_do_not_change_them(svc: Svc) -> None:
    op = svc.auth(svc.operator_token)
    listed = svc.client.get("/v1/operator/meeting-points", headers=op)
    assert listed.status_code == 200
    assert len(listed.json()) == len(svc.world.stops.points)
    assert svc.client.post("/v1/operator/meeting-points", json=NEW, headers=op).status_code == 403
    r = svc.client.patch("/v1/operator/meeting-points/KUR-010", json={"name": "x"}, headers=op)
    assert r.status_code == 403


def test_the_shipped_world_is_not_changed_by_an_app(world: World) -> None:
    fork = world.fork()
    assert fork.places is not world.places
    assert fork.stop_places == world.stop_places
    assert fork.stop_places is not world.stop_places
