"""A growing travel-time matrix between the places the dispatcher knows.

The dispatch core works on a square matrix of whole seconds between "places": the meeting
points, the depots, and the positions vehicles report. :class:`PlaceMatrix` starts from the
meeting points (one many-to-many query) and adds a new place with one forward and one reverse
Dijkstra, so a vehicle's GPS position costs milliseconds, not a new full matrix. Entries are
identical to :meth:`Router.matrix` for the same nodes.
"""

from __future__ import annotations

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

    @property
    def duration_s(self) -> IntMatrix:
        return self._duration

    @property
    def distance_m(self) -> IntMatrix:
        return self._distance

    def index(self, node: int) -> int:
        """The place index of a graph node, adding it (row and column) if it is new."""
        node = int(node)
        found = self._index.get(node)
        if found is not None:
            return found
        self.router.check_nodes([node])
        targets = np.array(self.nodes, dtype=np.int64)
        forward = dijkstra(self.router.csr, directed=True, indices=node)[targets]
        backward = dijkstra(self._reverse, directed=True, indices=node)[targets]
        out_s, out_m = self.router.split(forward, None)
        in_s, in_m = self.router.split(backward, None)
        n = len(self.nodes)
        duration = np.zeros((n + 1, n + 1), dtype=np.int64)
        distance = np.zeros((n + 1, n + 1), dtype=np.int64)
        duration[:n, :n], distance[:n, :n] = self._duration, self._distance
        duration[n, :n], distance[n, :n] = out_s, out_m
        duration[:n, n], distance[:n, n] = in_s, in_m
        self._duration, self._distance = duration, distance
        self.nodes.append(node)
        self._index[node] = n
        return n
