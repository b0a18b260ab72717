"""The dispatch log's typed commands: every command survives the log's JSON unchanged, and
the view readers get cannot change the dispatcher."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from core.commands import (
    COMMANDS,
    AddBreak,
    Alight,
    AnyCommand,
    Board,
    Cancel,
    Confirm,
    EndShift,
    Expire,
    MeetingPointAdd,
    MeetingPointClose,
    MeetingPointEdit,
    Move,
    NoShow,
    Protect,
    Quote,
    Retime,
    SetParams,
    StartShift,
    TakeBreak,
    UnknownCommand,
    VehicleAt,
    VehicleDay,
    Withdraw,
    decode,
    encode,
)
from dispatch.engine import Dispatcher
from dispatch.model import Mode, Offer, TripRequest, VehicleSpec
from dispatch.params import ServiceParams
from dispatch.view import DispatchView

EXAMPLES: list[AnyCommand] = [
    VehicleDay("van-1@2026-12-02", 8, 1, 3, 1_764_630_000, 1_764_673_200),
    StartShift("van-1@2026-12-02", 123_456),
    VehicleAt("van-1@2026-12-02", 123_456, 1_764_640_000, locked=True),
    EndShift("van-1@2026-12-02"),
    Expire(),
    Retime(),
    SetParams(ServiceParams(promise_slack_s=240, asap_wait_stages_s=(300, 600)).to_json()),
    Quote(
        TripRequest(
            "r1", 3, 7, Mode.DEPART_AT, 1_764_640_000, 2, 1, "line", (("adult", 2), ("child", 1))
        )
    ),
    Quote(TripRequest("r2", 4, 9, Mode.ASAP, None, 1)),
    Confirm("r1#1"),
    Cancel("r1#1"),
    SetParams(ServiceParams(pickup_window_s=900).to_json(), source="admin"),
    Move("r1#1", "van-2@2026-12-02"),
    Protect("r1#1", True),
    AddBreak("van-1@2026-12-02", 1_764_640_000, 1_764_643_600, 1800, 3),
    TakeBreak("van-1@2026-12-02", "break:van-1@2026-12-02:0"),
    Withdraw("van-1@2026-12-02"),
    Board("r1#1"),
    Alight("r1#1"),
    NoShow("r1#1"),
    NoShow("r1#1", reported=True),
    MeetingPointAdd("KUR-181", "古門公民館前", "フルカド", 33.79, 130.68, 123_456),
    MeetingPointAdd(
        "KUR-182", "古門集会所", "フルモンシュウカイジョ", 33.79, 130.68, 7, "古門集会所", "machine"
    ),
    MeetingPointEdit("KUR-010", "新しい名前", None),
    MeetingPointEdit("KUR-010", "新しい名前", "アタラシイナマエ", "新しい名前", "staff"),
    MeetingPointClose("KUR-010", 1_764_640_000, 1_764_726_400, "道路工事"),
]


def test_every_command_has_an_example() -> None:
    assert {type(c) for c in EXAMPLES} == set(COMMANDS.values())


@pytest.mark.parametrize("cmd", EXAMPLES, ids=lambda c: type(c).__name__)
def test_round_trip_through_the_logs_json(cmd: AnyCommand) -> None:
    op, payload = encode(cmd)
    stored = json.loads(json.dumps(payload))  # what the database's JSON column gives back
    assert decode(op, stored) == cmd


def test_the_log_format_is_the_one_already_stored() -> None:
    """Entries written before the commands were typed replay unchanged."""
    assert encode(VehicleAt("v", 5, 10, locked=False)) == (
        "vehicle_at", {"vehicle": "v", "node": 5, "available_s": 10, "locked": False},
    )  # fmt: skip
    assert encode(Confirm("b")) == ("confirm", {"booking": "b"})
    assert encode(Expire()) == ("expire", {})


def test_meeting_point_rows_logged_before_short_names_replay() -> None:
    """Rows written before 2026-12-04 have no short name nor who read the name."""
    old = {"id": "KUR-010", "name": "新しい名前", "kana": None}
    assert decode("meeting_point_edit", old) == MeetingPointEdit("KUR-010", "新しい名前", None)
    added = decode("meeting_point_add", {"id": "KUR-181", "name": "前", "kana": None,
                                         "lat": 33.79, "lon": 130.68, "node": 1})  # fmt: skip
    assert isinstance(added, MeetingPointAdd)
    assert added.short_name is None


def test_unknown_ops_and_foreign_objects_are_refused() -> None:
    with pytest.raises(UnknownCommand):
        decode("teleport", {})
    with pytest.raises(UnknownCommand):
        encode(dataclasses.make_dataclass("Fake", [])())  # type: ignore[arg-type]


def _dispatcher() -> tuple[Dispatcher, Offer]:
    tt = np.array([[0, 300, 600], [300, 0, 300], [600, 300, 0]], dtype=np.int64)
    d = Dispatcher(ServiceParams(), tt)
    d.add_vehicle(VehicleSpec("v1", 4, 0, 0, 0, 36_000))
    d.start_shift("v1", 0, 0)
    offer = d.quote(TripRequest("r", 1, 2, Mode.DEPART_AT, 3_600, 1), 0)
    assert isinstance(offer, Offer)
    return d, offer


def test_the_view_hands_out_frozen_copies() -> None:
    d, offer = _dispatcher()
    view = DispatchView(d)
    live = view.booking(offer.booking_id)
    vehicle = view.vehicle("v1")
    assert live is not None
    assert vehicle is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        live.vehicle_id = "v2"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vehicle.available_s = 99  # type: ignore[misc]
    plan = view.plan("v1")
    plan.clear()  # a reader's list is its own
    assert [ps.booking_id for ps in view.plan("v1")] == [offer.booking_id] * 2
    assert d.bookings[offer.booking_id].vehicle_id == "v1"
    assert view.assignments() == {offer.booking_id: "v1"}
    assert not hasattr(view, "quote")
    assert not hasattr(view, "confirm")


def test_set_params_gives_the_dispatcher_the_logged_parameters() -> None:
    logged = ServiceParams(promise_slack_s=240, asap_wait_stages_s=(300, 600), stop_overhead_s=45)
    assert ServiceParams.from_json(json.loads(json.dumps(logged.to_json()))) == logged
    d = Dispatcher(ServiceParams(), np.full((3, 3), 60) - 60 * np.eye(3, dtype=np.int64))
    op, payload = encode(SetParams(logged.to_json()))
    seen: list[tuple[ServiceParams, str]] = []

    class Places:  # what the world is told: the rules in force, and from where
        def use_params(self, params: ServiceParams, data: dict, source: str) -> None:
            seen.append((params, source))

    decode(op, json.loads(json.dumps(payload))).run(d, Places(), 0)  # type: ignore[arg-type]
    assert d.params == logged
    assert seen == [(logged, "file")]  # entries before admins could change rules: the file's
    assert d._tt_eff[0, 1] == 60 + 45  # the planning matrix has the new stop overhead
