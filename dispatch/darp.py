"""Published dial-a-ride benchmark instances (Cordeau 2006, Ropke et al. 2007, Cordeau & Laporte 2003).

Reads the 'a', 'b' (Cordeau format: ``K n T Q L`` then nodes 0..2n+1) and 'pr' files (``K 2n T
Q L`` then nodes 0..2n, no end depot) into a :class:`DarpInstance`, and turns one into a
:class:`~dispatch.problem.Problem` for the solver. Travel time and cost are the Euclidean
distance in double precision, as the benchmark defines them.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import DrtError
from dispatch.kernels import DROPOFF, END, PICKUP, START, Floats
from dispatch.problem import Problem


class InstanceError(DrtError):
    code = "darp_instance_invalid"


@dataclass(frozen=True, slots=True)
class DarpNode:
    id: int
    x: float
    y: float
    service: float
    load: int
    early: float
    late: float


@dataclass(frozen=True, slots=True)
class DarpInstance:
    """Nodes 0 (start depot), 1..n pickups, n+1..2n drop-offs, 2n+1 (end depot)."""

    name: str
    vehicles: int
    requests: int
    max_duration: float
    capacity: int
    max_ride: float
    nodes: tuple[DarpNode, ...]

    def distance(self, i: int, j: int) -> float:
        a, b = self.nodes[i], self.nodes[j]
        return math.hypot(a.x - b.x, a.y - b.y)

    def matrix(self) -> Floats:
        xy = np.array([(nd.x, nd.y) for nd in self.nodes])
        diff = xy[:, None, :] - xy[None, :, :]
        out: Floats = np.sqrt((diff**2).sum(axis=2))
        return out

    def to_problem(self) -> Problem:
        """Stops are the node ids; every vehicle starts at node 0 and ends at node 2n+1."""
        n = self.requests
        count = 2 * n + 2
        kind = np.full(count, PICKUP, dtype=np.int64)
        kind[n + 1 : 2 * n + 1] = DROPOFF
        kind[0], kind[count - 1] = START, END
        partner = np.full(count, -1, dtype=np.int64)
        partner[1 : n + 1] = np.arange(n + 1, 2 * n + 1)
        partner[n + 1 : 2 * n + 1] = np.arange(1, n + 1)
        maxride = np.full(count, np.inf)
        maxride[n + 1 : 2 * n + 1] = self.max_ride
        tt = self.matrix()
        k = self.vehicles
        return Problem(
            loc=np.arange(count, dtype=np.int64),
            early=np.array([nd.early for nd in self.nodes]),
            late=np.array([nd.late for nd in self.nodes]),
            svc=np.array([nd.service for nd in self.nodes]),
            dq=np.array([nd.load for nd in self.nodes], dtype=np.int64),
            dw=np.zeros(count, dtype=np.int64),
            kind=kind,
            partner=partner,
            maxride=maxride,
            ride_from=np.zeros(count),
            tt=tt,
            cost=tt,
            v_start=np.zeros(k, dtype=np.int64),
            v_end=np.full(k, count - 1, dtype=np.int64),
            v_cap=np.full(k, self.capacity, dtype=np.int64),
            v_cap_w=np.zeros(k, dtype=np.int64),
            v_load0=np.zeros(k, dtype=np.int64),
            v_load0_w=np.zeros(k, dtype=np.int64),
            v_max_duration=np.full(k, self.max_duration),
        )


def read_instance(path: Path) -> DarpInstance:
    """Parse an a/b (Cordeau 2006) or pr (Cordeau & Laporte 2003) file."""
    if not path.is_file():
        raise InstanceError(
            f"ベンチマークのファイルがありません: {path}", f"Benchmark file not found: {path}"
        )
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        k, second, t_max, cap, max_ride = (float(v) for v in rows[0][:5])
        nodes = [
            DarpNode(
                int(r[0]),
                float(r[1]),
                float(r[2]),
                float(r[3]),
                int(r[4]),
                float(r[5]),
                float(r[6]),
            )
            for r in rows[1:]
        ]
    except (ValueError, IndexError) as exc:
        raise InstanceError(
            f"ベンチマークのファイルが読めません: {path} ({exc})",
            f"Cannot parse benchmark file: {path} ({exc})",
        ) from None
    name = path.name.removesuffix(".txt")
    # pr files: header field 2 is 2n and there is no end-depot line.
    if len(nodes) == int(second) + 1:
        n = int(second) // 2
        depot = nodes[0]
        nodes.append(DarpNode(2 * n + 1, depot.x, depot.y, 0.0, 0, depot.early, depot.late))
    else:
        n = int(second)
    if len(nodes) != 2 * n + 2 or [nd.id for nd in nodes] != list(range(2 * n + 2)):
        raise InstanceError(
            f"ノード数が合いません: {path}", f"Unexpected node count or ids in {path}"
        )
    return DarpInstance(name, int(k), n, t_max, int(cap), max_ride, tuple(nodes))


def read_bks(path: Path) -> dict[str, float]:
    with path.open(newline="") as fh:
        return {row["instance"]: float(row["bks"]) for row in csv.DictReader(fh)}


def instance_files(root: Path, sets: list[str], names: list[str] | None = None) -> list[Path]:
    """The instance files of the given sets (a, b, pr) in natural order, or the named ones."""
    found: list[Path] = []
    for s in sets:
        folder = root / s
        files = [p for p in folder.iterdir() if p.is_file() and not p.name.endswith(".res")]
        found.extend(sorted(files, key=_natural))
    if names:
        wanted = set(names)
        found = [p for p in found if p.name.removesuffix(".txt") in wanted]
        missing = wanted - {p.name.removesuffix(".txt") for p in found}
        if missing:
            raise InstanceError(
                f"ベンチマークが見つかりません: {', '.join(sorted(missing))}",
                f"Unknown benchmark instances: {', '.join(sorted(missing))}",
            )
    return found


def _natural(path: Path) -> tuple[str, int, int]:
    stem = path.name.removesuffix(".txt")
    letters = "".join(c for c in stem if c.isalpha())
    numbers = [int(x) for x in stem.replace("-", " ").strip(letters).split() if x.isdigit()]
    padded = [*numbers, 0, 0]
    return letters, padded[0], padded[1]
