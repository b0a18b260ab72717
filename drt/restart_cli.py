"""`drt bench restart`: how long `drt serve` takes to answer again after kill -9, by the
length of the dispatch log it replays (the issue's target: under 5 s).

Everything runs on 127.0.0.1 on a private PostgreSQL cluster and Redis (the load tests'
`loadtests/services.py`). The log is grown in this process by the real dispatch host (quote
and confirm on a copy of the area with the chosen number of vans), then `drt serve
--workers 2` is started, killed with SIGKILL (its whole process group) and started again;
the time to the first `/healthz` answer whose replica has replayed the whole log is taken.
A start-up replays only the entries after the newest snapshot (:mod:`core.snapshots`);
each size is measured again with the snapshots deleted, the whole log replayed.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import typer

from drt.bench import _loadavg, machine, write_section
from drt.context import AppContext
from drt.output import console, err_console, handles_errors, print_table


def _grow_log(url: str, redis_url: str, world: Any, entries: int, bookings: int) -> int:
    """Quote and confirm through the dispatch host until the log holds ``bookings`` entries
    (or ``entries``, if fewer), then tablets' position reports (each van in service where it
    is, ``POSITIONS_PER_TURN`` to a turn) until it holds ``entries``: a day's GPS is most of
    a live log, and a restart's cost must not grow with it."""
    from common.db import make_engine, make_sessionmaker
    from common.redis import make_redis
    from core.bookings import trip_request
    from core.commands import Confirm, Quote, VehicleAt
    from core.host import DispatchHost
    from core.schemas import QuoteCreate
    from dispatch.model import Offer
    from loadtests.data import service_windows

    engine = make_engine(url)
    client = make_redis(redis_url)
    host = DispatchHost(world, make_sessionmaker(engine), client, "drt:", lambda: int(time.time()))
    rng = random.Random(1)
    stops = [f"KUR-{i:03d}" for i in range(1, 181)]  # Kurate's meeting points
    windows = service_windows(world.config.calendar, time.time(), lead_s=3600)
    try:
        with host.read():
            pass
        while host.seq < min(entries, bookings):
            start, end = rng.choice(windows)
            when = rng.randint(start, max(start, end - 3600))
            o, d = rng.sample(stops, 2)
            body = QuoteCreate.model_validate({
                "origin": o, "destination": d, "mode": "depart_at", "passengers": {"adult": 1},
                "time": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(when)),
            })  # fmt: skip
            with host.write() as step:
                result = step.do(Quote(trip_request(world, body, "app", step.now_s)))
                if isinstance(result, Offer):
                    step.do(Confirm(result.booking_id))
        while host.seq < entries:
            with host.write() as step:
                view = step.view
                vans = [
                    v for v in (view.vehicle(i) for i in view.vehicle_ids()) if v and v.in_service
                ]
                for i in range(min(POSITIONS_PER_TURN, entries - host.seq)):
                    v = vans[i % len(vans)]
                    node = world.places.nodes[v.place]
                    step.do(VehicleAt(v.id, node, step.now_s, locked=False))
            if host.seq % 10_000 < POSITIONS_PER_TURN:
                err_console.print(f"  {host.seq:,} entries")
        return host.seq
    finally:
        client.close()
        engine.dispose()


POSITIONS_PER_TURN = 25  # a turn of position reports stays short (the lock's keep-alive)


def _restart(server: Any, seq: int) -> tuple[float, int]:
    """Start ``server``; seconds until `/healthz` reports the log replayed to ``seq``, and
    the snapshot the answering worker started from."""
    started = time.monotonic()
    server.start(timeout_s=300)
    while True:  # every worker has replayed the log (start() waited for each)
        body = httpx.get(f"{server.base}/healthz", timeout=5.0).json()
        if body["log_seq"] >= seq:
            return time.monotonic() - started, int(body.get("snapshot_seq") or 0)


def _drop_snapshots(url: str) -> None:
    from sqlalchemy import delete

    from common.db import make_engine
    from core.models import DispatchSnapshot

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(delete(DispatchSnapshot))
    finally:
        engine.dispose()


@handles_errors
def restart(
    typer_ctx: typer.Context,
    entries: str = typer.Option("0,2000,5000,20000", help="log lengths to measure, in order"),
    vans: int = typer.Option(10, help="vans in the copy of the area (room for the bookings)"),
    bookings: int = typer.Option(
        1_000_000, help="log entries of quotes and confirmations; the rest are GPS reports"
    ),
    whole_log: bool = typer.Option(True, help="also restart with the snapshots deleted"),
    target_s: float = typer.Option(5.0, help="the restart time aimed at"),
    write: Path | None = typer.Option(None, help="write the results into this markdown file"),
    label: str = typer.Option("restart", help="section name in the --write file"),
) -> None:
    """Restart to serving after kill -9, by dispatch log length (127.0.0.1 only)."""
    from contextlib import ExitStack

    from core.world import World
    from drt.load_cli import _code_version, fleet_area
    from loadtests.data import STAFF
    from loadtests.services import DrtServer, prepare_database, private_backends, service_env
    from routing.config import load_area

    ctx: AppContext = typer_ctx.obj
    ctx.router()
    cache_dir = ctx.settings.cache_dir.resolve()
    sizes = sorted(int(x) for x in entries.split(",") if x.strip())
    rows: list[dict[str, Any]] = []
    before = _loadavg()
    with tempfile.TemporaryDirectory(prefix="drt-restart-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        area_toml = fleet_area(ctx.area_path.resolve(), vans, workdir / "area")
        world = World.load(load_area(area_toml), cache_dir)
        err_console.print("starting Redis and PostgreSQL (127.0.0.1) ...")
        backends = stack.enter_context(private_backends(workdir))
        url = backends.postgres.create_database("restart")
        prepare_database(url, STAFF)
        env = service_env(url, backends.redis.url, cache_dir, DRT_AREA=str(area_toml))
        for size in sizes:
            err_console.print(f"growing the dispatch log to {size:,} entries ...")
            seq = _grow_log(url, backends.redis.url, world, size, bookings)
            server = DrtServer(env, workdir / f"serve-{size}.log", workers=2)
            started = time.monotonic()
            server.start(timeout_s=300)
            cold = time.monotonic() - started
            server.kill()  # SIGKILL, the whole process group
            again, snapshot = _restart(server, seq)
            server.kill()
            whole = None
            if whole_log:
                _drop_snapshots(url)
                whole, _ = _restart(server, seq)
            server.stop()
            rows.append({"entries": seq, "start_s": cold, "restart_s": again,
                         "snapshot_seq": snapshot, "whole_log_s": whole})  # fmt: skip
            err_console.print(f"{seq:,} entries: start {cold:.1f} s, restart {again:.1f} s "
                              f"(snapshot {snapshot:,}), whole log {whole or 0:.1f} s")  # fmt: skip
    result = {"machine": machine(), "code": _code_version(), "rows": rows, "vans": vans,
              "load_before": before, "load_after": _loadavg(), "bookings": bookings,
              "target_s": target_s}  # fmt: skip
    if write is not None:
        write_section(write, label, _markdown(result, entries, vans))
    print_table(
        "restart to serving (drt serve --workers 2)",
        ["log entries", "start s", "kill -9 + restart s", "from snapshot", "whole log s"],
        [(f"{r['entries']:,}", f"{r['start_s']:.1f}", f"{r['restart_s']:.1f}",
          f"{r['snapshot_seq']:,}", _s(r['whole_log_s'])) for r in rows],
    )  # fmt: skip
    console.print(f"target: under {target_s:g} s")


def _s(x: float | None) -> str:
    return "not run" if x is None else f"{x:.1f} s"


def _markdown(r: dict[str, Any], entries: str, vans: int) -> str:
    m = r["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, code "
        f"{r['code']}, with `drt bench restart --entries {entries} --vans {vans} --bookings "
        f"{r['bookings']}` (load "
        f"average before {r['load_before']}, after {r['load_after']}). Each row: the log grown "
        f"to that length (quotes and confirmations by the dispatch host up to {r['bookings']:,}"
        " entries, tablets' position reports after that), `drt serve --workers "
        "2` started (until both workers have started and `/healthz` answers), killed with "
        "SIGKILL, started again until `/healthz` reports the whole log replayed (from the "
        "newest snapshot and the entries after it); then killed again, the snapshots deleted "
        "and started once more, replaying the whole log (what every start cost before "
        "snapshots).",
        "",
        "| dispatch log entries | start | kill -9, then restart to serving | started from the "
        "snapshot at | restart without snapshots |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {row['entries']:,} | {row['start_s']:.1f} s | {row['restart_s']:.1f} s | "
              f"{row['snapshot_seq']:,} | {_s(row['whole_log_s'])} |"
              for row in r["rows"]]  # fmt: skip
    worst = max((row["restart_s"] for row in r["rows"]), default=0.0)
    target = r["target_s"]
    lines += ["", f"Target (restart to serving under {target:g} s): "
                  f"**{'met' if worst < target else 'not met'}** (slowest {worst:.1f} s)."]  # fmt: skip
    return "\n".join(lines) + "\n"
