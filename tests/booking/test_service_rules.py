"""An admin changes the service's rules from the console: in force at once in every worker
(through the dispatch log), bookings already made keep their promises, and the next turns do
not put the file's rules back."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import redis

from core.host import DispatchHost
from tests.booking.conftest import START, Svc
from tests.booking.test_meeting_points import admin
from tests.harness import IsolatedDatabase

pytestmark = pytest.mark.services


def window_s(svc: Svc, rider: str, minutes: int) -> int:
    body = {"origin": "KUR-010", "destination": "KUR-001", "passengers": {"adult": 1},
            "mode": "depart_at", "time": (START + timedelta(minutes=minutes)).isoformat()}  # fmt: skip
    offer = svc.client.post("/v1/quotes", json=body, headers=svc.auth(rider)).json()["offer"]
    start, end = (datetime.fromisoformat(offer[k]) for k in ("pickup_from", "pickup_to"))
    return int((end - start).total_seconds())


def rules(svc: Svc, head: dict[str, str]) -> dict[str, tuple[float, float]]:
    r = svc.client.get("/v1/operator/service-rules", headers=head)
    assert r.status_code == 200, r.text
    return {x["key"]: (x["value"], x["file_value"]) for x in r.json()["rules"]}


def test_a_wider_pickup_window_applies_at_once_and_stays(
    svc: Svc, db_schema: IsolatedDatabase, redis_client: redis.Redis, redis_prefix: str
) -> None:
    head = admin(svc)
    _, rider = svc.register()
    assert window_s(svc, rider, 60) == 600  # the file's 10 minutes
    r = svc.client.patch("/v1/operator/service-rules", json={"pickup_window_s": 900}, headers=head)
    assert r.status_code == 200, r.text
    assert rules(svc, head)["pickup_window_s"] == (900, 600)
    assert window_s(svc, rider, 90) == 900  # the next offer
    assert window_s(svc, rider, 120) == 900  # and the one after: not put back by the file
    other = svc.world.fork()  # another worker, the same database: no restart needed
    replica = DispatchHost(other, db_schema.sessionmaker(), redis_client, redis_prefix + "r:",
                           svc.clock)  # fmt: skip
    with replica.read() as view:
        assert view.params.pickup_window_s == 900
    log = svc.client.get("/v1/operator/audit", params={"action": "service.rules"}, headers=head)
    assert log.json()[0]["details"]["changes"] == {"pickup_window_s": [600, 900]}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"peak_bands": 5}, "peak_bands"), ({}, "rules"), ({"pickup_window_s": "wide"}, None),
     ({"promise_slack_s": 400}, "promise_slack_s"), ({"pickup_window_s": 0}, "pickup_window_s"),
     ({"ride_alpha": True}, None)],
)  # fmt: skip
def test_bad_rules_say_why_and_change_nothing(svc: Svc, body: dict, field: str | None) -> None:
    head = admin(svc)
    before = rules(svc, head)
    r = svc.client.patch("/v1/operator/service-rules", json=body, headers=head)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_input"), r.text
    assert r.json()["error"]["message_ja"]
    if field is not None:
        assert r.json()["error"]["details"]["field"] == field
    assert rules(svc, head) == before


def test_operators_read_the_rules_and_cannot_change_them(svc: Svc) -> None:
    op = svc.auth(svc.operator_token)
    assert rules(svc, op)["hold_ttl_s"][0] == svc.world.params.hold_ttl_s
    r = svc.client.patch("/v1/operator/service-rules", json={"hold_ttl_s": 600}, headers=op)
    assert r.status_code == 403
