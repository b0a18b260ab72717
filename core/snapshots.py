"""Snapshots of a replica: the dispatcher's state at a log sequence, so a start-up replays
only the log entries after it instead of the whole log.

The log stays the truth. A snapshot is a cache of what replaying the log up to ``seq``
gives, and is used only where it is exactly that:

- :func:`capture` takes the dispatcher's state (``STATE``: the service parameters in force,
  fleet, bookings, plans, breaks, the plan arrays it caches, its counter) and the vehicles' moving places of the world's
  :class:`routing.places.PlaceMatrix` (key, place number, road node);
- :func:`restore` rebuilds both in a world: the moving places first, in place-number order
  (a replay creates them in that order too, so each gets the number it had), then a new
  dispatcher with that state. A world whose places do not line up (it numbered a place
  differently) raises :class:`SnapshotMismatch`, and the caller replays the whole log;
- :func:`fingerprint` names what a snapshot depends on: this format, the area, the road
  nodes of the fixed places (place numbers must mean the same places) and the *shape* of the
  state (the fields of every data class and the members of every enum in ``dispatch.state``,
  ``dispatch.model`` and ``dispatch.params``). A snapshot is read only by a process with the
  same fingerprint: moved meeting points or a release that changes the state's shape replay
  the whole log once and write new snapshots. New service parameters (logged by the next
  turn, ``SetParams``), new travel times or a release that only changes how the dispatcher
  decides keep them: a snapshot holds what was decided (the plans riders were told), which a
  replay under other rules might decide differently.

``tests/booking/test_snapshots.py`` checks that snapshot + the rest of the log gives the
same dispatcher as the whole log, on logs with quotes, confirmations, cancellations, GPS
positions off the meeting points and expired holds.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import importlib
import io
import pickle
import zlib
from functools import cache
from typing import Any

from core.world import World
from dispatch.engine import Dispatcher
from routing.config import file_sha256
from routing.stops import MeetingPoint, MeetingPointSet

FORMAT = 3  # 3: the file parameters last logged; 2: the places grown since start (meeting points too) and the meeting points
STATE = ("params", "vehicles", "bookings", "plans", "breaks", "_blocks", "_counter")
DERIVED = ("_nearby", "_tt", "_tt_eff", "_band_pcts")  # from the world (set by restore)
_SHAPED = ("dispatch.state", "dispatch.model", "dispatch.params")  # the state's classes


class SnapshotMismatch(Exception):
    """The snapshot cannot stand for the log in this world (replay the whole log instead)."""


# What a numpy array or scalar unpickles through; nothing else outside ``dispatch``.
_NUMPY = {
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
}  # fmt: skip


class _Unpickler(pickle.Unpickler):
    """Only the dispatcher's own data classes and enums, and numpy arrays: a blob naming any
    other global (a function to call, say) is refused, never run."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY:
            return super().find_class(module, name)
        if module == "dispatch" or module.startswith("dispatch."):
            found = getattr(importlib.import_module(module), name, None)
            if isinstance(found, type) and (
                dataclasses.is_dataclass(found) or issubclass(found, enum.Enum)
            ):
                return found
        raise SnapshotMismatch(f"a snapshot may not name {module}.{name}")


@cache
def state_shape() -> str:
    """The fields of the state's data classes and the members of its enums, as text."""
    lines = [f"STATE {STATE}"]
    for name in _SHAPED:
        module = importlib.import_module(name)
        for attr, obj in sorted(vars(module).items()):
            if not isinstance(obj, type) or obj.__module__ != name:
                continue
            if dataclasses.is_dataclass(obj):
                fields = [(f.name, str(f.type)) for f in dataclasses.fields(obj)]
                lines.append(f"{name}.{attr} {fields}")
            elif issubclass(obj, enum.Enum):
                lines.append(f"{name}.{attr} {[(m.name, m.value) for m in obj]}")
    return "\n".join(lines)


def fingerprint(world: World) -> str:
    """What a snapshot of this world's replica depends on (a hex digest)."""
    n = world.base_places  # the places a world starts with: 0 … n-1
    h = hashlib.sha256()
    h.update(f"{FORMAT}|{world.key}|{world.places.nodes[:n]}|".encode())
    h.update(state_shape().encode())
    # The file's names and readings: a snapshot carries the meeting points as the log left
    # them, so one taken before the file changed would bring the old names back.
    h.update(file_sha256(world.area.meeting_points).encode())
    return h.hexdigest()[:32]


def capture(d: Dispatcher, world: World) -> bytes:
    """The dispatcher's state, the places the world grew (vehicles' moving places, meeting
    points added) and its meeting points as the log left them, compressed."""
    fields = set(vars(d)) if hasattr(d, "__dict__") else set()
    unknown = fields - set(STATE) - set(DERIVED)
    if unknown:  # state a snapshot would not carry: refuse rather than restore less
        raise SnapshotMismatch(f"dispatcher fields a snapshot does not know: {sorted(unknown)}")
    places = world.places
    key_of = {place: key for key, place in places.slots.items()}
    grown = [(place, key_of.get(place), places.nodes[place])  # a vehicle's, or a meeting point's
             for place in range(world.base_places, len(places.nodes))]  # fmt: skip
    stops = world.stops
    body: dict[str, Any] = {
        "format": FORMAT,
        "state": {name: getattr(d, name) for name in STATE},
        "grown": grown,
        "stops": (
            stops.prefix,
            stops.next_id,
            [
                (
                    p.id,
                    p.name,
                    p.kind,
                    p.lat,
                    p.lon,
                    p.kana,
                    p.district,
                    p.source,
                    p.short_name,
                    p.kana_source,
                )
                for p in stops.points
            ],
        ),
        "stop_places": list(world.stop_places),
        "closures": dict(world.closures),
        "logged_file_params": world.logged_file_params,
    }
    return zlib.compress(pickle.dumps(body, protocol=pickle.HIGHEST_PROTOCOL), 1)


def restore(world: World, blob: bytes) -> Dispatcher:
    """A dispatcher with the captured state, in ``world`` with the captured moving places.

    The blob is a pickle read by :class:`_Unpickler`: data classes and enums of
    ``dispatch`` and numpy arrays only."""
    try:
        body = _Unpickler(io.BytesIO(zlib.decompress(blob))).load()
    except SnapshotMismatch:
        raise
    except Exception as exc:
        raise SnapshotMismatch(f"not a snapshot: {exc}") from exc
    if body.get("format") != FORMAT:
        raise SnapshotMismatch(f"snapshot format {body.get('format')}, this code reads {FORMAT}")
    for place, key, node in body["grown"]:
        got = world.places.index(node) if key is None else world.places.slot(key, node)
        if got != place:
            raise SnapshotMismatch(f"place of {key or node} is {got} here, {place} in the snapshot")
    prefix, next_id, points = body["stops"]
    world.stops = MeetingPointSet(prefix, tuple(MeetingPoint(*p) for p in points), next_id)
    world.stop_places = list(body["stop_places"])
    world.closures = dict(body["closures"])
    world.logged_file_params = body["logged_file_params"]
    d = world.new_dispatcher()
    for name, value in body["state"].items():
        setattr(d, name, value)
    world.params = d.params  # in force: the file's or an admin's, as the log left them
    d.set_travel(world.places.duration_s)  # after the parameters: their peak bands shape it
    return d
