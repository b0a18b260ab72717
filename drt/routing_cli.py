"""`drt routing ...`: build the graph, inspect it, and ask for routes and matrices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from common.errors import DrtError
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table
from routing.config import parse_hhmm
from routing.router import Router

app = typer.Typer(help="道路網と所要時間 / road graph and travel times", no_args_is_help=True)


class BadLocation(DrtError):
    code = "location_invalid"
    http_status = 422


@dataclass(frozen=True, slots=True)
class Location:
    label: str
    node: int
    walk_m: float


def resolve(ctx: AppContext, router: Router, token: str) -> Location:
    """A meeting point id (KUR-001) or 'lat,lon' -> a graph node."""
    token = token.strip()
    if "," in token:
        try:
            lat, lon = (float(v) for v in token.split(","))
        except ValueError:
            raise BadLocation(
                f"「{token}」は「緯度,経度」として読めません(例: 33.792,130.674)",
                f"'{token}' is not 'lat,lon' (e.g. 33.792,130.674)",
                value=token,
            ) from None
        snap = router.snap(lat, lon)
        return Location(token, snap.node, snap.walk_m)
    stops = ctx.stops()
    point = stops.get(token)
    return Location(f"{point.id} {point.name}", router.snap(point.lat, point.lon).node, 0.0)


def _depart(at: str | None) -> int | None:
    return None if at is None else parse_hhmm("--at", at)


@app.command()
@handles_errors
def build(
    typer_ctx: typer.Context,
    rebuild: bool = typer.Option(False, help="ignore the cache and rebuild from the OSM file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Build (or load from cache) the routing graph and report what was kept."""
    ctx: AppContext = typer_ctx.obj
    router, cached = ctx.router(rebuild=rebuild, quiet=fmt == Format.json)
    _print_info(ctx, router, cached, fmt)


@app.command()
@handles_errors
def info(typer_ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """Nodes, edges, dropped components, bounding box and source file of the graph."""
    ctx: AppContext = typer_ctx.obj
    router, cached = ctx.router(quiet=fmt == Format.json)
    _print_info(ctx, router, cached, fmt)


def graph_info(ctx: AppContext, router: Router, cached: bool) -> dict[str, Any]:
    g = router.graph
    r = g.report
    min_lat, min_lon, max_lat, max_lon = g.bbox()
    classes = g.highway_names[g.edge_highway]
    km_by_class = {
        str(c): round(float(g.edge_length_dm[classes == c].sum()) / 10_000, 1)
        for c in sorted(set(classes.tolist()))
    }
    return {
        "area": ctx.area.name,
        "source": r.source,
        "source_sha256": r.source_sha256,
        "from_cache": cached,
        "nodes": g.n_nodes,
        "edges": g.n_edges,
        "components_in_extent": r.components,
        "dropped_nodes": r.dropped_nodes,
        "dropped_edges": r.dropped_edges,
        "dropped_components": r.components - 1,
        "excluded_edges": r.excluded_edges,
        "split_edges": r.split_edges,
        "split_nodes": r.split_nodes,
        "outside_extent_nodes": r.outside_extent_nodes,
        "source_nodes": r.source_nodes,
        "source_edges": r.source_edges,
        "bbox": {"min_lat": min_lat, "min_lon": min_lon, "max_lat": max_lat, "max_lon": max_lon},
        "directed_km_by_class": km_by_class,
        "speed_source_counts": r.speed_source_counts,
    }


def _print_info(ctx: AppContext, router: Router, cached: bool, fmt: Format) -> None:
    data = graph_info(ctx, router, cached)
    if fmt == Format.json:
        print_json(data)
        return
    bbox = data["bbox"]
    rows = [
        ("area", data["area"]),
        ("source", data["source"]),
        ("loaded from cache", data["from_cache"]),
        ("nodes", f"{data['nodes']:,}"),
        ("edges (directed)", f"{data['edges']:,}"),
        (
            "dropped",
            f"{data['dropped_components']} components, {data['dropped_nodes']} nodes, "
            f"{data['dropped_edges']} edges (not strongly connected)",
        ),
        ("excluded", f"{data['excluded_edges']} edges of excluded classes (expressway)"),
        (
            "long roads cut",
            f"{data['split_nodes']:,} junctions added so no edge exceeds "
            f"{ctx.area.routing.max_edge_m:.0f} m",
        ),
        ("outside extent", f"{data['outside_extent_nodes']:,} nodes beyond the buffer"),
        (
            "bbox",
            f"{bbox['min_lat']:.4f},{bbox['min_lon']:.4f} .. {bbox['max_lat']:.4f},"
            f"{bbox['max_lon']:.4f}",
        ),
        ("speeds from", ", ".join(f"{k}: {v}" for k, v in data["speed_source_counts"].items())),
    ]
    print_table("道路網 / road graph", ["", "value"], rows)


@app.command()
@handles_errors
def route(
    typer_ctx: typer.Context,
    origin: str = typer.Argument(..., help="meeting point id or 'lat,lon'"),
    destination: str = typer.Argument(..., help="meeting point id or 'lat,lon'"),
    at: str | None = typer.Option(None, help="departure time HH:MM (applies the peak factor)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Fastest route between two places: time, distance and the encoded polyline."""
    ctx: AppContext = typer_ctx.obj
    router, _ = ctx.router(quiet=fmt == Format.json)
    a, b = resolve(ctx, router, origin), resolve(ctx, router, destination)
    result = router.route(a.node, b.node, _depart(at))
    data = {
        "from": a.label,
        "to": b.label,
        "duration_s": result.duration_s,
        "distance_m": result.distance_m,
        "walk_to_origin_m": round(a.walk_m),
        "walk_from_destination_m": round(b.walk_m),
        "nodes": len(result.nodes),
        "polyline": result.encoded_polyline(),
    }
    if fmt == Format.json:
        print_json(data)
        return
    minutes, seconds = divmod(result.duration_s, 60)
    console.print(
        f"{a.label} → {b.label}: [bold]{minutes}分{seconds:02d}秒[/] "
        f"({result.duration_s} s), {result.distance_m / 1000:.2f} km, {len(result.nodes)} nodes"
    )


@app.command()
@handles_errors
def matrix(
    typer_ctx: typer.Context,
    origins: str = typer.Option(
        "", "--from", help="comma-free list separated by ';' of ids or lat,lon (default: all stops)"
    ),
    destinations: str = typer.Option("", "--to", help="same form as --from (default: --from)"),
    limit: int = typer.Option(10, help="with the default (all stops), use only the first N"),
    at: str | None = typer.Option(None, help="departure time HH:MM"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Travel-time (s) and distance (m) matrix between meeting points and/or positions."""
    ctx: AppContext = typer_ctx.obj
    router, _ = ctx.router(quiet=fmt == Format.json)

    def parse(text: str) -> list[Location]:
        if not text:
            return [resolve(ctx, router, p.id) for p in ctx.stops().points[:limit]]
        return [resolve(ctx, router, t) for t in text.split(";") if t.strip()]

    src = parse(origins)
    dst = parse(destinations) if destinations else src
    result = router.matrix([s.node for s in src], [d.node for d in dst], _depart(at))
    if fmt == Format.json:
        print_json(
            {
                "origins": [s.label for s in src],
                "destinations": [d.label for d in dst],
                "duration_s": result.duration_s.tolist(),
                "distance_m": result.distance_m.tolist(),
            }
        )
        return
    rows = [
        [s.label, *(f"{t // 60}:{t % 60:02d}" for t in result.duration_s[i].tolist())]
        for i, s in enumerate(src)
    ]
    print_table(
        "所要時間 (分:秒) / travel time (min:s)", ["from \\ to", *(d.label for d in dst)], rows
    )
