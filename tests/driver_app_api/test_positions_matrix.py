"""GPS positions reach the dispatcher without growing its travel-time matrix."""

from __future__ import annotations

import numpy as np

from core.commands import StartShift, VehicleAt, VehicleDay
from core.world import World
from dispatch.view import DispatchView


def test_a_day_of_gps_positions_keeps_the_dispatchers_matrix_small(world: World) -> None:
    """Each GPS position used to become a place of its own: one van-day at one report every
    15 s grew the matrix past 2,000 places, replay slowed with each (46 s for 3,000 reports)
    and memory grew with their square."""
    d = world.new_dispatcher()
    n = d.n_places
    vid = "van-1@2026-12-02"
    VehicleDay(vid, 8, 1, world.stop_places[0], 1_764_630_000, 1_764_673_200).run(d, world, 0)
    g = world.router.graph
    stop_nodes = {world.places.nodes[p] for p in world.stop_places}
    route = [node for node in range(0, g.n_nodes, max(1, g.n_nodes // 400))
             if node not in stop_nodes][:300]  # fmt: skip
    StartShift(vid, route[0]).run(d, world, 1_764_630_000)
    for i, node in enumerate(route[1:], 1):
        VehicleAt(vid, node, 1_764_630_000 + 15 * i, locked=False).run(d, world, 1_764_630_000)
    assert d.n_places <= n + 1  # the van's own place (another test's van may have made it)
    state = DispatchView(d).vehicle(vid)
    assert state is not None
    assert world.places.nodes[state.place] == route[-1]
    points = [world.places.nodes[p] for p in world.stop_places]
    reference = world.router.matrix([route[-1]], points)
    assert np.array_equal(d.travel_s[state.place, world.stop_places], reference.duration_s[0])
