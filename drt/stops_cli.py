"""`drt stops ...`: generate, list and edit meeting points, and report their coverage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from drt.context import AppContext
from drt.output import (
    FORMAT_OPTION,
    Format,
    console,
    handles_errors,
    print_json,
    print_table,
    steps,
)
from residents.schemas import normalize_kana
from routing.coverage import RADII_M, coverage_report
from routing.names import short_name
from routing.osm_features import read_places, read_pois
from routing.placement import generate_meeting_points, rename_generated
from routing.readings import Reader
from routing.render import render_map
from routing.stops import (
    KINDS,
    MeetingPoint,
    StopError,
    assign_ids,
    id_prefix_for,
    load_stops,
    read_meta,
    save_stops,
    with_machine_kana,
)

app = typer.Typer(help="乗降ポイント / meeting points", no_args_is_help=True)

#: A regenerated point within this distance of an existing one keeps its id.
ID_MATCH_M = 30.0


@app.command()
@handles_errors
def generate(
    typer_ctx: typer.Context,
    target: int | None = typer.Option(None, help="number of points (default: the area file)"),
    dry_run: bool = typer.Option(False, help="compute and report, but do not write the file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Place meeting points at named POIs plus optimised coverage points, and name them."""
    ctx: AppContext = typer_ctx.obj
    cfg = ctx.area
    if target is not None:
        from dataclasses import replace

        cfg = replace(cfg, stops=replace(cfg.stops, target_count=target))
    router, _ = ctx.router(quiet=fmt == Format.json)
    path = cfg.meeting_points
    previous = load_stops(path) if path.is_file() else None
    prefix = previous.prefix if previous else id_prefix_for(cfg.name_en)
    with steps(6, quiet=fmt == Format.json) as step:
        step("POI と地名を読み込み中 / reading POIs and place names")
        pois, places = read_pois(cfg.roads_pois), read_places(cfg.places)
        result = generate_meeting_points(router, cfg, pois, places, prefix, step)
    stops = with_machine_kana(
        assign_ids(previous, prefix, result.points, ID_MATCH_M), Reader(cfg.stops.readings)
    )
    highways = cfg.stops.coverage_highways
    summary: dict[str, Any] = {
        "points": len(stops.points),
        "poi_points": result.poi_count,
        "coverage_points": result.coverage_count,
        "solver": result.solver,
        "covered_km_solver": round(result.solver_objective_km, 3),
        "covered_km_greedy": round(result.greedy_objective_km, 3),
        "coverage": coverage_report(router.graph, router.area, result.nodes, highways),
        "coverage_unclassified": coverage_report(
            router.graph, router.area, result.nodes, ["unclassified"]
        ),
        "file": str(path),
        "written": not dry_run,
    }
    if not dry_run:
        save_stops(stops, path, {"generated": {k: summary[k] for k in ("solver", "coverage")}})
    if fmt == Format.json:
        print_json(summary)
        return
    cov = summary["coverage"]
    console.print(
        f"{summary['points']} 地点 (POI {result.poi_count} + 網羅 {result.coverage_count}), "
        f"solver {result.solver}: 生活道路の {cov['within_300m']:.1%} が 300 m 以内"
        + ("" if dry_run else f" → {path}")
    )


@app.command()
@handles_errors
def names(
    typer_ctx: typer.Context,
    dry_run: bool = typer.Option(False, help="show the new names, but do not write the file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Name the generated points again by today's rules (the 大字 and the landmark or road, a
    short name for buttons) and read every name by machine; a point staff named or read
    keeps what staff gave it."""
    ctx: AppContext = typer_ctx.obj
    cfg = ctx.area
    router, _ = ctx.router(quiet=fmt == Format.json)
    pois, places = read_pois(cfg.roads_pois), read_places(cfg.places)
    before = ctx.stops()
    after = with_machine_kana(
        rename_generated(router, cfg, pois, places, before), Reader(cfg.stops.readings)
    )
    changed = [
        (a.id, b.name, a.name, a.label, a.kana or "")
        for a, b in zip(after.points, before.points, strict=True)
        if (a.name, a.short_name, a.kana) != (b.name, b.short_name, b.kana)
    ]
    if not dry_run:
        save_stops(after, cfg.meeting_points, _kept_meta(ctx))
    if fmt == Format.json:
        print_json({"changed": len(changed), "written": not dry_run,
                    "points": after.to_geojson()["features"]})  # fmt: skip
        return
    print_table(
        f"{len(changed)} 地点の名前・読み / names and readings changed",
        ["id", "was", "name", "short name", "kana"],
        changed,
    )


@app.command("list")
@handles_errors
def list_(typer_ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """All meeting points (GeoJSON FeatureCollection with --format json)."""
    ctx: AppContext = typer_ctx.obj
    stops = ctx.stops()
    if fmt == Format.json:
        print_json(stops.to_geojson())
        return
    rows = [
        (p.id, p.name, p.label, p.kana or "", KINDS[p.kind], p.district or "",
         f"{p.lat:.5f},{p.lon:.5f}")
        for p in stops.points
    ]  # fmt: skip
    print_table(
        f"乗降ポイント {len(rows)} 地点 / meeting points",
        ["id", "name", "short name", "kana", "kind", "district", "lat,lon"],
        rows,
    )


@app.command()
@handles_errors
def add(
    typer_ctx: typer.Context,
    lat: float = typer.Option(..., help="latitude"),
    lon: float = typer.Option(..., help="longitude"),
    name: str = typer.Option(..., help="name residents recognise"),
    kind: str = typer.Option("manual", help=f"one of: {', '.join(KINDS)}"),
    kana: str | None = typer.Option(None, help="reading in kana"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Add a meeting point at the road junction nearest to lat,lon."""
    ctx: AppContext = typer_ctx.obj
    router, _ = ctx.router(quiet=fmt == Format.json)
    stops = ctx.stops()
    snap = router.snap(lat, lon)
    nodes = ctx.stop_nodes()
    if snap.node in nodes:
        other = stops.points[nodes.index(snap.node)]
        raise StopError(
            f"この場所は既存の乗降ポイント {other.id}「{other.name}」と同じ地点になります",
            f"This place is the same junction as meeting point {other.id} '{other.name}'",
            id=other.id,
        )
    point = MeetingPoint(
        id=stops.new_id(),
        name=name.strip(),
        kind=kind,
        lat=snap.node_lat,
        lon=snap.node_lon,
        kana=normalize_kana(kana) if kana else Reader(ctx.area.stops.readings).kana(name.strip()),
        kana_source="staff" if kana else "machine",
        short_name=short_name(name.strip()),
        source="manual",
    )
    updated = stops.with_added(point)
    save_stops(updated, ctx.area.meeting_points, _kept_meta(ctx))
    _report_change(fmt, "added", point, walk_m=round(snap.walk_m))


@app.command()
@handles_errors
def remove(typer_ctx: typer.Context, stop_id: str, fmt: Format = FORMAT_OPTION) -> None:
    """Remove a meeting point (its id is never reused)."""
    ctx: AppContext = typer_ctx.obj
    stops = ctx.stops()
    point = stops.get(stop_id)
    save_stops(stops.with_removed(stop_id), ctx.area.meeting_points, _kept_meta(ctx))
    _report_change(fmt, "removed", point)


@app.command()
@handles_errors
def rename(
    typer_ctx: typer.Context,
    stop_id: str,
    name: str,
    kana: str | None = typer.Option(None, help="reading in kana"),
    short_name_opt: str | None = typer.Option(
        None, "--short-name", help="at most 16 characters, for buttons (default: from the name)"
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Give a meeting point a new name, its short name for buttons and its kana (staff's; none
    given: read by machine)."""
    ctx: AppContext = typer_ctx.obj
    if kana is None:
        given, source = Reader(ctx.area.stops.readings).kana(name), "machine"
    else:
        given, source = normalize_kana(kana), "staff"
    short = short_name_opt.strip() if short_name_opt else short_name(name.strip())
    updated = ctx.stops().with_renamed(stop_id, name, given, short, source)
    save_stops(updated, ctx.area.meeting_points, _kept_meta(ctx))
    _report_change(fmt, "renamed", updated.get(stop_id))


def _kept_meta(ctx: AppContext) -> dict[str, Any]:
    meta = read_meta(ctx.area.meeting_points)
    return {k: v for k, v in meta.items() if k not in ("prefix", "next_id")}


def _report_change(fmt: Format, action: str, point: MeetingPoint, **extra: Any) -> None:
    if fmt == Format.json:
        print_json({"action": action, "meeting_point": point.to_feature(), **extra})
    else:
        console.print(f"{action}: {point.id} {point.name} ({KINDS[point.kind]})")


def coverage_summary(ctx: AppContext) -> dict[str, Any]:
    router, _ = ctx.router(quiet=True)
    cfg = ctx.area
    nodes = ctx.stop_nodes()
    main = coverage_report(router.graph, router.area, nodes, cfg.stops.coverage_highways)
    return {
        **main,
        "highways": list(cfg.stops.coverage_highways),
        "points": len(nodes),
        "unclassified": coverage_report(router.graph, router.area, nodes, ["unclassified"]),
    }


@app.command()
@handles_errors
def coverage(
    typer_ctx: typer.Context,
    png: Path | None = typer.Option(None, help="also draw the map with uncovered roads here"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Share of residential road length within 200/300/500 m walk of a meeting point."""
    ctx: AppContext = typer_ctx.obj
    data = coverage_summary(ctx)
    if png is not None:
        router, _ = ctx.router(quiet=True)
        render_map(
            router,
            ctx.stops().points,
            ctx.stop_nodes(),
            png,
            title=f"{ctx.area.name} 乗降ポイント {data['points']} 地点(赤: 300 m 圏外の生活道路)",
            radius_m=ctx.area.stops.walk_radius_m,
            coverage_highways=ctx.area.stops.coverage_highways,
        )
        data["png"] = str(png)
    if fmt == Format.json:
        print_json(data)
        return
    rows = [
        (f"{r} m", f"{data[f'within_{r}m']:.1%}", f"{data['unclassified'][f'within_{r}m']:.1%}")
        for r in RADII_M
    ]
    print_table(
        f"徒歩圏カバー率 / walking coverage ({data['points']} points; "
        f"residential {data['road_km']:.1f} km, unclassified {data['unclassified']['road_km']:.1f} km)",
        ["radius", "residential + living_street", "unclassified"],
        rows,
    )
    if png is not None:
        console.print(f"map: {png}")
