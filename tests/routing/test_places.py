"""The growing place matrix agrees exactly with the router's matrix."""

from __future__ import annotations

import numpy as np

from routing.places import PlaceMatrix
from routing.router import Router


def test_new_places_extend_the_matrix_exactly(router: Router, nodes: list[int]) -> None:
    places = PlaceMatrix(router, nodes[:30])
    extra = [nodes[40], nodes[50], 123]
    for node in extra:
        places.index(node)
    assert places.index(nodes[40]) == 30  # known places keep their index
    everything = nodes[:30] + extra
    reference = router.matrix(everything, everything)
    assert np.array_equal(places.duration_s, reference.duration_s)
    assert np.array_equal(places.distance_m, reference.distance_m)
    assert places.nodes == everything
