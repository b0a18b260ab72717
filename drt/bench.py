"""`drt bench ...`: measured figures, written into docs/benchmarks.md between markers.

Benchmarks are not tests: nothing here asserts a time. Each figure says how it was measured.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import typer

from common.errors import DrtError
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
from routing import load_router
from routing.build import build_road_graph
from routing.router import Router

app = typer.Typer(help="性能測定 / benchmarks", no_args_is_help=True)


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _stats_ms(samples: list[float]) -> dict[str, float]:
    ms = np.array(samples) * 1000
    return {
        "runs": len(samples),
        "median_ms": round(float(np.median(ms)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "min_ms": round(float(ms.min()), 3),
    }


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"model name\s*:\s*(.+)", text)
        cpu = match.group(1).strip() if match else ""
    except OSError:
        pass
    import scipy

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def routing_benchmarks(ctx: AppContext, seed: int, pairs: int) -> dict[str, Any]:
    area = ctx.area
    router, _ = ctx.router(quiet=True)
    results: dict[str, Any] = {"machine": machine()}

    console.print("graph build from OSM (3 runs)…")
    results["build_from_osm"] = _stats_ms(
        _timed(lambda: build_road_graph(area, router.area), runs=3)
    )
    console.print("cached load in process (20 runs)…")
    results["cached_load_in_process"] = _stats_ms(
        _timed(lambda: load_router(area, ctx.settings.cache_dir), runs=20)
    )
    console.print("cached load in a fresh process, imports included (5 runs)…")
    script = (
        "import time; t=time.perf_counter(); from pathlib import Path; "
        "from routing.config import load_area; from routing import load_router; "
        f"load_router(load_area({str(ctx.area.source)!r}), Path({str(ctx.settings.cache_dir)!r})); "
        "print(time.perf_counter()-t)"
    )
    fresh = [
        float(
            subprocess.run(
                [sys.executable, "-c", script], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(5)
    ]
    results["cached_load_fresh_process"] = _stats_ms(fresh)

    nodes = np.array(ctx.stop_nodes(), dtype=np.int64)
    rng = np.random.default_rng(seed)
    # 200 places: every meeting point, topped up with random junctions in the service area.
    x, y = router.graph.node_xy()
    in_area = np.flatnonzero(np.asarray(router.area.contains_xy(x, y), dtype=bool))
    extra = rng.choice(np.setdiff1d(in_area, nodes), size=max(0, 200 - nodes.size), replace=False)
    sample = np.concatenate((nodes, extra))[:200]
    console.print(f"{sample.size} x {sample.size} matrix (20 runs)…")
    results["matrix_200x200"] = {
        "size": int(sample.size),
        "meeting_points": int(min(nodes.size, 200)),
        **_stats_ms(_timed(lambda: router.matrix(sample, sample), runs=20)),
    }
    console.print(f"single point-to-point queries ({pairs} random pairs of meeting points)…")
    a = rng.choice(nodes, size=pairs)
    b = rng.choice(nodes, size=pairs)
    results["route_single"] = _stats_ms(_single(router, a, b, with_path=True))
    results["time_single"] = _stats_ms(_single(router, a, b, with_path=False))
    console.print(f"snapping {pairs} random positions in the town…")
    results["snap"] = _stats_ms(_snaps(router, rng, pairs))
    return results


def _single(router: Router, a: np.ndarray, b: np.ndarray, *, with_path: bool) -> list[float]:
    out = []
    for o, d in zip(a.tolist(), b.tolist(), strict=True):
        start = time.perf_counter()
        if with_path:
            router.route(o, d)
        else:
            router.matrix([o], [d])
        out.append(time.perf_counter() - start)
    return out


def _snaps(router: Router, rng: np.random.Generator, n: int) -> list[float]:
    min_lon, min_lat, max_lon, max_lat = router.area.boundary.bounds
    out: list[float] = []
    while len(out) < n:
        lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        x, y = router.area.projection.to_xy(lat, lon)
        if not bool(router.area.contains_xy(float(x), float(y), margin=False)):
            continue
        start = time.perf_counter()
        # A point far from roads still costs a lookup; time it all the same.
        with contextlib.suppress(DrtError):
            router.snap(float(lat), float(lon))
        out.append(time.perf_counter() - start)
    return out


def _markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    r = results
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
        f"NumPy {m['numpy']}, SciPy {m['scipy']}, with `make bench` (`drt bench routing`). "
        "Wall-clock times from `time.perf_counter`; median, 95th percentile and best of the runs.",
        "",
        "| what | how | runs | median | p95 | best | target |",
        "|---|---|---|---|---|---|---|",
        _row(
            "graph build from OSM",
            "osmnx load of the graphml + crop + SCC + arrays",
            r["build_from_osm"],
            "",
        ),
        _row(
            "cached load (in process)",
            "`load_router`: .npz + snap index",
            r["cached_load_in_process"],
            "< 1 s",
        ),
        _row(
            "cached load (fresh process)",
            "new Python: imports + `load_router`",
            r["cached_load_fresh_process"],
            "< 1 s",
        ),
        _row(
            f"{r['matrix_200x200']['size']} x {r['matrix_200x200']['size']} matrix",
            f"time + distance; {r['matrix_200x200']['meeting_points']} meeting points + random junctions",
            r["matrix_200x200"],
            "< 300 ms",
        ),
        _row(
            "point-to-point route",
            "`Router.route`: time, distance, path, polyline",
            r["route_single"],
            "< 2 ms",
        ),
        _row("point-to-point time only", "`Router.matrix` 1 x 1", r["time_single"], "< 2 ms"),
        _row("snap a position", "random points inside the boundary", r["snap"], ""),
    ]
    return "\n".join(lines) + "\n"


def _row(what: str, how: str, s: dict[str, Any], target: str) -> str:
    def fmt(ms: float) -> str:
        return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.2f} ms"

    return f"| {what} | {how} | {s['runs']} | {fmt(s['median_ms'])} | {fmt(s['p95_ms'])} | {fmt(s['min_ms'])} | {target} |"


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the text between `<!-- bench:NAME:start -->` and `:end -->` (or append it)."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n"
    block = f"{start}\n{body}{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {name.capitalize()}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")


def stops_benchmarks(ctx: AppContext, targets: list[int]) -> list[dict[str, Any]]:
    """Optimised vs greedy placement at several point counts (coverage and time)."""
    from dataclasses import replace

    from routing.coverage import coverage_report
    from routing.osm_features import read_places, read_pois
    from routing.placement import generate_meeting_points

    router, _ = ctx.router(quiet=True)
    area = ctx.area
    pois, places = read_pois(area.roads_pois), read_places(area.places)
    rows = []
    for target in targets:
        cfg = replace(area, stops=replace(area.stops, target_count=target))
        console.print(f"placing {target} meeting points…")
        start = time.perf_counter()
        result = generate_meeting_points(router, cfg, pois, places, "KUR")
        seconds = time.perf_counter() - start
        highways = cfg.stops.coverage_highways
        for method, nodes in (
            ("POIs + HiGHS", result.nodes),
            ("POIs + greedy", result.greedy_nodes),
        ):
            report = coverage_report(router.graph, router.area, nodes, highways)
            other = coverage_report(router.graph, router.area, nodes, ["unclassified"])
            rows.append(
                {
                    "points": len(nodes),
                    "method": method,
                    "within_200m": report["within_200m"],
                    "within_300m": report["within_300m"],
                    "within_500m": report["within_500m"],
                    "unclassified_300m": other["within_300m"],
                    "seconds": seconds if method.endswith("HiGHS") else None,
                }
            )
    return rows


def _stops_markdown(rows: list[dict[str, Any]]) -> str:
    m = machine()
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores) with `drt bench stops`. "
        "Coverage is the union along each road (see docs/architecture.md) of residential + "
        "living_street roads inside the boundary, walking both ways along drivable roads; the "
        "last column is the same at 300 m for unclassified roads. Seconds: the whole "
        "generation (POIs, distances, greedy, HiGHS, naming), wall clock, one run.",
        "",
        "| points | method | ≤ 200 m | ≤ 300 m | ≤ 500 m | unclassified ≤ 300 m | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        secs = f"{r['seconds']:.1f}" if r["seconds"] is not None else ""
        lines.append(
            f"| {r['points']} | {r['method']} | {r['within_200m']:.1%} | {r['within_300m']:.1%} | "
            f"{r['within_500m']:.1%} | {r['unclassified_300m']:.1%} | {secs} |"
        )
    return "\n".join(lines) + "\n"


@app.command()
@handles_errors
def stops(
    typer_ctx: typer.Context,
    targets: str = typer.Option("130,150,180,200", help="point counts to compare"),
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Meeting point placement: optimised vs greedy coverage at several point counts."""
    ctx: AppContext = typer_ctx.obj
    rows = stops_benchmarks(ctx, [int(t) for t in targets.split(",") if t.strip()])
    if write is not None:
        write_section(write, "stops", _stops_markdown(rows))
    if fmt == Format.json:
        print_json(rows)
        return
    print_table(
        "placement",
        ["points", "method", "200 m", "300 m", "500 m"],
        [
            (
                r["points"],
                r["method"],
                f"{r['within_200m']:.1%}",
                f"{r['within_300m']:.1%}",
                f"{r['within_500m']:.1%}",
            )
            for r in rows
        ],
    )


def offer_latency(
    ctx: AppContext, fleets: list[int], quotes: int, seed: int
) -> list[dict[str, Any]]:
    """Quote latency with realistic committed plans on Kurate's meeting points."""
    from dispatch.engine import Dispatcher
    from dispatch.model import Mode, Offer, TripRequest, VehicleSpec
    from dispatch.params import load_params

    router, _ = ctx.router(quiet=True)
    nodes = ctx.stop_nodes()
    travel = router.matrix(nodes, nodes).duration_s.astype(np.int64)
    params = load_params(ctx.area.source.parent / "service.toml").with_peak_bands(
        tuple((p.start_s, p.end_s, p.factor_pct) for p in ctx.area.routing.peak), 0
    )  # as the live service plans (this clock is seconds of the day: 08:00 is in a peak)
    depot = next((i for i, p in enumerate(ctx.stops().points) if p.kind == "town_hall"), 0)
    rows = []
    for fleet in fleets:
        rng = np.random.default_rng(seed)
        d = Dispatcher(params, travel)
        now = 8 * 3600
        for i in range(fleet):
            d.add_vehicle(VehicleSpec(f"v{i}", 8, 1, depot, 7 * 3600, 19 * 3600))
            d.start_shift(f"v{i}", int(rng.integers(len(nodes))), now)

        def request(rid: str, rng: np.random.Generator = rng, now: int = now) -> TripRequest:
            o, dest = rng.choice(len(nodes), size=2, replace=False)
            if rng.random() < 0.3:
                return TripRequest(rid, int(o), int(dest), Mode.ASAP, None, int(rng.integers(1, 3)))
            at = now + int(rng.integers(300, 4 * 3600))
            return TripRequest(rid, int(o), int(dest), Mode.DEPART_AT, at, int(rng.integers(1, 3)))

        # Commit about four trips per vehicle (eight planned stops) before measuring.
        attempts = 0
        while sum(len(p) for p in d.plans.values()) < 8 * fleet and attempts < 20 * fleet:
            attempts += 1
            answer = d.quote(request(f"c{attempts}"), now)
            if isinstance(answer, Offer):
                d.confirm(answer.booking_id, now)
        stops = sum(len(p) for p in d.plans.values())
        samples = []
        offered = 0
        for q in range(quotes):
            r = request(f"q{q}")
            start = time.perf_counter()
            answer = d.quote(r, now)
            samples.append(time.perf_counter() - start)
            if isinstance(answer, Offer):
                offered += 1
                d.cancel(answer.booking_id, now)
            else:
                for alt in answer.alternatives:
                    d.cancel(alt.booking_id, now)
        ms = np.array(samples) * 1000
        rows.append(
            {
                "vehicles": fleet,
                "planned_stops": stops,
                "quotes": quotes,
                "offered_share": round(offered / quotes, 3),
                "p50_ms": round(float(np.percentile(ms, 50)), 2),
                "p95_ms": round(float(np.percentile(ms, 95)), 2),
                "p99_ms": round(float(np.percentile(ms, 99)), 2),
            }
        )
        err_console.print(
            f"{fleet} vehicles: {rows[-1]}"
        )  # progress: stdout stays JSON with -f json
    return rows


def _offers_markdown(rows: list[dict[str, Any]]) -> str:
    m = machine()
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores) with `drt bench offers`. "
        "Kurate's 180 meeting points and real road travel times; vehicles start at random "
        "meeting points at 08:00 with about four committed trips each (30 % as-soon-as-possible, "
        "the rest depart-at within 4 hours, 1-2 riders), then random new requests are quoted "
        "one at a time (each offer cancelled again so the load stays the same). Latency is "
        "the wall time of `Dispatcher.quote`, alternatives included when the first try fails.",
        "",
        "| vehicles | planned stops | quotes | offered | p50 | p95 | p99 |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['vehicles']} | {r['planned_stops']} | {r['quotes']} | {r['offered_share']:.0%} | "
            f"{r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms | {r['p99_ms']:.1f} ms |"
        )
    return "\n".join(lines) + "\n"


@app.command()
@handles_errors
def offers(
    typer_ctx: typer.Context,
    vehicles: str = typer.Option("3,20,100,300", help="fleet sizes"),
    quotes: int = typer.Option(300, help="quotes measured per fleet size"),
    seed: int = typer.Option(7),
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Offer latency (p50, p95, p99) of the live engine for several fleet sizes."""
    ctx: AppContext = typer_ctx.obj
    rows = offer_latency(ctx, [int(v) for v in vehicles.split(",") if v.strip()], quotes, seed)
    if write is not None:
        write_section(write, "offers", _offers_markdown(rows))
    if fmt == Format.json:
        print_json(rows)
        return
    print_table("offer latency", list(rows[0]), [tuple(r.values()) for r in rows])


DARP_ROOT = Path(__file__).resolve().parents[1] / "benchmarks" / "darp"


def _darp_markdown(rows: list[dict[str, Any]], time_limit: float, jobs: int, seed: int) -> str:
    m = machine()
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores) with "
        f"`drt bench darp --time-limit {time_limit:g} --jobs {jobs}`: the static ALNS "
        f"(`dispatch/static.py`) on one core per instance, seed {seed}; *iterations* are the "
        "destroy-and-repair steps it made in the time (fewer on a busy machine). `feasible` is "
        "the verdict of "
        "the independent checker (`dispatch/darp_check.py`, an exact LP per route); `cost` is "
        "recomputed by the checker from the instance file. Gaps for pr are against the "
        "2003 tabu-search costs shipped with the instances, not the current best known.",
        "",
    ]
    for prefix in sorted({r["instance"].rstrip("0123456789-")[:2] for r in rows}):
        mine = [r for r in rows if r["instance"].startswith(prefix)]
        gaps = [r["gap_pct"] for r in mine if r["gap_pct"] is not None]
        feasible = sum(1 for r in mine if r["feasible"])
        if gaps:
            lines.append(
                f"- **{prefix}**: {len(mine)} instances, {feasible} feasible, mean gap "
                f"{sum(gaps) / len(gaps):.2f} %, worst {max(gaps):.2f} %, "
                f"mean {sum(r['seconds'] for r in mine) / len(mine):.0f} s"
            )
    lines += [
        "",
        "| instance | vehicles | requests | cost | best known | gap % | seconds | iterations "
        "| feasible |",
    ]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gap = "" if r["gap_pct"] is None else f"{r['gap_pct']:.2f}"
        best = "" if r["bks"] is None else f"{r['bks']:.2f}"
        ok = "yes" if r["feasible"] else "NO"
        lines.append(
            f"| {r['instance']} | {r['vehicles']} | {r['requests']} | {r['cost']:.2f} | "
            f"{best} | {gap} | {r['seconds']:.1f} | {r['iterations']} | {ok} |"
        )
    return "\n".join(lines) + "\n"


@app.command()
@handles_errors
def darp(
    sets: str = typer.Option("a", "--set", help="a, b, pr, or several: a,b,pr"),
    instances: str = typer.Option("", help="only these instances, e.g. a2-16,a3-24"),
    time_limit: float = typer.Option(60.0, help="seconds per instance"),
    jobs: int = typer.Option(1, help="instances solved in parallel (one core each)"),
    seed: int = typer.Option(1),
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    write_solutions: Path | None = typer.Option(None, help="write DIR/<instance>.json routes"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Static solver on the published DARP benchmarks (Cordeau 2006, Ropke+ 2007, C&L 2003)."""
    from concurrent.futures import ProcessPoolExecutor

    from dispatch.benchmark import run_instance
    from dispatch.darp import instance_files, read_bks

    names = [n.strip() for n in instances.split(",") if n.strip()]
    chosen = [s.strip() for s in sets.split(",") if s.strip()]
    if names:
        chosen = sorted({"pr" if n.startswith("pr") else n[0] for n in names})
    files = instance_files(DARP_ROOT, chosen, names or None)
    bks = read_bks(DARP_ROOT / "bks.csv")
    if fmt != Format.json:
        console.print(f"{len(files)} instances, {time_limit:g} s each, {jobs} at a time…")
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(run_instance, f, bks.get(f.name.removesuffix(".txt")), time_limit, seed)
            for f in files
        ]
        rows = []
        for fut in futures:
            row = fut.result()
            rows.append(row)
            if fmt != Format.json:
                console.print(
                    f"{row['instance']}: {row['cost']:.2f} (best known {row['bks']}, gap "
                    f"{row['gap_pct']} %), {row['seconds']} s, feasible {row['feasible']}"
                )
    if write_solutions is not None:
        write_solutions.mkdir(parents=True, exist_ok=True)
        for row in rows:
            (write_solutions / f"{row['instance']}.json").write_text(
                json.dumps(
                    {"instance": row["instance"], "cost": row["cost"], "routes": row["routes"]}
                )
            )
    if write is not None:
        write_section(write, "darp", _darp_markdown(rows, time_limit, jobs, seed))
    public = [
        {k: v for k, v in r.items() if k not in ("routes", "problems", "iterations")} for r in rows
    ]
    if fmt == Format.json:
        print_json(public)
        return
    print_table(
        "DARP benchmarks",
        ["instance", "K", "n", "cost", "bks", "gap %", "s", "feasible"],
        [tuple(r.values()) for r in public],
    )


@app.command()
@handles_errors
def routing(
    typer_ctx: typer.Context,
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    seed: int = typer.Option(7, help="seed for the random pairs"),
    pairs: int = typer.Option(1000, help="number of single queries"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Graph build, cached load, 200 x 200 matrix and single queries."""
    ctx: AppContext = typer_ctx.obj
    results = routing_benchmarks(ctx, seed, pairs)
    if write is not None:
        write_section(write, "routing", _markdown(results))
    if fmt == Format.json:
        print_json(results)
        return
    rows = [
        (k, v["median_ms"], v["p95_ms"], v["runs"]) for k, v in results.items() if k != "machine"
    ]
    print_table("routing benchmarks (ms)", ["what", "median", "p95", "runs"], rows)
    if write is not None:
        console.print(f"written: {write}")


# -- planner simulation ----------------------------------------------------------------------

#: Profile buckets: (label, class.function whose inclusive time is counted).
SIM_PROFILE_TARGETS = (
    ("Dispatcher.quote", "Dispatcher.quote"),
    ("… build_problem", "Dispatcher.build_problem"),
    ("Dispatcher.update_vehicle", "Dispatcher.update_vehicle"),
    ("Dispatcher.plan", "Dispatcher.plan"),
)


def _profile_day(run: Callable[[], object]) -> dict[str, Any]:
    """Where one simulated day spends its time (pyinstrument, 1 ms sampling)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    run()
    profiler.stop()
    root = profiler.last_session.root_frame() if profiler.last_session else None
    if root is None:
        return {"total_s": 0.0, "buckets": {}, "top_self": []}
    inclusive: dict[str, float] = {}
    kernels = 0.0
    self_time: dict[str, float] = {}

    def name(frame: Any) -> str:
        return f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function

    def walk(frame: Any, active: frozenset[str], in_kernel: bool) -> None:
        nonlocal kernels
        key = name(frame)
        kernel = (frame.file_path or "").endswith("dispatch/kernels.py")
        if kernel and not in_kernel:
            kernels += frame.time
        if key not in active:
            inclusive[key] = inclusive.get(key, 0.0) + frame.time
        parent = frame.parent
        if frame.function == "[self]" and parent is not None and parent.parent is not None:
            where = f"{name(parent)} ({parent.file_path_short}:{parent.line_no})"
            self_time[where] = self_time.get(where, 0.0) + frame.time
        for child in frame.children:
            walk(child, active | {key}, in_kernel or kernel)

    walk(root, frozenset(), False)
    total = root.time
    buckets = {label: inclusive.get(target, 0.0) for label, target in SIM_PROFILE_TARGETS}
    buckets["compiled kernels (dispatch/kernels.py)"] = kernels
    top = sorted(self_time.items(), key=lambda kv: -kv[1])[:8]
    return {
        "total_s": round(total, 2),
        "buckets": {k: round(v, 2) for k, v in buckets.items()},
        "top_self": [(k, round(v, 2)) for k, v in top],
    }


def sim_benchmarks(ctx: AppContext, names: list[str], runs: int, seed: int) -> dict[str, Any]:
    """Per scenario: simulate() alone, `drt sim run` end to end (fresh process), a profile."""
    import tempfile

    from drt.sim_cli import scenario_folder, service_params, world_for
    from sim.scenario import find_scenario
    from sim.simulator import simulate

    base = service_params(ctx)
    results: dict[str, Any] = {"machine": machine(), "load_before": _loadavg(), "scenarios": []}
    for name in names:
        sc = find_scenario(name, scenario_folder(ctx))
        params = sc.service_params(base)
        start = time.perf_counter()
        world = world_for(ctx, sc, quiet=True)
        world_s = time.perf_counter() - start
        n = runs if sc.demand.trips_per_day <= 1000 else 1
        console.print(f"{name}: simulate() x {n}…")
        days = []
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            days.append(simulate(sc, world, params, seed))
            samples.append(time.perf_counter() - start)
        console.print(f"{name}: `drt sim run` end to end x {n}…")
        ends = []
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "drt", "sim", "run", name, "--seed", str(seed)]
            cmd += ["--out", tmp, "--format", "json"]
            for _ in range(n):
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                ends.append(time.perf_counter() - start)
        console.print(f"{name}: profile…")
        profile = _profile_day(functools.partial(simulate, sc, world, params, seed))
        day = days[0]
        results["scenarios"].append(
            {
                "scenario": name,
                "vehicles": day.vehicles,
                "requests": len(day.trips),
                "events": day.events,
                "world_s": round(world_s, 3),
                "simulate_s": round(float(np.median(samples)), 2),
                "simulate_runs": n,
                "end_to_end_s": round(float(np.median(ends)), 2),
                "end_to_end_runs": n,
                "same_kpis_every_run": len({repr(d.trips[-1].row()) for d in days}) == 1,
                "profile": profile,
            }
        )
        console.print(f"{name}: {results['scenarios'][-1]['simulate_s']} s simulate, "
                      f"{results['scenarios'][-1]['end_to_end_s']} s end to end")  # fmt: skip
    results["load_after"] = _loadavg()
    return results


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _sim_markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    targets = {"kurate-today": "< 5 s", "city-scale": "< 3 min"}
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, with "
        "`drt bench sim` (`make bench`), seed 1. *simulate* is the wall time of "
        "`sim.simulator.simulate` for one day in a warm process (median of the runs); *end to "
        "end* is `drt sim run SCENARIO --format json` in a fresh process: Python start-up and "
        "imports, the cached world, the day, KPIs, CSV files, the hindsight-free HTML report with "
        "its four plots and the map routed on the road graph. The 2 cores are shared with "
        "another engineer's CPU-heavy experiments (load average "
        f"{r['load_before']} before, {r['load_after']} after), so figures are noisy: "
        "a single city-scale run can differ by tens of seconds from the next. The profiled "
        "day runs slower than the timed one (sampling overhead).",
        "",
        "| scenario | vehicles | requests | events | simulate | end to end | runs | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in r["scenarios"]:
        lines.append(
            f"| {s['scenario']} | {s['vehicles']} | {s['requests']:,} | {s['events']:,} | "
            f"{s['simulate_s']:.2f} s | {s['end_to_end_s']:.2f} s | {s['simulate_runs']} | "
            f"{targets.get(s['scenario'], '')} |"
        )
    labels = list(r["scenarios"][0]["profile"]["buckets"]) if r["scenarios"] else []
    lines += [
        "",
        "Where a simulated day spends its time (pyinstrument, 1 ms sampling, one day each; "
        "inclusive time, so *… build_problem* is part of the quote and update time, and the "
        "compiled kernels are part of both):",
        "",
        "| scenario | day (profiled) | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for s in r["scenarios"]:
        p = s["profile"]
        total = max(p["total_s"], 1e-9)
        cells = [f"{v:.2f} s ({v / total:.0%})" for v in p["buckets"].values()]
        lines.append(f"| {s['scenario']} | {p['total_s']:.2f} s | " + " | ".join(cells) + " |")
    if r["scenarios"]:
        big = r["scenarios"][-1]
        lines += ["", f"Most self time in {big['scenario']}:", ""]
        lines += [f"- `{where}`: {secs:.1f} s" for where, secs in big["profile"]["top_self"]]
    return "\n".join(lines) + "\n"


@app.command("sim")
@handles_errors
def sim_bench(
    typer_ctx: typer.Context,
    scenarios: str = typer.Option("kurate-today,kurate-2028,city-scale", help="scenario names"),
    runs: int = typer.Option(3, help="runs per scenario (one for days above 1,000 trips)"),
    seed: int = typer.Option(1),
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Planner simulation: a day's wall time per scenario, end to end, and a profile."""
    ctx: AppContext = typer_ctx.obj
    names = [n.strip() for n in scenarios.split(",") if n.strip()]
    results = sim_benchmarks(ctx, names, runs, seed)
    if write is not None:
        write_section(write, "sim", _sim_markdown(results))
    if fmt == Format.json:
        print_json(results)
        return
    print_table(
        "planner simulation",
        ["scenario", "vehicles", "requests", "simulate (s)", "end to end (s)"],
        [
            (s["scenario"], s["vehicles"], s["requests"], s["simulate_s"], s["end_to_end_s"])
            for s in results["scenarios"]
        ],
    )
