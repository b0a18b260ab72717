"""`drt bench load`: the booking service under Locust, on servers of its own, recorded.

Starts a private Redis and PostgreSQL cluster (``loadtests/services.py``, the same code the
fault tests use), `drt serve --workers 2` on them, and (unless ``--no-line``) a LINE
stand-in for the webhook's replies; makes the data (staff, residents, tablets and drivers);
runs ``locust --headless`` against 127.0.0.1 for ``--run-time`` seconds; then checks from the
database that no plan was overbooked, and writes what it measured into ``--write``
(docs/load.md) between markers, one section per ``--label``. Everything it started is
stopped again, whatever happens.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import typer

from drt.bench import _loadavg, machine, write_section
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

ROOT = Path(__file__).resolve().parents[1]
BOOKING = ("/v1/quotes", "/v1/bookings", "/v1/operator/quotes", "/v1/operator/bookings")


def fleet_area(area_toml: Path, vans: int, into: Path) -> Path:
    """A copy of the area with ``vans`` vans (8 seats, 1 wheelchair) instead of its fleet.

    The road data and meeting points are linked, not copied (the graph cache is keyed by
    their content, so it is reused)."""
    src = area_toml.resolve().parent
    into.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name not in (area_toml.name, "booking.toml"):
            (into / entry.name).symlink_to(entry)
    shutil.copy(area_toml, into / area_toml.name)
    text = (src / "booking.toml").read_text(encoding="utf-8")
    head = text[: text.index("[[vehicles]]")] if "[[vehicles]]" in text else text
    blocks = [
        f'[[vehicles]]\nid = "van-{k}"\nname = "負荷{k}号"\nseats = 8\nwheelchairs = 1\n'
        f'depot = "KUR-{(k * 37) % 180 + 1:03d}"\n'
        for k in range(1, vans + 1)
    ]
    (into / "booking.toml").write_text(head + "\n".join(blocks), encoding="utf-8")
    return into / area_toml.name


def read_stats(prefix: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Locust's per-endpoint statistics and its failures, from the CSV files."""
    stats = []
    with (prefix.parent / f"{prefix.name}_stats.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            stats.append({
                "method": row["Type"], "name": row["Name"], "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]), "rps": float(row["Requests/s"]),
                "p50_ms": float(row["50%"] or 0), "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0), "max_ms": float(row["Max Response Time"] or 0),
            })  # fmt: skip
    failures_csv = prefix.parent / f"{prefix.name}_failures.csv"
    counted: dict[tuple[str, str, str], int] = {}
    if failures_csv.is_file():
        with failures_csv.open(newline="") as fh:
            for row in csv.DictReader(fh):
                error = re.sub(r"'https?://[^']*'", "URL", row["Error"])  # one line per kind
                key = (row["Method"], row["Name"], error)
                counted[key] = counted.get(key, 0) + int(row["Occurrences"])
    failures = [{"method": k[0], "name": k[1], "error": k[2], "count": n}
                for k, n in sorted(counted.items(), key=lambda kv: -kv[1])]  # fmt: skip
    return stats, failures


class LoadSampler:
    """The 1-minute load average every few seconds while the run goes on."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every_s,), daemon=True)

    def _run(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            except (OSError, ValueError):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def writer_stats(base: str, tries: int = 40) -> dict[str, Any]:
    """The writers' counters of every worker ``/healthz`` reaches (each answer names its
    process; new connections land on either worker), summed over the workers seen."""
    seen: dict[int, dict[str, float]] = {}
    for _ in range(tries):
        try:
            body = httpx.get(f"{base}/healthz", timeout=5.0).json()
        except (httpx.HTTPError, ValueError):
            continue
        seen[int(body["pid"])] = body["writer"]
    total = {k: sum(w[k] for w in seen.values())
             for k in ("turns", "use_cases", "turn_s", "lock_wait_s")}  # fmt: skip
    turns = max(total["turns"], 1)
    return {**total, "workers_seen": len(seen), "mean_batch": total["use_cases"] / turns,
            "mean_turn_ms": 1000 * total["turn_s"] / turns}  # fmt: skip


def _markdown(r: dict[str, Any]) -> str:
    m, a = r["machine"], r["args"]
    state = r["database"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores, `nproc` {r['nproc']}), "
        f"Python {m['python']}, Locust {r['locust']}, code {r['code']}, with:",
        "",
        f"```sh\n{r['command']}\n```",
        "",
        f"`drt serve --workers {a['workers']}` on a private PostgreSQL 15 cluster and Redis "
        f"(all on 127.0.0.1), {r['vehicles']} van(s) × {r['service_days']} service days "
        f"({r['area']}); Locust runs on the same machine. Users: {r['user_mix']}; think time "
        f"{a['think_time']:g} s, cancel share {a['cancel_share']:g}. Load average before "
        f"{r['load_before']}, during the run {r['load_during']}, after {r['load_after']}"
        f"{' (the machine was shared with other work)' if r['busy'] else ''}.",
        "",
        f"**{r['quote_rps']:.1f} quotes/s and {r['confirm_rps']:.1f} confirmations/s** "
        f"(quote+confirm pairs: {r['pairs_rps']:.1f}/s; {r['offer_share']:.0%} of quotes got "
        f"an offer), {r['total_rps']:.1f} requests/s in all over {a['run_time']} s; "
        f"{r['failures']} failed requests; server errors logged: {r['server_errors']}.",
        "",
        *_writer_line(r.get("writer")),
        "| endpoint | requests | req/s | failures | p50 | p95 | p99 | max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in r["stats"]:
        name = "**all**" if s["name"] == "Aggregated" else f"{s['method']} `{s['name']}`"
        lines.append(
            f"| {name} | {s['requests']:,} | {s['rps']:.1f} | {s['failures']} | "
            f"{s['p50_ms']:.0f} ms | {s['p95_ms']:.0f} ms | {s['p99_ms']:.0f} ms | "
            f"{s['max_ms']:.0f} ms |"
        )
    if r["failure_rows"]:
        lines += ["", "Failures (Locust):", ""]
        lines += [f"- {f['method']} `{f['name']}`: {f['count']} × {f['error'][:200]}"
                  for f in r["failure_rows"][:10]]  # fmt: skip
    verdict = "no plan overbooked" if not state["overbooked_vehicles"] else "OVERBOOKED"
    lines += [
        "",
        f"Afterwards, from the database ({verdict}): the dispatcher rebuilt from "
        f"{state['log_entries']:,} `dispatch_log` entries holds {state['bookings_confirmed']} "
        f"confirmed bookings ({state['bookings_cancelled']} cancelled) on {state['vehicles']} "
        f"vehicle-days; at most {state['max_seats_in_use']} seats in use at once; vehicles "
        f"over capacity: {len(state['overbooked_vehicles'])}; plans breaking a rule: "
        f"{len(state['plans_breaking_rules'])}; booking rows the dispatcher does not hold: "
        f"{len(state['rows_not_in_dispatcher'])}, and the reverse: "
        f"{len(state['dispatcher_not_in_rows'])}.",
        "",
        "Percentiles are Locust's (response times bucketed to 2 significant digits above "
        "100 ms); req/s are over the whole run, ramp-up included.",
    ]
    if r.get("target"):
        t = r["target"]
        lines += ["", f"Target (≥ {t['pairs_rps']} quote+confirm/s, p95 < {t['p95_ms']} ms, "
                      f"zero errors): **{'met' if t['met'] else 'not met'}** "
                      f"({t['why']})."]  # fmt: skip
    return "\n".join(lines) + "\n"


def _writer_line(w: dict[str, Any] | None) -> list[str]:
    if not w or not w["turns"]:
        return []
    return [
        f"The writers ({w['workers_seen']} workers' `/healthz`): {w['turns']:,} turns "
        f"committed {w['use_cases']:,} use cases (mean {w['mean_batch']:.1f} per turn, group "
        f"commit); a turn held the area's lock {w['mean_turn_ms']:.1f} ms on average; "
        f"{w['lock_wait_s']:.1f} s waiting for the lock in all.",
        "",
    ]


def _target(r: dict[str, Any]) -> dict[str, Any]:
    """The issue's target: >= 200 quote+confirm/s, p95 < 250 ms, zero errors."""
    p95 = max((s["p95_ms"] for s in r["stats"] if s["name"] in BOOKING), default=0.0)
    why = [
        f"{r['pairs_rps']:.1f} pairs/s",
        f"worst p95 of quote/confirm {p95:.0f} ms",
        f"{r['failures']} failures",
    ]
    met = r["pairs_rps"] >= 200 and p95 < 250 and r["failures"] == 0
    return {"pairs_rps": 200, "p95_ms": 250, "met": met, "why": ", ".join(why)}


@handles_errors
def load(
    typer_ctx: typer.Context,
    users: int = typer.Option(50, help="booking-side Locust users (residents, operators, LINE)"),
    spawn_rate: float = typer.Option(20.0, help="users started per second"),
    run_time: int = typer.Option(60, help="seconds of load (ramp-up included)"),
    tablets: int = typer.Option(100, help="van tablets posting GPS at 1 Hz (on top of --users)"),
    line: bool = typer.Option(True, help="LINE webhook users (the server gets a channel secret)"),
    classes: str = typer.Option("", help="only these Locust user classes, e.g. ResidentUser"),
    vans: int = typer.Option(
        0, help="serve a copy of the area with this many vans (0: its own fleet)"
    ),
    think_time: float = typer.Option(1.0, help="seconds a user waits between tasks (0: none)"),
    cancel_share: float = typer.Option(0.2, help="share of resident bookings cancelled"),
    residents: int = typer.Option(0, help="residents to register (0: one per user, at least 20)"),
    workers: int = typer.Option(2, help="API worker processes"),
    label: str = typer.Option("load", help="section name in the --write file"),
    write: Path | None = typer.Option(None, help="write the results into this markdown file"),
    keep: bool = typer.Option(False, help="keep the run's folder (logs, CSV files, data)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """The booking service under load (Locust, headless, 127.0.0.1 only); checks overbooking."""
    from core.world import World
    from loadtests.checks import durable_state
    from loadtests.data import STAFF, create_load_data, service_windows
    from loadtests.line import SECRET, line_env, line_platform
    from loadtests.services import (
        DrtServer,
        prepare_database,
        private_backends,
        running_server,
        service_env,
    )
    from routing.config import load_area

    ctx: AppContext = typer_ctx.obj
    ctx.router()  # the road graph cache, built once before anything starts
    cache_dir = ctx.settings.cache_dir.resolve()
    picked = [c.strip() for c in classes.split(",") if c.strip()]
    with_line = line and (not picked or "LineUser" in picked)
    n_tablets = tablets if (not picked or "TabletUser" in picked) else 0
    results: dict[str, Any] = {"machine": machine(), "load_before": _loadavg(),
                               "nproc": os.cpu_count()}  # fmt: skip
    code = _code_version()
    workdir = Path(tempfile.mkdtemp(prefix="drt-load-"))
    try:
        area_toml = ctx.area_path.resolve()
        if vans > 0:
            area_toml = fleet_area(area_toml, vans, workdir / "area")
        world = World.load(load_area(area_toml), cache_dir)
        with ExitStack() as stack:
            err_console.print("starting Redis, PostgreSQL and drt serve (127.0.0.1) ...")
            backends = stack.enter_context(private_backends(workdir))
            url = backends.postgres.create_database("load")
            prepare_database(url, STAFF)
            extra = {"DRT_AREA": str(area_toml)}
            if with_line:
                extra.update(line_env(stack.enter_context(line_platform())))
            env = service_env(url, backends.redis.url, cache_dir, **extra)
            server = DrtServer(env, workdir / "serve.log", workers=workers)
            stack.enter_context(running_server(server, timeout_s=300))
            windows = service_windows(world.config.calendar, time.time(), lead_s=3600)
            data_path = workdir / "load-data.json"
            create_load_data(
                server.base, url, residents=residents or max(users, 20), tablets=n_tablets,
                callers=5 * max(users, 4),
                line_secret=SECRET if with_line else None, windows=windows, path=data_path,
            )  # fmt: skip
            prefix = workdir / "locust"
            cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests" / "locustfile.py"),
                   "--headless", "--host", server.base, "-u", str(users + n_tablets),
                   "-r", f"{spawn_rate:g}", "-t", f"{run_time}s", "--csv", str(prefix),
                   "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING", *picked]  # fmt: skip
            locust_env = {**os.environ, "DRT_LOAD_DATA": str(data_path),
                          "DRT_LOAD_THINK_S": f"{think_time:g}",
                          "DRT_LOAD_TABLETS": str(n_tablets),
                          "DRT_LOAD_CANCEL_SHARE": f"{cancel_share:g}",
                          "DRT_LOAD_LINE_SECRET": SECRET if with_line else ""}  # fmt: skip
            err_console.print(f"Locust: {users} users + {n_tablets} tablets for {run_time} s ...")
            with LoadSampler() as sampler:
                done = subprocess.run(cmd, env=locust_env, cwd=ROOT, capture_output=True,
                                      text=True, timeout=run_time + 300)  # fmt: skip
            (workdir / "locust.log").write_text(done.stdout + done.stderr)
            if not (prefix.parent / f"{prefix.name}_stats.csv").is_file():
                raise RuntimeError(f"locust wrote no statistics:\n{done.stderr[-3000:]}")
            stats, failure_rows = read_stats(prefix)
            results["writer"] = writer_stats(server.base)
            log_text = server.log_path.read_text(errors="replace")
            err_console.print("checking the database ...")
            state = durable_state(url, world)
        results["load_after"] = _loadavg()
        samples = sampler.samples or [0.0]
        results["load_during"] = (f"{min(samples):.2f}–{max(samples):.2f} "
                                  f"(1-min, sampled every 5 s)")  # fmt: skip
        results["busy"] = float(results["load_before"].split()[0]) >= 1.0  # others at work
        by_name = {s["name"]: s for s in stats}
        quotes = sum(by_name[n]["requests"] for n in BOOKING[::2] if n in by_name)
        confirms = sum(by_name[n]["requests"] - by_name[n]["failures"]
                       for n in BOOKING[1::2] if n in by_name)  # fmt: skip
        total = by_name.get("Aggregated", {"rps": 0.0, "failures": 0})
        span = max(run_time, 1)
        results.update({
            "locust": _locust_version(), "code": code, "args": {"users": users, "spawn_rate": spawn_rate,
            "run_time": run_time, "tablets": n_tablets, "line": with_line, "vans": vans,
            "think_time": think_time, "cancel_share": cancel_share, "workers": workers,
            "classes": picked},
            "command": _command(users, spawn_rate, run_time, n_tablets, with_line, picked, vans,
                                think_time, cancel_share, workers, label, write),
            "user_mix": _mix(picked, with_line, n_tablets),
            "area": (f"a copy of {ctx.area.name_en} with {vans} vans" if vans
                     else f"{ctx.area.name_en}'s own fleet"),
            "vehicles": len(world.config.vehicles), "service_days": len(windows),
            "stats": stats, "failure_rows": failure_rows,
            "failures": int(total["failures"]), "total_rps": float(total["rps"]),
            "quote_rps": quotes / span, "confirm_rps": confirms / span,
            "pairs_rps": confirms / span, "offer_share": confirms / quotes if quotes else 0.0,
            "server_errors": log_text.count("Traceback"), "database": state,
            "locust_exit": done.returncode,
        })  # fmt: skip
        if picked and set(picked) <= {"ResidentUser", "OperatorUser"}:  # only quote+confirm
            results["target"] = _target(results)
    finally:
        if keep:
            err_console.print(f"the run's files: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if write is not None:
        write_section(write, label, _markdown(results))
    if fmt == Format.json:
        print_json(results)
        return
    print_table(
        f"load ({label}): {results['total_rps']:.1f} req/s, {results['failures']} failures",
        ["endpoint", "requests", "req/s", "failures", "p50 ms", "p95 ms", "p99 ms"],
        [(s["name"], s["requests"], f"{s['rps']:.1f}", s["failures"], f"{s['p50_ms']:.0f}",
          f"{s['p95_ms']:.0f}", f"{s['p99_ms']:.0f}") for s in results["stats"]],
    )  # fmt: skip
    for f in results["failure_rows"][:10]:
        console.print(f"failed: {f['method']} {f['name']} ×{f['count']}: {f['error'][:200]}")
    state = results["database"]
    console.print(f"quote+confirm pairs/s: {results['pairs_rps']:.1f}; database check: "
                  f"{'ok' if state['ok'] else 'FAILED'} ({state})")  # fmt: skip


def _code_version() -> str:
    """The commit measured, and whether the work tree differed from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, timeout=10).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head} (work tree modified)" if dirty.strip() else head


def _locust_version() -> str:
    from importlib.metadata import version

    return version("locust")


def _mix(picked: list[str], line: bool, tablets: int) -> str:
    if picked:
        return ", ".join(picked)
    parts = ["residents 6 : operators 1" + (" : LINE 1" if line else "")]
    if tablets:
        parts.append(f"plus {tablets} tablets at 1 Hz")
    return " ".join(parts)


def _command(
    users: int, spawn_rate: float, run_time: int, tablets: int, line: bool, picked: list[str],
    vans: int, think_time: float, cancel_share: float, workers: int, label: str,
    write: Path | None,
) -> str:  # fmt: skip
    parts = [f"drt bench load --users {users} --spawn-rate {spawn_rate:g} --run-time {run_time}",
             f"--tablets {tablets}"]  # fmt: skip
    if not line:
        parts.append("--no-line")
    if picked:
        parts.append(f"--classes {','.join(picked)}")
    if vans:
        parts.append(f"--vans {vans}")
    parts.append(f"--think-time {think_time:g} --cancel-share {cancel_share:g}")
    if workers != 2:
        parts.append(f"--workers {workers}")
    parts.append(f"--label {label}")
    if write is not None:
        parts.append(f"--write {write}")
    return " ".join(parts)
