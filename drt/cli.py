"""`drt`: the platform's single command-line entry point (Typer)."""

from __future__ import annotations

from pathlib import Path

import typer

from drt import (
    bench,
    db_ops_cli,
    faq_cli,
    guide_cli,
    learn_cli,
    load_cli,
    promises_cli,
    readings_cli,
    restart_cli,
    routing_cli,
    serve_cli,
    sim_cli,
    stops_cli,
    town_cli,
)
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table

app = typer.Typer(
    help="鞍手町のりあいバス(デマンド交通)基盤 / demand-responsive transport platform",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(routing_cli.app, name="routing")
app.add_typer(stops_cli.app, name="stops")
app.add_typer(bench.app, name="bench")
bench.app.command("load")(load_cli.load)
bench.app.command("restart")(restart_cli.restart)
bench.app.command("promises")(promises_cli.promises)
bench.app.command("readings")(readings_cli.readings)
bench.app.command("faq")(faq_cli.faq)
app.add_typer(sim_cli.app, name="sim")
app.add_typer(town_cli.app, name="town")
app.add_typer(serve_cli.db_app, name="db")
serve_cli.db_app.command("backup")(db_ops_cli.db_backup)
serve_cli.db_app.command("restore")(db_ops_cli.db_restore)
serve_cli.db_app.command("purge")(db_ops_cli.db_purge)
serve_cli.db_app.command("anonymise-resident")(db_ops_cli.db_anonymise_resident)
app.command()(handles_errors(serve_cli.demo))
app.command()(handles_errors(serve_cli.serve))
app.command("learn-travel")(learn_cli.learn_travel)
app.add_typer(guide_cli.app, name="guide")


@app.callback()
def main(
    typer_ctx: typer.Context,
    area: Path | None = typer.Option(
        None, envvar="DRT_AREA", help="area TOML (default: areas/kurate/area.toml)"
    ),
) -> None:
    typer_ctx.obj = AppContext.create(area)


@routing_cli.app.command("overview")
@handles_errors
def overview(
    typer_ctx: typer.Context,
    out: Path = typer.Option(Path("out"), help="folder for the rendered map"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Build Kurate's road network, show its statistics and meeting points, render a PNG map."""
    ctx: AppContext = typer_ctx.obj
    router, cached = ctx.router(quiet=fmt == Format.json)
    info = routing_cli.graph_info(ctx, router, cached)
    cover = stops_cli.coverage_summary(ctx)
    png = out / f"{ctx.area.name_en.lower()}_map.png"
    from routing.render import render_map

    render_map(
        router,
        ctx.stops().points,
        ctx.stop_nodes(),
        png,
        title=f"{ctx.area.name} 道路網と乗降ポイント {cover['points']} 地点",
        radius_m=ctx.area.stops.walk_radius_m,
        coverage_highways=ctx.area.stops.coverage_highways,
    )
    if fmt == Format.json:
        print_json({"graph": info, "coverage": cover, "map": str(png)})
        return
    kinds: dict[str, int] = {}
    for p in ctx.stops().points:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    print_table(
        f"{ctx.area.name} ({ctx.area.name_en}) のりあいバス 道路網と乗降ポイント",
        ["", "value"],
        [
            ("road graph", f"{info['nodes']:,} nodes, {info['edges']:,} directed edges"),
            (
                "dropped",
                f"{info['dropped_components']} small components ({info['dropped_nodes']} nodes)",
            ),
            ("from cache", info["from_cache"]),
            (
                "meeting points",
                f"{cover['points']} ({', '.join(f'{k} {v}' for k, v in kinds.items())})",
            ),
            (
                "walking coverage",
                f"{cover['within_200m']:.1%} / {cover['within_300m']:.1%} / {cover['within_500m']:.1%}"
                f" of {cover['road_km']:.0f} km residential roads within 200 / 300 / 500 m",
            ),
            ("map", str(png)),
        ],
    )
    console.print("Map data © OpenStreetMap contributors, ODbL 1.0")
