"""`drt learn-travel` on the database: synthetic tracks stored as the tablets store them
(``positions``), learned back per road class and band, within a few percent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.clock import at
from common.settings import load_settings
from core.world import World
from driver_app_api import models as dm
from drt.context import AppContext
from drt.learn_cli import learn
from routing.learn import OFF_PEAK
from server.migrate import upgrade
from tests.harness import IsolatedDatabase
from tests.routing.test_learn import DAY, synthetic_tracks, true_pct

pytestmark = pytest.mark.services


def test_factors_are_learned_from_the_stored_tracks(
    db_schema: IsolatedDatabase, world: World
) -> None:
    upgrade(db_schema.engine)
    nodes = [world.places.nodes[p] for p in world.stop_places]
    with db_schema.sessionmaker()() as session:
        for k, track in enumerate(synthetic_tracks(world.router, nodes, 300)):
            session.add_all(dm.Position(vehicle_id=f"van-{k}", at=at(p.t), lat=p.lat,
                                        lon=p.lon, speed_mps=p.speed_mps) for p in track)  # fmt: skip
        session.commit()
        ctx = AppContext(settings=load_settings(), area_path=world.area.source,
                         _area=world.area, _router=world.router)  # fmt: skip
        since = at(DAY)
        factors, legs, vehicles = learn(ctx, session, since, since + timedelta(days=1), 30)
        none, *_ = learn(ctx, session, since - timedelta(days=2), since, 30)
    assert vehicles == 300  # one drive per vehicle: the synthetic drives overlap in time
    assert legs > 1000
    # the area's own peak bands (07:00-09:00 and 16:30-18:30): the synthetic tracks' peak
    # (07:00-09:00) and the rest of the day
    assert {f.band.name for f in factors} == {"07:00-09:00", OFF_PEAK}
    for f in factors:
        assert abs(f.factor_pct - true_pct(f.highway, f.band.name)) <= 5, f
    assert none == []  # no tracks in that time: nothing learned
