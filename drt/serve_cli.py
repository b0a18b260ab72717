"""`drt demo`, `drt serve` and `drt db ...`: run the booking service."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session

from common.db import make_engine, make_sessionmaker
from common.metrics import MULTIPROC_ENV
from common.settings import Settings
from drt.context import AppContext
from drt.output import console, handles_errors
from server.logs import log_config


@contextmanager
def transaction(settings: Settings) -> Iterator[Session]:
    """A session on the configured database, committed at the end (one short CLI task)."""
    engine = make_engine(settings.effective_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
            session.commit()
    finally:
        engine.dispose()


db_app = typer.Typer(help="データベース / database schema", no_args_is_help=True)


def prepare_database(settings: Settings) -> None:
    from server.migrate import upgrade

    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@db_app.command("upgrade")
@handles_errors
def db_upgrade(typer_ctx: typer.Context) -> None:
    """Apply the database migrations (safe to run again)."""
    ctx: AppContext = typer_ctx.obj
    prepare_database(ctx.settings)
    console.print("database schema is up to date")


@db_app.command("create-staff")
@handles_errors
def create_staff(
    typer_ctx: typer.Context,
    username: str,
    role: str = typer.Option("operator", help="operator | admin | channel"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create an operator, admin or channel (app backend) account; an existing one is left
    as it is (it says so: its password is not changed)."""
    from sqlalchemy import select

    from residents.models import Staff
    from residents.service import check_password
    from residents.service import create_staff as create

    check_password(password, role)
    ctx: AppContext = typer_ctx.obj
    with transaction(ctx.settings) as session:
        existing = session.scalar(select(Staff).where(Staff.username == username))
        if existing is not None:
            console.print(
                f"[yellow]{username} はすでにあります({existing.role})。何も変えていません。"
                "パスワードは管理者が操作画面の「職員」で変えます。[/yellow]\n"
                f"{username} exists already ({existing.role}): nothing changed, its password "
                "included. An admin changes passwords on the console's staff page."
            )
            return
        create(session, username, password, role)
    console.print(f"created {role} {username}")


@db_app.command("add-tablet")
@handles_errors
def add_tablet(typer_ctx: typer.Context, vehicle: str) -> None:
    """Register a vehicle's tablet; prints its device token once (enter it on the tablet)."""
    from driver_app_api.service import create_device

    ctx: AppContext = typer_ctx.obj
    with transaction(ctx.settings) as session:
        token = create_device(session, vehicle)
    console.print(f"device token for {vehicle}: {token}")


@db_app.command("add-driver")
@handles_errors
def add_driver(
    typer_ctx: typer.Context,
    login: str,
    name: str,
    pin: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Register a driver: the number and PIN typed on the tablet."""
    from driver_app_api.service import check_pin, create_driver

    check_pin(pin)
    ctx: AppContext = typer_ctx.obj
    with transaction(ctx.settings) as session:
        create_driver(session, login, name, pin)
    console.print(f"driver {login} ({name}) registered")


def serve(
    typer_ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    workers: int = typer.Option(2, envvar="DRT_WORKERS", help="API worker processes"),
) -> None:
    """Run the booking service on PostgreSQL and Redis (DRT_DATABASE_URL, DRT_REDIS_URL)."""
    from server.seed import demo_leftovers
    from town.surveys import survey_key_problems

    ctx: AppContext = typer_ctx.obj
    ctx.router()  # build the road graph cache once, before the workers start
    prepare_database(ctx.settings)
    with transaction(ctx.settings) as session:
        problems = demo_leftovers(ctx.settings, session)
    problems += survey_key_problems(ctx.settings)
    if problems:
        for p in problems:
            console.print(f"[red]refused:[/red] {p}")
        console.print("`drt serve` does not run with the demo's published secrets or accounts.")
        raise typer.Exit(2)
    console.print(f"API: http://{host}:{port}/docs")
    # every worker writes its metrics here and /metrics reads them all (common/metrics.py);
    # emptied at each start: counters start again from 0 with the processes
    metrics_dir = ctx.settings.cache_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(metrics_dir.resolve())
    uvicorn.run("server.app:from_env", factory=True, host=host, port=port, workers=workers,
                log_config=log_config(fmt=ctx.settings.log_format))  # fmt: skip


def demo(
    typer_ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port"),
    run_for: float = typer.Option(0, help="stop after this many seconds (0: until Ctrl-C)"),
) -> None:
    """Everything on the embedded default (SQLite, in-process Redis): no servers to install."""
    from common.clock import at
    from core.world import World
    from line_channel.demo import demo_settings
    from server import seed
    from server.app import create_app
    from server.demo import DemoFleet, demo_clock, describe_clock

    ctx: AppContext = typer_ctx.obj
    settings = demo_settings(ctx.settings.model_copy(update={"embedded": True}), host, port)
    router, _ = ctx.router()
    world = World.build(ctx.area, router)
    prepare_database(settings)
    clock = demo_clock(world.config.calendar)
    with transaction(settings) as session:
        seed.seed_demo(session)
        seed.seed_garbage_sample(session, ctx.area.source.parent / "garbage-sample")
        seed.seed_town_sample(session, at(clock()), world.config.calendar.time_zone,
                              [p.id for p in world.stops.points])  # fmt: skip
    fleet: list[DemoFleet] = []

    def start_fleet(app: FastAPI) -> None:
        f = DemoFleet(app.state.host)
        f.start()
        fleet.append(f)

    app = create_app(settings, world=world, clock=clock, extra_startup=start_fleet)
    base = f"http://{host}:{port}"
    console.print(f"[bold]{ctx.area.name} のりあいバス デモ / Kurate DRT demo[/bold]")
    console.print(describe_clock(clock, world.config.calendar.time_zone))
    console.print(f"API docs (OpenAPI):       {base}/docs")
    console.print(f"OpenAPI JSON:             {base}/openapi.json")
    console.print(
        f"operator console:         {base}/console/  "
        f"username={seed.DEMO_OPERATOR[0]} password={seed.DEMO_OPERATOR[1]}"
    )
    console.print(
        f"driver tablet:            {base}/driver/  端末コード {seed.DEMO_TABLET}  "
        f"乗務員番号 {seed.DEMO_DRIVER[0]}  暗証番号 {seed.DEMO_DRIVER[1]}"
    )
    console.print(f"LINE (stand-in):          {base}/line/demo")
    console.print(f"database (SQLite):        {Path(settings.embedded_database_url[10:])}")
    console.print("Map data © OpenStreetMap contributors, ODbL 1.0")
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", log_config=log_config("warning")
    )
    server = uvicorn.Server(config)
    if run_for > 0:
        threading.Timer(run_for, lambda: setattr(server, "should_exit", True)).start()
    server.run()
    for f in fleet:
        f.stop.set()
