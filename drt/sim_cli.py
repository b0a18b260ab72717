"""`drt sim ...`: the planner simulation (a service day in seconds, fleet-size what-ifs)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from dispatch.params import ServiceParams, load_params
from drt.context import AppContext
from drt.output import (
    FORMAT_OPTION,
    Format,
    console,
    err_console,
    handles_errors,
    print_json,
    print_table,
)
from sim.scenario import Scenario, clock_text, find_scenario, load_scenario, scenario_files
from sim.world import World

app = typer.Typer(help="計画用シミュレーション / planner simulation", no_args_is_help=True)

SUMMARY = (
    ("served_share", "乗れた割合 / served share"),
    ("rejected", "お断り / refused"),
    ("wait_mean_s", "平均待ち(秒)/ mean wait (s)"),
    ("wait_p90_s", "待ち 90%(秒)/ wait p90 (s)"),
    ("passenger_trips_per_vehicle_hour", "1台1時間の乗客 / trips per vehicle hour"),
    ("pooling_rate", "相乗り率 / pooling rate"),
    ("vehicle_km", "走行 km / vehicle km"),
    ("empty_km", "空車 km / empty km"),
    ("promises_broken", "守れなかった約束 / promises broken"),
)


def scenario_folder(ctx: AppContext) -> Path:
    return ctx.area.source.parent / "scenarios"


def service_params(ctx: AppContext) -> ServiceParams:
    return load_params(ctx.area.source.parent / "service.toml")


def world_for(ctx: AppContext, scenario: Scenario, *, quiet: bool = False) -> World:
    """The scenario's world; the area's is cached on disk next to the road graph."""
    from sim.world import area_world, area_world_key, grid_world, load_world, save_world

    if scenario.grid is not None and scenario.world == "grid":
        return grid_world(scenario.grid)
    path = ctx.settings.cache_dir / f"sim-world-{area_world_key(ctx.area)}.npz"
    world = load_world(path)
    if world is None:
        router, _ = ctx.router(quiet=quiet)
        world = area_world(router, ctx.area, ctx.stops(), ctx.stop_nodes())
        save_world(world, path)
    return world


def _progress(count: TextColumn) -> Progress:
    """A bar on stderr (so JSON on stdout stays clean) with this counter beside it."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        count,
        TimeElapsedColumn(),
        console=err_console,
    )


@contextmanager
def sim_progress(first_s: int, last_s: int, quiet: bool) -> Iterator[Callable[[int], None]]:
    """A bar over simulated time (on stderr), advanced by the simulation's clock."""
    if quiet:
        yield lambda _now: None
        return
    progress = _progress(TextColumn("{task.fields[clock]}"))
    with progress:
        task = progress.add_task("シミュレーション / simulating", total=last_s - first_s, clock="")

        def advance(now: int) -> None:
            done = min(max(now - first_s, 0), last_s - first_s)
            progress.update(task, completed=done, clock=f"{clock_text(now)}")

        yield advance
        progress.update(task, completed=last_s - first_s)


def _scenario(ctx: AppContext, name: str, fleet: int | None) -> Scenario:
    scenario = find_scenario(name, scenario_folder(ctx))
    return scenario.with_fleet(fleet) if fleet is not None else scenario


@app.command("list")
@handles_errors
def list_scenarios(typer_ctx: typer.Context, fmt: Format = FORMAT_OPTION) -> None:
    """The scenario files of the area (areas/<town>/scenarios/*.toml)."""
    ctx: AppContext = typer_ctx.obj
    rows = []
    for path in scenario_files(scenario_folder(ctx)):
        sc = load_scenario(path)
        rows.append(
            {
                "name": sc.name,
                "title_ja": sc.title_ja,
                "title_en": sc.title_en,
                "world": sc.world,
                "day": sc.day,
                "hours": f"{clock_text(sc.service_start_s)}-{clock_text(sc.service_end_s)}",
                "vehicles": sc.vehicle_count,
                "trips_per_day": sc.demand.trips_per_day,
                "file": str(path),
            }
        )
    if fmt == Format.json:
        print_json(rows)
        return
    print_table(
        "シナリオ / scenarios",
        ["name", "タイトル / title", "day", "hours", "vehicles", "trips/day"],
        [
            (
                r["name"],
                r["title_ja"],
                r["day"],
                r["hours"],
                r["vehicles"],
                f"{r['trips_per_day']:g}",
            )
            for r in rows
        ],
    )


@app.command()
@handles_errors
def run(
    typer_ctx: typer.Context,
    scenario: str = typer.Argument(..., help="scenario name (drt sim list) or a TOML file"),
    seed: int = typer.Option(1, help="the same seed gives the same day"),
    out: Path = typer.Option(Path("out/sim"), help="folder for kpis.json, CSVs and report.html"),
    fleet: int | None = typer.Option(None, help="override the number of vehicles"),
    hindsight: bool = typer.Option(False, help="also solve the day offline (static solver)"),
    hindsight_limit: float = typer.Option(10.0, help="seconds for the offline solver"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Simulate one service day: KPIs (JSON, CSV), trips (CSV) and an HTML report."""
    from sim.demand import demand_model
    from sim.files import write_day
    from sim.hindsight import hindsight as solve_hindsight
    from sim.kpi import compute_kpis, kpis_by_hour
    from sim.maps import grid_layer, road_layer
    from sim.report import render_report
    from sim.simulator import Simulation, rider_streams

    started = time.perf_counter()
    ctx: AppContext = typer_ctx.obj
    quiet = fmt == Format.json
    sc = _scenario(ctx, scenario, fleet)
    world = world_for(ctx, sc, quiet=quiet)
    params = sc.service_params(service_params(ctx))
    demand_rng, noise_rng = rider_streams(seed)
    riders = demand_model(sc.demand.model).riders(sc, world, demand_rng)
    first = min([sc.demand.booking_opens_s, *(r.request_s for r in riders)])
    with sim_progress(first, sc.service_end_s, quiet) as progress:
        day = Simulation(sc, world, params, riders, noise_rng, seed, progress).run()
    kpis = compute_kpis(day, params.dwell_board_s)
    by_hour = kpis_by_hour(day)
    files = write_day(out, day, kpis, by_hour)
    bound = None
    if hindsight:
        if not quiet:
            err_console.print(f"後から見た最善を計算中 / solving offline ({hindsight_limit:g} s)…")
        bound = solve_hindsight(day, world, params, riders, hindsight_limit, seed)
        kpis["hindsight"] = {k: getattr(bound, k) for k in bound.__slots__}
        files = write_day(out, day, kpis, by_hour)
    if sc.world == "grid":
        layer = grid_layer(world, day)
    else:
        router, _ = ctx.router(quiet=True)
        layer = road_layer(router, world, day)
    files.append(render_report(out / "report.html", sc, world, day, kpis, by_hour, layer, bound))
    total_s = time.perf_counter() - started
    if fmt == Format.json:
        print_json({"kpis": kpis, "files": [str(f) for f in files], "seconds": round(total_s, 2)})
        return
    _print_summary(sc, kpis)
    console.print(
        f"{day.events:,} events, simulated in {day.wall_s:.2f} s; {total_s:.1f} s in all. "
        f"Files: {', '.join(str(f) for f in files)}"
    )


def _print_summary(sc: Scenario, kpis: dict[str, Any]) -> None:
    def show(key: str) -> str:
        value = kpis.get(key)
        if value is None:
            return "–"
        if key in ("served_share", "pooling_rate"):
            return f"{value:.1%}"
        return f"{value:,}"

    rows = [(label, show(key)) for key, label in SUMMARY]
    if "hindsight" in kpis:
        h = kpis["hindsight"]
        rows.append(("後から見た最善との比: 乗車 / served ratio", f"{h['served_ratio']}"))
        rows.append(("後から見た最善との比: 距離 / km ratio", f"{h['km_ratio']}"))
    print_table(f"{sc.title_ja} / {sc.title_en}", ["", "value"], rows)


@app.command()
@handles_errors
def sweep(
    typer_ctx: typer.Context,
    scenario: str = typer.Argument(..., help="scenario name (drt sim list) or a TOML file"),
    fleet: str = typer.Option("1,2,3", help="fleet sizes, e.g. 1,2,3"),
    seeds: int = typer.Option(5, help="seeds per fleet size"),
    first_seed: int = typer.Option(1, help="the seeds are first_seed, first_seed + 1, …"),
    out: Path = typer.Option(Path("out/sweep"), help="folder for sweep.csv, summary and plot"),
    jobs: int = typer.Option(2, help="days simulated in parallel on this machine"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Fleet sizes x seeds in parallel; plots served share and wait against fleet size."""
    from sim.files import write_csv, write_json
    from sim.report import png_bytes
    from sim.sweep import run_sweep, summarise, sweep_figure, sweep_jobs

    ctx: AppContext = typer_ctx.obj
    quiet = fmt == Format.json
    sc = _scenario(ctx, scenario, None)
    fleets = _fleet_sizes(fleet)
    world = world_for(ctx, sc, quiet=quiet)
    params = sc.service_params(service_params(ctx))
    work = sweep_jobs(sc, world, params, fleets, range(first_seed, first_seed + seeds))
    with _job_progress(len(work), quiet) as done:
        rows = run_sweep(work, workers=jobs, on_result=done)
    summary = summarise(rows)
    out.mkdir(parents=True, exist_ok=True)
    files = [
        write_csv(
            out / "sweep.csv",
            [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in rows],
        ),
        write_csv(out / "sweep_summary.csv", summary),
        write_json(out / "sweep.json", {"scenario": sc.name, "runs": rows, "summary": summary}),
    ]
    fig = sweep_figure(summary, f"{sc.title_ja} / {sc.title_en}")
    png = out / "sweep.png"
    png.write_bytes(png_bytes(fig))
    files.append(png)
    if fmt == Format.json:
        print_json({"summary": summary, "files": [str(f) for f in files]})
        return
    print_table(
        f"{sc.name}: 台数ごとの結果(平均、{seeds} 通りの乱数)/ by fleet size (mean of {seeds} seeds)",
        ["vehicles", "served", "wait mean (min)", "wait p90 (min)", "trips / veh-h", "broken"],
        [
            (
                r["vehicles"],
                _share(r["served_share_mean"]),
                _minutes(r["wait_mean_s_mean"]),
                _minutes(r["wait_p90_s_mean"]),
                _number(r["passenger_trips_per_vehicle_hour_mean"], 2),
                _number(r["promises_broken_mean"], 1),
            )
            for r in summary
        ],
    )
    console.print(f"Files: {', '.join(str(f) for f in files)}")


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _fleet_sizes(text: str) -> list[int]:
    from sim.scenario import ScenarioError

    try:
        sizes = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        sizes = []
    if not sizes or sizes[0] < 1:
        raise ScenarioError(
            f"台数の指定「{text}」が正しくありません(例: 1,2,3)",
            f"Invalid fleet sizes '{text}' (e.g. 1,2,3)",
            fleet=text,
        )
    return sizes


@contextmanager
def _job_progress(total: int, quiet: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    if quiet:
        yield lambda _row: None
        return
    progress = _progress(TextColumn("{task.completed}/{task.total}"))
    with progress:
        task = progress.add_task("シミュレーション / simulating days", total=total)
        yield lambda _row: progress.advance(task)
