"""Learned travel times on synthetic tracks with a known answer: vans drive the router's
fastest paths on Kurate's real road graph with a chosen factor per highway class and time
band and a mean-one lognormal noise (σ 0.10) on each stretch between two track points; the
fit must give the factors back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from common.errors import ConfigError
from routing.learn import (
    OFF_PEAK,
    TrackPoint,
    band_of,
    bands_for,
    fit,
    legs_from_track,
    read_learned,
    write_learned,
)
from routing.router import Router

JST = 9 * 3600
DAY = 1_798_761_600 - JST  # local midnight of a day (Unix seconds)
BANDS = bands_for([(7 * 3600, 9 * 3600)])
SIGMA = 0.10


def true_pct(highway: str, band_name: str) -> int:
    if band_name == OFF_PEAK:
        return 95
    return 110 if highway == "residential" else 130


def synthetic_tracks(router: Router, nodes: list[int], drives: int) -> list[list[TrackPoint]]:
    """One track per drive: a point at a node of the path every 12 s or more of driving
    (the tablets keep one every 15 s), each stretch's time the chosen factors times a noise."""
    g = router.graph
    rng = np.random.default_rng(7)
    tracks = []
    for k in range(drives):
        a, b = (int(x) for x in rng.choice(nodes, size=2, replace=False))
        route = router.route(a, b)
        t = float(DAY + (7 * 3600 + rng.integers(0, 2 * 3600) if k % 2 else 11 * 3600))
        band = band_of(BANDS, int(t + JST)).name
        points = [TrackPoint(t, float(g.node_lat[a]), float(g.node_lon[a]), 8.0)]
        leg_s = 0.0
        for i, e in enumerate(route.edges):
            highway = str(g.highway_names[g.edge_highway[e]])
            leg_s += true_pct(highway, band) / 100 * float(g.edge_time_ms[e]) / 1000
            if leg_s >= 12 or i == len(route.edges) - 1:  # about the tablets' 15 s
                t += leg_s * float(np.exp(SIGMA * rng.standard_normal() - SIGMA**2 / 2))
                v = route.nodes[i + 1]
                points.append(TrackPoint(t, float(g.node_lat[v]), float(g.node_lon[v]), 8.0))
                leg_s = 0.0
        tracks.append(points)
    return tracks


@pytest.fixture(scope="module")
def learned(router: Router, nodes: list[int]) -> list:
    legs = [leg for track in synthetic_tracks(router, nodes, 300)
            for leg in legs_from_track(router, track, JST)]  # fmt: skip
    assert len(legs) > 1000
    return fit(legs, BANDS, min_legs=30)


def test_the_fit_gives_back_the_factors_and_the_spread(learned: list) -> None:
    assert {f.band.name for f in learned} == {"07:00-09:00", OFF_PEAK}
    assert any(f.highway == "residential" for f in learned)
    for f in learned:
        assert abs(f.factor_pct - true_pct(f.highway, f.band.name)) <= 5, f
        # a leg of a minute or more sums about five 12-s stretches, each with σ 0.10 of
        # noise: its own spread is about 0.1 / √5 ≈ 0.045
        assert 0.03 <= f.sigma <= 0.08, f


def test_stopped_points_and_long_gaps_make_no_legs(router: Router, nodes: list[int]) -> None:
    g = router.graph
    a, b = nodes[0], nodes[40]
    here = (float(g.node_lat[a]), float(g.node_lon[a]))
    there = (float(g.node_lat[b]), float(g.node_lon[b]))
    free = router.route(a, b).duration_s
    stopped = [TrackPoint(DAY, *here, 0.0), TrackPoint(DAY + free, *there, 8.0)]
    assert legs_from_track(router, stopped, JST) == []
    gap = [TrackPoint(DAY, *here, 8.0), TrackPoint(DAY + 3600, *there, 8.0)]
    assert legs_from_track(router, gap, JST) == []
    moving = [TrackPoint(DAY, *here, 8.0), TrackPoint(DAY + max(free, 60), *there, None)]
    assert len(legs_from_track(router, moving, JST)) == 1
    short = [TrackPoint(DAY, *here, 8.0), TrackPoint(DAY + 30, *there, 8.0)]
    assert legs_from_track(router, short, JST) == []  # under a minute: too short to tell


def test_the_file_round_trips_and_bad_files_are_refused(learned: list, tmp_path: Path) -> None:
    path = tmp_path / "learned_travel.toml"
    write_learned(path, learned, "synthetic tracks")
    assert read_learned(path) == learned
    assert read_learned(tmp_path / "none.toml") == []
    path.write_text('[[factor]]\nhighway = "primary"\nband = "x"\nstart = "25:00"\n')
    with pytest.raises(ConfigError):
        read_learned(path)


def test_the_simulator_s_world_reads_the_area_s_learned_file(
    area_copy: Path, router: Router, nodes: list[int], learned: list
) -> None:
    """What `drt learn-travel` writes beside area.toml is what the planner replays (and a
    new file names a new cached world)."""
    from routing.config import load_area
    from routing.stops import load_stops
    from sim.world import area_world, area_world_key

    cfg = load_area(area_copy)
    before = area_world_key(cfg)
    write_learned(area_copy.parent / "learned_travel.toml", learned, "synthetic tracks")
    assert area_world_key(cfg) != before
    world = area_world(router, cfg, load_stops(cfg.meeting_points), nodes)
    assert len(world.learned) == len(learned)
    assert world.class_share is not None
    assert world.class_share.shape == (len(nodes), len(nodes), len(world.classes))
    pct, sigma = world.learned_at(0, 40, 8 * 3600)
    assert 105 <= pct <= 131  # the morning's learned factors, 110-130 %
    assert sigma is not None
