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
    assert_as_router_says(places, router, nodes[:30] + extra)


def assert_as_router_says(places: PlaceMatrix, router: Router, everything: list[int]) -> None:
    reference = router.matrix(everything, everything)
    assert np.array_equal(places.duration_s, reference.duration_s)
    assert np.array_equal(places.distance_m, reference.distance_m)
    assert places.nodes == everything


def test_a_vehicle_moves_its_own_place_instead_of_adding_one_per_position(
    router: Router, nodes: list[int]
) -> None:
    places = PlaceMatrix(router, nodes[:30])
    route = [nodes[40], nodes[50], 123, nodes[60], nodes[70]]
    seen = {places.slot("van-1", node) for node in route}
    assert seen == {30}  # one place for the van, wherever it reports from
    other = places.slot("van-2", nodes[80])
    assert other == 31
    assert places.slot("van-1", nodes[5]) == 5  # at a meeting point: that point's place
    # where each van is now, exactly as the router says
    assert_as_router_says(places, router, [*nodes[:30], route[-1], nodes[80]])


def test_moving_a_vehicle_leaves_matrices_already_handed_out_alone(
    router: Router, nodes: list[int]
) -> None:
    places = PlaceMatrix(router, nodes[:30])
    places.slot("van-1", nodes[40])
    before = places.duration_s
    kept = before.copy()
    places.slot("van-1", nodes[50])
    assert places.duration_s is not before
    assert np.array_equal(before, kept)  # another replica's copy is not rewritten under it
