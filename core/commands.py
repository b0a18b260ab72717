"""The dispatcher's log commands: one frozen dataclass per call, one codec to and from JSON.

The dispatcher is deterministic, so its state is the list of calls made to it. Each call a
writer makes is one of these commands; :func:`encode` turns it into the ``(op, payload)``
stored in ``dispatch_log`` and :func:`decode` turns a row back into the command, so a
replica replays exactly what the writer did. :meth:`Command.run` is the one place that maps
a command to a dispatcher method.

Vehicle positions are logged as road nodes, not place numbers: each process numbers the
places it adds itself (a GPS position becomes a new place), and the travel times between
nodes are the same everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Protocol, TypeVar, cast

from dispatch.engine import Booking, Dispatcher
from dispatch.model import (
    AtRisk,
    Break,
    Mode,
    MoveCheck,
    Offer,
    Rejection,
    TripRequest,
    VehicleSpec,
    Withdrawal,
)
from dispatch.params import ServiceParams
from routing.stops import MeetingPoint

R_co = TypeVar("R_co", covariant=True)


class Places(Protocol):
    """What a command needs of the world: the dispatcher place of a vehicle at a road node,
    and the meeting points, which change through the log too (see :class:`MeetingPointAdd`)."""

    def vehicle_place(self, d: Dispatcher, vehicle: str, node: int) -> int: ...

    def use_params(self, params: ServiceParams, data: dict[str, Any], source: str) -> None: ...

    def add_meeting_point(self, d: Dispatcher, point: MeetingPoint, node: int) -> int: ...

    def edit_meeting_point(
        self, stop_id: str, name: str, kana: str | None, short: str | None, kana_source: str | None
    ) -> None: ...

    def close_meeting_point(self, stop_id: str, closed: tuple[int, int, str] | None) -> None: ...


class Command(Protocol[R_co]):
    """One dispatcher call as data: its log name and how to run it."""

    op: ClassVar[str]

    def run(self, d: Dispatcher, places: Places, now_s: int) -> R_co: ...


@dataclass(frozen=True, slots=True)
class VehicleDay:
    """A van's service day joins the fleet (``van-1@2026-12-02``) and starts at its depot."""

    op: ClassVar[str] = "vehicle_day"
    id: str
    seats: int
    wheelchairs: int
    depot: int  # a meeting point's place (the same in every process)
    start: int
    end: int

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        spec = VehicleSpec(self.id, self.seats, self.wheelchairs, self.depot, self.start, self.end)
        d.add_vehicle(spec)
        d.start_shift(spec.id, spec.depot, spec.shift_start_s)


@dataclass(frozen=True, slots=True)
class StartShift:
    op: ClassVar[str] = "start_shift"
    vehicle: str
    node: int

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        d.start_shift(self.vehicle, places.vehicle_place(d, self.vehicle, self.node), now_s)


@dataclass(frozen=True, slots=True)
class VehicleAt:
    """The vehicle is free at this road node from ``available_s`` (a position, a stop, a delay)."""

    op: ClassVar[str] = "vehicle_at"
    vehicle: str
    node: int
    available_s: int
    locked: bool

    def run(self, d: Dispatcher, places: Places, now_s: int) -> list[AtRisk]:
        place = places.vehicle_place(d, self.vehicle, self.node)
        return d.update_vehicle(self.vehicle, place, self.available_s, now_s, locked=self.locked)


@dataclass(frozen=True, slots=True)
class EndShift:
    op: ClassVar[str] = "end_shift"
    vehicle: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        d.end_shift(self.vehicle)


@dataclass(frozen=True, slots=True)
class Expire:
    """Release every hold whose time is up."""

    op: ClassVar[str] = "expire"

    def run(self, d: Dispatcher, places: Places, now_s: int) -> list[Booking]:
        return d.expire(now_s)


@dataclass(frozen=True, slots=True)
class SetParams:
    """The service parameters from this point of the log on (a changed ``service.toml``, or
    an admin's change from the console).

    Logged so that a replay decides every earlier request with the parameters it was
    decided with, not with whatever the file says at the time of the replay."""

    op: ClassVar[str] = "set_params"
    params: dict[str, Any]
    source: str = "file"  # "admin": changed from the console (entries before: the file's)

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        params = ServiceParams.from_json(self.params)
        d.set_params(params)
        places.use_params(params, self.params, self.source)


@dataclass(frozen=True, slots=True)
class Retime:
    """Re-time the vehicles that have fallen behind their plans (see ``Dispatcher.retime``)."""

    op: ClassVar[str] = "retime"

    def run(self, d: Dispatcher, places: Places, now_s: int) -> list[AtRisk]:
        return d.retime(now_s)


@dataclass(frozen=True, slots=True)
class Quote:
    op: ClassVar[str] = "quote"
    request: TripRequest

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Offer | Rejection:
        return d.quote(self.request, now_s)


@dataclass(frozen=True, slots=True)
class Confirm:
    op: ClassVar[str] = "confirm"
    booking: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.confirm(self.booking, now_s)


@dataclass(frozen=True, slots=True)
class Cancel:
    op: ClassVar[str] = "cancel"
    booking: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.cancel(self.booking, now_s)


@dataclass(frozen=True, slots=True)
class Move:
    """An operator moves a confirmed booking to another vehicle (checked first)."""

    op: ClassVar[str] = "move"
    booking: str
    vehicle: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> MoveCheck:
        return d.move_to(self.booking, self.vehicle, now_s, apply=True)


@dataclass(frozen=True, slots=True)
class Protect:
    """An operator keeps a confirmed booking on its vehicle (``on``), or lets it move again."""

    op: ClassVar[str] = "protect"
    booking: str
    on: bool

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.protect(self.booking, self.on)


@dataclass(frozen=True, slots=True)
class AddBreak:
    """An operator plans a driver's break: it starts within ``[earliest, latest]`` at a
    meeting point's place (the same in every process) and lasts ``duration`` seconds."""

    op: ClassVar[str] = "add_break"
    vehicle: str
    earliest: int
    latest: int
    duration: int
    place: int

    def run(self, d: Dispatcher, places: Places, now_s: int) -> str:
        return d.add_break(
            self.vehicle, Break(self.earliest, self.latest, self.duration, self.place), now_s
        )


@dataclass(frozen=True, slots=True)
class TakeBreak:
    """The driver starts the planned break that is next on the plan."""

    op: ClassVar[str] = "take_break"
    vehicle: str
    break_id: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Break:
        return d.take_break(self.vehicle, self.break_id, now_s)


@dataclass(frozen=True, slots=True)
class Withdraw:
    """An operator takes a vehicle out of service (its riders re-planned where they fit)."""

    op: ClassVar[str] = "withdraw"
    vehicle: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Withdrawal:
        return d.withdraw(self.vehicle, now_s)


@dataclass(frozen=True, slots=True)
class Board:
    op: ClassVar[str] = "board"
    booking: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.board(self.booking, now_s)


@dataclass(frozen=True, slots=True)
class Alight:
    op: ClassVar[str] = "alight"
    booking: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.alight(self.booking, now_s)


@dataclass(frozen=True, slots=True)
class NoShow:
    """The rider did not come: at the vehicle's stop (the tablet) or ``reported`` by an
    operator for the driver."""

    op: ClassVar[str] = "no_show"
    booking: str
    reported: bool = False  # absent from log rows written before operators could record it

    def run(self, d: Dispatcher, places: Places, now_s: int) -> Booking:
        return d.no_show(self.booking, now_s, reported=self.reported)


@dataclass(frozen=True, slots=True)
class MeetingPointAdd:
    """An admin adds a meeting point. Logged, so every process adds it at the same point of
    its history (the same place number everywhere) without a restart."""

    op: ClassVar[str] = "meeting_point_add"
    id: str
    name: str
    kana: str | None
    lat: float
    lon: float
    node: int
    short_name: str | None = None  # absent from rows logged before short names and
    kana_source: str | None = None  # machine readings (2026-12-04)

    def run(self, d: Dispatcher, places: Places, now_s: int) -> int:
        point = MeetingPoint(self.id, self.name, "manual", self.lat, self.lon, kana=self.kana,
                             short_name=self.short_name, kana_source=self.kana_source)  # fmt: skip
        return places.add_meeting_point(d, point, self.node)


@dataclass(frozen=True, slots=True)
class MeetingPointEdit:
    """An admin renames a meeting point, sets its short name, or sets (or confirms) its kana."""

    op: ClassVar[str] = "meeting_point_edit"
    id: str
    name: str
    kana: str | None
    short_name: str | None = None  # None: keep (rows logged before 2026-12-04 have none)
    kana_source: str | None = None  # None: keep

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        places.edit_meeting_point(self.id, self.name, self.kana, self.short_name, self.kana_source)


@dataclass(frozen=True, slots=True)
class MeetingPointClose:
    """An admin closes a meeting point for a time (road works), or opens it (``until`` 0)."""

    op: ClassVar[str] = "meeting_point_close"
    id: str
    since: int
    until: int
    note: str

    def run(self, d: Dispatcher, places: Places, now_s: int) -> None:
        closed = (self.since, self.until, self.note) if self.until > self.since else None
        places.close_meeting_point(self.id, closed)


AnyCommand = (
    VehicleDay | StartShift | VehicleAt | EndShift | Expire | SetParams | Retime | Quote
    | Confirm | Cancel | Move | Protect | AddBreak | TakeBreak | Withdraw | Board | Alight
    | NoShow | MeetingPointAdd | MeetingPointEdit | MeetingPointClose
)  # fmt: skip
COMMANDS: dict[str, type[AnyCommand]] = {
    c.op: c
    for c in (
        VehicleDay, StartShift, VehicleAt, EndShift, Expire, SetParams, Retime, Quote,
        Confirm, Cancel, Move, Protect, AddBreak, TakeBreak, Withdraw, Board, Alight, NoShow,
        MeetingPointAdd, MeetingPointEdit, MeetingPointClose,
    )
}  # fmt: skip


class UnknownCommand(ValueError):
    """A log row whose op this code does not know (a log written by a newer version)."""


def request_payload(r: TripRequest) -> dict[str, Any]:
    """A trip request as the log's JSON (the audit log shows it with meeting-point ids)."""
    return {
        "id": r.id,
        "origin": r.origin,
        "destination": r.destination,
        "mode": str(r.mode),
        "time_s": r.time_s,
        "seats": r.seats,
        "wheelchairs": r.wheelchairs,
        "channel": r.channel,
        "fare_counts": [list(x) for x in r.fare_counts],
    }


def _request(p: dict[str, Any]) -> TripRequest:
    return TripRequest(
        id=str(p["id"]),
        origin=int(p["origin"]),
        destination=int(p["destination"]),
        mode=Mode(p["mode"]),
        time_s=None if p["time_s"] is None else int(p["time_s"]),
        seats=int(p["seats"]),
        wheelchairs=int(p["wheelchairs"]),
        channel=str(p["channel"]),
        fare_counts=tuple((str(c), int(n)) for c, n in p["fare_counts"]),
    )


def encode(cmd: Command[Any]) -> tuple[str, dict[str, Any]]:
    """``(op, payload)`` for the log; the payload is plain JSON."""
    if COMMANDS.get(getattr(cmd, "op", "")) is not type(cmd):
        raise UnknownCommand(f"{type(cmd).__name__} is not a dispatch log command")
    if isinstance(cmd, Quote):
        return cmd.op, request_payload(cmd.request)
    return cmd.op, asdict(cast(Any, cmd))


def decode(op: str, payload: dict[str, Any]) -> AnyCommand:
    """The command a log row records (the inverse of :func:`encode`)."""
    cls = COMMANDS.get(op)
    if cls is None:
        raise UnknownCommand(f"unknown dispatch log op {op!r}")
    if cls is Quote:
        return Quote(_request(payload))
    return cls(**payload)
