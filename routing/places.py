"""A growing travel-time matrix between the places the dispatcher knows.

The dispatch core works on a square matrix of whole seconds between "places": the meeting
points, the depots, and one moving place per vehicle (where it reported from last).
:class:`PlaceMatrix` starts from the meeting points (one many-to-many query); a new place, or
a vehicle's place moved to its new position, costs one forward and one reverse Dijkstra, so a
GPS position costs milliseconds, not a new full matrix, and the matrix does not grow with the
positions. Entries are identical to :meth:`Router.matrix` for the same nodes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy.sparse.csgraph import dijkstra

from routing.router import Router

IntMatrix = npt.NDArray[np.int64]


class PlaceMatrix:
    """Free-flow travel times (s) and distances (m) between registered graph nodes."""

    def __init__(self, router: Router, nodes: Sequence[int]) -> None:
        self.router = router
        unique = list(dict.fromkeys(int(n) for n in nodes))
        self.nodes: list[int] = unique
        self._index = {n: i for i, n in enumerate(unique)}
        m = router.matrix(unique, unique)
        self._duration: IntMatrix = m.duration_s.astype(np.int64)
        self._distance: IntMatrix = m.distance_m.astype(np.int64)
        self._reverse = router.csr.T.tocsr()
        self._slots: dict[str, int] = {}  # a vehicle's moving place (see :meth:`slot`)

    def copy(self) -> PlaceMatrix:
        """A matrix that grows on its own from here (the arrays are shared: they are never
        changed in place, a new place or a moved one makes new arrays)."""
        twin = copy.copy(self)
        twin.nodes, twin._index, twin._slots = (
            list(self.nodes),
            dict(self._index),
            dict(self._slots),
        )
        return twin

    @property
    def duration_s(self) -> IntMatrix:
        return self._duration

    @property
    def distance_m(self) -> IntMatrix:
        return self._distance

    @property
    def slots(self) -> dict[str, int]:
        """Each key's moving place (:meth:`slot`), a copy."""
        return dict(self._slots)

    def index(self, node: int) -> int:
        """The place index of a graph node, adding it (row and column) if it is new."""
        node = int(node)
        found = self._index.get(node)
        if found is not None:
            return found
        place = self._grow(node)
        self._index[node] = place
        return place

    def slot(self, key: str, node: int) -> int:
        """The place that stands for ``key`` (a vehicle) now at ``node``.

        A vehicle's reported positions do not become places of their own: each key gets one
        place, added the first time and then moved (its row and column rewritten, in a new
        array, so a matrix already handed out never changes). The matrix stays at the fixed
        places plus one per vehicle however long the vehicles drive; a node that is a fixed
        place (a meeting point, a depot) is that place."""
        node = int(node)
        fixed = self._index.get(node)
        if fixed is not None:
            return fixed
        place = self._slots.get(key)
        if place is None:
            place = self._slots[key] = self._grow(node)
            return place
        out_s, out_m, in_s, in_m = self._rows(node)
        duration, distance = self._duration.copy(), self._distance.copy()
        duration[place, :], distance[place, :] = out_s, out_m
        duration[:, place], distance[:, place] = in_s, in_m
        duration[place, place] = distance[place, place] = 0
        self._duration, self._distance = duration, distance
        self.nodes[place] = node
        return place

    def _rows(self, node: int) -> tuple[IntMatrix, IntMatrix, IntMatrix, IntMatrix]:
        """Seconds and metres from ``node`` to every place, and from every place to it."""
        self.router.check_nodes([node])
        targets = np.array(self.nodes, dtype=np.int64)
        forward = dijkstra(self.router.csr, directed=True, indices=node)[targets]
        backward = dijkstra(self._reverse, directed=True, indices=node)[targets]
        out_s, out_m = self.router.split(forward, None)
        in_s, in_m = self.router.split(backward, None)
        return out_s, out_m, in_s, in_m

    def _grow(self, node: int) -> int:
        """Add ``node`` as a new place (a new row and column); its index."""
        out_s, out_m, in_s, in_m = self._rows(node)
        n = len(self.nodes)
        duration = np.zeros((n + 1, n + 1), dtype=np.int64)
        distance = np.zeros((n + 1, n + 1), dtype=np.int64)
        duration[:n, :n], distance[:n, :n] = self._duration, self._distance
        duration[n, :n], distance[n, :n] = out_s, out_m
        duration[:n, n], distance[:n, n] = in_s, in_m
        self._duration, self._distance = duration, distance
        self.nodes.append(node)
        return n
