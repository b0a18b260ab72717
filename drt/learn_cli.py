"""`drt learn-travel`: travel-time factors per road class and time band from the GPS tracks
the tablets stored (``positions``), written to the area's ``learned_travel.toml``."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import utc_offset_s
from driver_app_api import models as dm
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table
from routing.learn import LearnedFactor, Leg, TrackPoint, bands_for, fit, legs_from_track
from routing.router import Router


def legs_from_database(
    session: Session, router: Router, offset_s: int, since: datetime, until: datetime
) -> tuple[list[Leg], int]:
    """The legs of every vehicle's stored track between ``since`` and ``until``, and how
    many vehicles had points."""
    rows = session.execute(
        select(dm.Position.vehicle_id, dm.Position.at, dm.Position.lat, dm.Position.lon,
               dm.Position.speed_mps)
        .where(dm.Position.at >= since, dm.Position.at < until)
        .order_by(dm.Position.vehicle_id, dm.Position.at)
    )  # fmt: skip
    tracks: dict[str, list[TrackPoint]] = defaultdict(list)
    for vehicle, at, lat, lon, speed in rows:
        tracks[vehicle].append(TrackPoint(at.timestamp(), lat, lon, speed))
    legs = [leg for track in tracks.values() for leg in legs_from_track(router, track, offset_s)]
    return legs, len(tracks)


def learn(
    ctx: AppContext, session: Session, since: datetime, until: datetime, min_legs: int
) -> tuple[list[LearnedFactor], int, int]:
    """(factors, legs, vehicles) from the database's tracks, in the area's bands."""
    from core.rules import load_booking_config

    router, _ = ctx.router(quiet=True)
    calendar = load_booking_config(ctx.area.source.parent / "booking.toml").calendar
    legs, vehicles = legs_from_database(
        session, router, utc_offset_s(calendar.time_zone), since, until
    )
    bands = bands_for((p.start_s, p.end_s) for p in ctx.area.routing.peak)
    return fit(legs, bands, min_legs), len(legs), vehicles


@handles_errors
def learn_travel(
    typer_ctx: typer.Context,
    days: int = typer.Option(28, min=1, max=366, help="the tracks of this many days back"),
    min_legs: int = typer.Option(30, min=2, help="legs a class needs in a band to be fitted"),
    write: bool = typer.Option(True, help="write learned_travel.toml beside area.toml"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Learn travel-time factors and spreads per road class and time band from GPS tracks."""
    from drt.serve_cli import transaction
    from routing.learn import write_learned

    ctx: AppContext = typer_ctx.obj
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    with transaction(ctx.settings) as session:
        factors, legs, vehicles = learn(ctx, session, since, until, min_legs)
    path: Path = ctx.area.source.parent / "learned_travel.toml"
    header = (f"Learned from {legs} GPS legs of {vehicles} vehicles, "
              f"{since:%Y-%m-%d} to {until:%Y-%m-%d} (UTC), at least {min_legs} legs per class "
              "and band.\nfactor_pct: observed time / the router's free-flow time; sigma: "
              "spread of log(observed / fitted) per leg.")  # fmt: skip
    if write and factors:
        write_learned(path, factors, header)
    rows = [{"highway": f.highway, "band": f.band.name, "factor_pct": f.factor_pct,
             "sigma": f.sigma, "legs": f.legs} for f in factors]  # fmt: skip
    if fmt == Format.json:
        print_json({"legs": legs, "vehicles": vehicles, "factors": rows,
                    "written": str(path) if write and factors else None})  # fmt: skip
        return
    columns = ["highway", "band", "factor_pct", "sigma", "legs"]
    print_table("学習した所要時間 / learned travel times", columns,
                [[r[c] for c in columns] for r in rows])  # fmt: skip
    if not factors:
        console.print(
            f"not enough legs to fit ({legs} legs of {vehicles} vehicles): nothing written"
        )
    elif write:
        console.print(f"{len(factors)} factors from {legs} legs written to {path}")
