"""Backups, restores and the retention purge (server/backup.py, drt/db_ops_cli.py).

Backups run ``pg_dump`` / ``pg_restore`` on databases each test creates for itself
(``drt_bk_<random>``, dropped afterwards); the purge and the anonymisation run on the test's
own schema (``db_schema``). Nothing here touches another test's data.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from common.db import make_engine, make_sessionmaker
from common.errors import ConfigError, NotFound
from common.settings import load_settings
from core import models as cm
from core.errors import ResidentHasOpenBookings
from driver_app_api import models as dm
from drt import db_ops_cli
from drt.context import AppContext
from line_channel import models as lm
from residents import models as rm
from residents import schemas as rs
from residents.profile import district
from residents.service import Actor, register_resident
from server import backup as bk
from server.migrate import upgrade
from tests.harness import Backends, IsolatedDatabase
from town import models as tm

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PASSWORD = "pw-trust-ignores-it"


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture
def new_database(service_backends: Backends) -> Iterator[Callable[[], str]]:
    """Make empty PostgreSQL databases (``drt_bk_<random>``); all are dropped at the end."""
    if service_backends.embedded:
        pytest.skip("pg_dump and pg_restore need a real PostgreSQL (CI always has one)")
    admin = make_engine(
        service_backends.database_url, isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    made: list[str] = []

    def make() -> str:
        name = f"drt_bk_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
        made.append(name)
        url = make_url(service_backends.database_url).set(database=name)
        return url.render_as_string(hide_password=False)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def with_password(url: str) -> str:
    """The URL with a password (trust authentication ignores it; it must never leak)."""
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def resident(rid: str, **changes: Any) -> rm.Resident:
    values: dict[str, Any] = {
        "id": rid,
        "name": "鞍手 花子",
        "kana": "クラテ ハナコ",
        "phone": "09011112222",
        "address": "鞍手町大字中山 1-1",
        "birth_year": 1948,
        "eligibility": "resident",
        "wheelchair": False,
        "needs_help": False,
        "consent_at": NOW - 400 * DAY,
        "suspended": False,
        "created_at": NOW - 400 * DAY,
    }
    values.update(changes)
    return rm.Resident(**values)


def booking(bid: str, rid: str, status: str, pickup: datetime) -> tuple[cm.Quote, cm.Booking]:
    """A quote and the booking made from it (bookings reference quotes and residents)."""
    trip: dict[str, Any] = {
        "dispatch_id": f"d-{bid}",
        "resident_id": rid,
        "staff_id": None,
        "channel": "line",
        "origin": "KUR-001",
        "destination": "KUR-002",
        "passengers": {"adult": 1},
        "wheelchairs": 0,
        "fare_yen": 200,
        "pickup_from": pickup,
        "pickup_to": pickup + timedelta(minutes=15),
        "dropoff_by": pickup + timedelta(minutes=40),
        "created_at": pickup - DAY,
    }
    quote = cm.Quote(
        id=f"Q{bid}",
        vehicle_id="van-1",
        pickup_planned=pickup,
        dropoff_planned=pickup + timedelta(minutes=20),
        request_id=f"r-{bid}",
        expires_at=pickup - DAY + timedelta(minutes=5),
        **trip,
    )
    done = status == "completed"
    return (
        quote,
        cm.Booking(
            id=bid,
            quote_id=quote.id,
            code="1234",
            status=status,
            updated_at=pickup,
            cancelled_by=None,
            payment_method="cash" if done else None,
            fare_paid_yen=200 if done else None,
            **trip,
        ),
    )


def position(at: datetime, vehicle: str = "van-1") -> dm.Position:
    return dm.Position(
        vehicle_id=vehicle,
        at=at,
        lat=33.79,
        lon=130.68,
        speed_mps=8.5,
        heading_deg=90.0,
        accuracy_m=5.0,
    )


def audit(at: datetime, action: str = "resident.view", rid: str | None = "R1") -> rm.AuditEntry:
    return rm.AuditEntry(
        at=at,
        actor_kind="staff",
        actor_id="S1",
        action=action,
        resident_id=rid,
        booking_id=None,
        details={"q": "鞍手", "n": 1},
    )


def seed_service_data(session: Session) -> None:
    """A little of everything: residents, channels, trips, GPS, audit, LINE, staff."""
    session.add_all(
        [
            resident("R1"),
            resident(
                "R2",
                name="古門 一郎",
                kana="フルカド イチロウ",
                phone="09033334444",
                address="鞍手町大字古門 3-8",
            ),
        ]
    )
    session.flush()
    trips = [
        booking("B1", "R1", "completed", NOW - 10 * DAY),
        booking("B2", "R2", "confirmed", NOW + DAY),
    ]
    session.add_all([quote for quote, _ in trips])
    session.flush()  # bookings reference quotes (no ORM relationship orders the inserts)
    session.add_all([b for _, b in trips])
    session.add_all(
        [
            rm.ResidentChannel(
                resident_id="R1", kind="phone", external_id="09011112222", linked_at=NOW - 400 * DAY
            ),
            rm.ResidentChannel(
                resident_id="R1", kind="line", external_id="U" + "a" * 32, linked_at=NOW - 300 * DAY
            ),
            rm.Staff(
                id="S1",
                username="op",
                display_name="窓口 一",
                password_hash="x",
                role="operator",
                active=True,
            ),
            *(position(NOW - k * timedelta(minutes=1)) for k in range(50)),
            *(audit(NOW - k * DAY) for k in range(5)),
            lm.LineFavourite(resident_id="R1", slot="home", stop_id="KUR-001", updated_at=NOW),
        ]
    )
    session.commit()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the public schema, in a stable order."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = (
                connection.execute(
                    text(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
                    )
                )
                .scalars()
                .all()
            )
            return {
                table: sorted(
                    (tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))),
                    key=repr,
                )
                for table in sorted(tables)
            }
    finally:
        engine.dispose()


def migrated_with_data(url: str) -> None:
    engine = make_engine(url, poolclass=NullPool)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as session:
            seed_service_data(session)
    finally:
        engine.dispose()


def recording_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict[str, str]]]:
    """Record every tool run (arguments and environment) while still running it."""
    calls: list[tuple[list[str], dict[str, str]]] = []
    real = bk._run

    def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        calls.append((list(args), dict(env)))
        return real(args, env)

    monkeypatch.setattr(bk, "_run", run)
    return calls


# -- the libpq connection ----------------------------------------------------------------


def test_the_password_goes_to_pgpassword_never_to_the_arguments() -> None:
    target = bk.pg_target(
        "postgresql+psycopg://drt:s3cr%27et@db.example:5433/drt_prod?sslmode=require"
    )
    assert target.password == "s3cr'et"
    assert "s3cr" not in target.conninfo
    assert "s3cr" not in repr(target)
    assert target.conninfo == (
        "host='db.example' port='5433' user='drt' dbname='drt_prod' sslmode='require'"
    )
    assert target.where == "drt_prod @ db.example:5433"
    env = target.env({"PATH": "/usr/bin"})
    assert env == {"PATH": "/usr/bin", "PGPASSWORD": "s3cr'et", "PGCONNECT_TIMEOUT": "10"}
    assert target.env({"PGCONNECT_TIMEOUT": "3"})["PGCONNECT_TIMEOUT"] == "3"


def test_connection_string_values_are_quoted_and_a_query_password_is_kept_apart() -> None:
    target = bk.pg_target(
        "postgresql://u@/my%20db?host=/run/postgresql&options=-csearch_path%3Dx&password=p%5Cw"
    )
    assert target.password == "p\\w"
    assert (
        target.conninfo
        == "user='u' dbname='my db' host='/run/postgresql' options='-csearch_path=x'"
    )
    assert bk._quote("it's a \\ test") == "'it\\'s a \\\\ test'"
    assert "PGPASSWORD" not in bk.pg_target("postgresql://u@h/db").env({})  # none to set


def test_sqlite_and_other_engines_are_refused_with_the_file_to_copy(tmp_path: Path) -> None:
    db_file = tmp_path / "drt.sqlite3"
    with pytest.raises(bk.BackupNeedsPostgres) as info:
        bk.backup(f"sqlite:///{db_file}", tmp_path / "x.dump")
    assert info.value.code == "backup_needs_postgresql"
    assert str(db_file) in info.value.message_en
    assert "PostgreSQL" in info.value.message_en
    assert str(db_file) in info.value.message_ja
    with pytest.raises(bk.BackupNeedsPostgres):
        bk.restore(f"sqlite:///{db_file}", tmp_path / "x.dump")
    with pytest.raises(bk.BackupNeedsPostgres, match="mysql"):
        bk.pg_target("mysql+pymysql://u@h/db")
    with pytest.raises(bk.BackupError, match="names no database"):
        bk.pg_target("postgresql+psycopg://u@h")
    assert list(tmp_path.iterdir()) == []


def test_summary_puts_the_error_lines_first_and_hides_the_password() -> None:
    stderr = (
        "pg_dump: detail one\n\n"
        'pg_dump: error: connection to server failed: FATAL:  password "hunter2" wrong\n'
        "pg_dump: hint: something\n"
    )
    gist = bk.summarise(stderr, "hunter2")
    assert gist == 'pg_dump: error: connection to server failed: FATAL:  password "***" wrong'
    assert bk.summarise("a\nb\n") == "a | b"
    assert bk.summarise("") == "(no message)"
    assert len(bk.summarise("error " * 500)) == 600


# -- backup ---------------------------------------------------------------------------------


def test_backup_into_a_missing_folder_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "drt.dump"
    with pytest.raises(bk.BackupPathInvalid) as info:
        bk.backup("postgresql+psycopg://postgres@127.0.0.1:5432/test", out)
    assert info.value.code == "backup_path_invalid"
    assert str(out.parent) in info.value.message_en
    assert "does not exist" in info.value.message_en
    assert "フォルダがありません" in info.value.message_ja
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_or_a_folder_is_not_overwritten(tmp_path: Path) -> None:
    old = tmp_path / "drt.dump"
    old.write_bytes(b"yesterday's backup")
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    with pytest.raises(bk.BackupPathInvalid, match="--overwrite"):
        bk.backup(url, old)
    with pytest.raises(bk.BackupPathInvalid, match="is a folder"):
        bk.backup(url, tmp_path)
    assert old.read_bytes() == b"yesterday's backup"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drt.dump"]


def test_missing_tools_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    empty = tmp_path / "bin"
    empty.mkdir()
    with pytest.raises(bk.BackupToolMissing) as info:
        bk.backup(url, tmp_path / "drt.dump", pg_bin=empty)
    assert info.value.details["tool"] == "pg_dump"
    assert "postgresql-client" in info.value.message_en
    assert "--pg-bin" in info.value.message_ja
    archive = tmp_path / "old.dump"
    archive.write_bytes(bk.ARCHIVE_MAGIC + b"\x01\x0e")
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(bk.BackupToolMissing) as info:
        bk.restore(url, archive)
    assert info.value.details["tool"] == "pg_restore"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "old.dump"]


def test_a_failed_backup_leaves_no_file_and_no_password(
    service_backends: Backends, tmp_path: Path
) -> None:
    if service_backends.embedded:
        pytest.skip("pg_dump needs a real PostgreSQL to fail against (CI always has one)")
    absent = make_url(service_backends.database_url).set(
        database=f"drt_bk_absent_{uuid.uuid4().hex[:8]}", password=PASSWORD
    )
    with pytest.raises(bk.BackupFailed) as info:
        bk.backup(absent.render_as_string(hide_password=False), tmp_path / "drt.dump")
    error = info.value
    assert error.code == "backup_failed"
    assert "pg_dump exit code" in error.message_en
    assert error.details["returncode"] != 0
    assert error.details["stderr"]
    assert error.details["stderr"] in error.message_en
    assert "ファイルは作られていません" in error.message_ja
    assert PASSWORD not in f"{error} {error.to_dict()}"
    assert list(tmp_path.iterdir()) == []  # no partial file either


def test_backup_then_restore_into_a_fresh_database_gives_the_same_rows(
    new_database: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = new_database()
    migrated_with_data(source)
    calls = recording_runs(monkeypatch)
    out = tmp_path / "drt-2026-12-04.dump"

    made = bk.backup(with_password(source), out)

    assert made.path == out
    assert out.is_file()
    assert made.size_bytes == out.stat().st_size
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data: the owner only
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # the partial file is gone
    assert {
        "public.residents",
        "public.bookings",
        "public.positions",
        "public.audit_log",
        "public.alembic_version",
    } <= set(made.tables)
    assert not any(PASSWORD in arg for args, _ in calls for arg in args)
    assert [env.get("PGPASSWORD") for _, env in calls] == [PASSWORD, os.environ.get("PGPASSWORD")]

    target = new_database()
    restored = bk.restore(with_password(target), out)
    assert set(restored.tables) == set(made.tables)
    before = snapshot(source)
    assert len(before["residents"]) == 2
    assert len(before["positions"]) == 50
    assert before["alembic_version"]  # the schema version comes back too
    assert snapshot(target) == before

    # The restored database is usable: its sequences continue after the restored ids.
    engine = make_engine(target, poolclass=NullPool)
    try:
        with make_sessionmaker(engine)() as session:
            session.add(audit(NOW))
            session.execute(text("DELETE FROM positions"))
            session.commit()
            ids = session.scalars(select(rm.AuditEntry.id).order_by(rm.AuditEntry.id)).all()
        assert ids[-1] > max(row[0] for row in before["audit_log"])
    finally:
        engine.dispose()

    # Restoring again over the changed database brings back exactly the backup (--clean).
    bk.restore(target, out)
    assert snapshot(target) == before


def test_a_damaged_backup_fails_clearly_and_leaves_the_database_as_it_was(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    source, target = new_database(), new_database()
    migrated_with_data(source)
    good = bk.backup(source, tmp_path / "good.dump").path
    bk.restore(target, good)
    engine = make_engine(target, poolclass=NullPool)
    try:
        with make_sessionmaker(engine)() as session:
            session.add(position(NOW, vehicle="marker"))
            session.commit()
    finally:
        engine.dispose()
    before = snapshot(target)

    damaged = tmp_path / "damaged.dump"
    data = good.read_bytes()
    damaged.write_bytes(data[: len(data) - 64])  # the table of contents intact, data cut
    assert bk.archive_tables(damaged) == bk.archive_tables(good)
    with pytest.raises(bk.RestoreFailed) as info:
        bk.restore(with_password(target), damaged)
    error = info.value
    assert error.code == "restore_failed"
    assert "pg_restore exit code" in error.message_en
    assert "as it was before" in error.message_en
    assert "復元前のまま" in error.message_ja
    assert "pg_restore" in error.details["stderr"]
    assert PASSWORD not in f"{error} {error.to_dict()}"
    assert snapshot(target) == before  # one transaction: rolled back, the marker row kept


def test_a_restore_is_refused_while_the_service_is_connected(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    source, target = new_database(), new_database()
    migrated_with_data(source)
    out = bk.backup(source, tmp_path / "drt.dump").path
    bk.restore(target, out)
    before = snapshot(target)
    engine = make_engine(target, poolclass=NullPool)
    try:
        with engine.connect() as busy:  # the service, in the middle of a transaction
            busy.execute(text("SELECT count(*) FROM residents"))  # holds its lock until the end
            assert bk.other_sessions(target) == 1
            with pytest.raises(bk.DatabaseInUse) as info:
                bk.restore(with_password(target), out)
            busy.rollback()
            # An idle session holds no lock: --force restores past it.
            bk.restore(target, out, force=True)
    finally:
        engine.dispose()
    assert info.value.code == "restore_database_in_use"
    assert info.value.details["sessions"] == 1
    assert "drt serve" in info.value.message_en
    assert "drt serve" in info.value.message_ja
    assert snapshot(target) == before
    assert bk.other_sessions(target) == 0
    absent = make_url(target).set(database=f"drt_bk_absent_{uuid.uuid4().hex[:8]}")
    with pytest.raises(bk.RestoreFailed, match="Cannot connect"):
        bk.restore(absent.render_as_string(hide_password=False), out)


def test_restore_refuses_a_missing_file_or_one_that_is_no_backup(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/never_contacted"
    with pytest.raises(bk.BackupFileMissing) as missing:
        bk.restore(url, tmp_path / "nope.dump")
    assert missing.value.code == "backup_file_missing"
    assert "nope.dump" in missing.value.message_ja
    garbage = tmp_path / "notes.txt"
    garbage.write_text("これはバックアップではありません\n", encoding="utf-8")
    with pytest.raises(bk.BackupFileInvalid) as invalid:
        bk.restore(url, garbage)
    assert invalid.value.code == "backup_file_invalid"
    assert "pg_dump -Fc" in invalid.value.message_en
    with pytest.raises(bk.BackupFileInvalid, match="not a file"):
        bk.restore(url, tmp_path)
    truncated = tmp_path / "short.dump"
    truncated.write_bytes(bk.ARCHIVE_MAGIC + b"\x01")
    with pytest.raises(bk.BackupFileInvalid, match="table of contents"):
        bk.restore(url, truncated)


# -- retention --------------------------------------------------------------------------------


def test_the_shipped_retention_file_and_the_defaults() -> None:
    shipped = ROOT / "areas" / "kurate" / "retention.toml"
    assert bk.retention_path(ROOT / "areas" / "kurate" / "area.toml") == shipped
    periods = bk.load_retention(shipped)
    assert (periods.positions_days, periods.audit_log_days, periods.closed_accounts_days) == (
        90,
        1095,
        365,
    )
    assert periods.source == shipped
    defaults = bk.Retention()
    assert (defaults.positions_days, defaults.audit_log_days, defaults.closed_accounts_days) == (
        90,
        1095,
        365,
    )


def test_a_missing_file_gives_the_defaults_and_a_partial_one_keeps_them(tmp_path: Path) -> None:
    assert bk.load_retention(tmp_path / "retention.toml") == bk.Retention()
    partial = tmp_path / "partial.toml"
    partial.write_text("[retention]\npositions_days = 30\n", encoding="utf-8")
    assert bk.load_retention(partial) == bk.Retention(positions_days=30, source=partial)


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ("[retention]\npositions_days = 0\n", "retention.positions_days"),
        ("[retention]\naudit_log_days = -5\n", "retention.audit_log_days"),
        ('[retention]\npositions_days = "90"\n', "retention.positions_days"),
        ("[retention]\npositions_days = true\n", "retention.positions_days"),
        ("[retention]\nclosed_accounts_days = 36501\n", "retention.closed_accounts_days"),
        ("[retention]\npostions_days = 90\n", "retention.postions_days"),
        ("[retention]\npositions_days = 9.5\n", "retention.positions_days"),
        ("[fares]\nadult = 200\n", "fares"),
        ("retention = 5\n", "retention"),
        ("[retention\n", "file"),
    ],
)
def test_a_bad_retention_file_names_the_key(tmp_path: Path, content: str, key: str) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        bk.load_retention(path)
    assert info.value.details["key"] == key
    assert key in info.value.message_en
    assert key in info.value.message_ja
    assert str(path) in info.value.message_en


# -- purge ----------------------------------------------------------------------------------

OLD_POSITIONS = [NOW - 120 * DAY, NOW - 90 * DAY - timedelta(seconds=1)]
KEPT_POSITIONS = [NOW - 90 * DAY, NOW - 89 * DAY, NOW - timedelta(hours=1)]  # the cutoff: kept
OLD_AUDIT = [NOW - 1096 * DAY, NOW - 1095 * DAY - timedelta(seconds=1)]
KEPT_AUDIT = [NOW - 1095 * DAY, NOW - 30 * DAY, NOW]


@pytest.fixture
def aged(db_schema: IsolatedDatabase) -> IsolatedDatabase:
    """The test's schema, migrated, with positions and audit entries on both sides of the
    default periods (90 and 1095 days before ``NOW``)."""
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as session:
        session.add_all([position(at) for at in OLD_POSITIONS + KEPT_POSITIONS])
        session.add_all([audit(at) for at in OLD_AUDIT + KEPT_AUDIT])
        session.commit()
    return db_schema


def times(engine: Engine) -> tuple[list[datetime], list[datetime]]:
    with make_sessionmaker(engine)() as session:
        return (
            sorted(session.scalars(select(dm.Position.at))),
            sorted(session.scalars(select(rm.AuditEntry.at))),
        )


def test_a_dry_run_counts_and_deletes_nothing(aged: IsolatedDatabase) -> None:
    before = times(aged.engine)
    report = bk.purge_database(aged.engine, bk.Retention(), now=NOW, dry_run=True)
    assert report.dry_run
    assert [(line.kind, line.rows, line.status) for line in report.lines] == [
        ("positions", 2, "would_delete"),
        ("audit_log", 2, "would_delete"),
        ("closed_accounts", 0, "would_delete"),
    ]
    assert report.lines[0].cutoff == NOW - 90 * DAY
    assert times(aged.engine) == before
    assert len(before[0]) == 5
    assert len(before[1]) == 5


def test_purge_deletes_exactly_the_old_rows_and_twice_is_the_same(aged: IsolatedDatabase) -> None:
    first = bk.purge_database(aged.engine, bk.Retention(), now=NOW)
    assert (first.rows("positions"), first.rows("audit_log"), first.total) == (2, 2, 4)
    assert {line.status for line in first.lines[:2]} == {"deleted"}
    after = times(aged.engine)
    assert after == (sorted(KEPT_POSITIONS), sorted(KEPT_AUDIT))

    second = bk.purge_database(aged.engine, bk.Retention(), now=NOW)
    assert (second.rows("positions"), second.rows("audit_log")) == (0, 0)
    assert times(aged.engine) == after
    assert second.rows("closed_accounts") == 0


def test_purge_follows_the_configured_periods(aged: IsolatedDatabase) -> None:
    report = bk.purge_database(
        aged.engine, bk.Retention(positions_days=1, audit_log_days=31), now=NOW
    )
    assert (report.rows("positions"), report.rows("audit_log")) == (4, 3)
    assert times(aged.engine) == ([NOW - timedelta(hours=1)], [NOW - 30 * DAY, NOW])


def test_purge_does_not_commit_by_itself(aged: IsolatedDatabase) -> None:
    before = times(aged.engine)
    with aged.sessionmaker()() as session:
        report = bk.purge(session, bk.Retention(), NOW)
        assert report.total == 4
        session.rollback()
    assert times(aged.engine) == before
    with pytest.raises(ValueError, match="timezone"):
        bk.purge_database(aged.engine, bk.Retention(), now=datetime(2026, 12, 4))  # noqa: DTZ001


# -- closing an account --------------------------------------------------------------------


@pytest.fixture
def people(db_schema: IsolatedDatabase) -> IsolatedDatabase:
    upgrade(db_schema.engine)
    line_id = "U" + "a" * 32
    with db_schema.sessionmaker()() as session:
        seed_service_data(session)  # R1: a ride done, LINE and phone; R2: a ride to come
        session.add_all(
            [
                rm.Token(
                    token_hash="h" * 64,
                    kind="resident",
                    subject_id="R1",
                    created_at=NOW,
                    expires_at=NOW + 180 * DAY,
                ),
                rm.Token(
                    token_hash="s" * 64,
                    kind="staff",
                    subject_id="S1",
                    created_at=NOW,
                    expires_at=NOW + DAY,
                ),
                rm.LinkCode(code_hash="x", resident_id="R1", expires_at=NOW + DAY, used_at=None),
                lm.LinePush(
                    key="reminder:B1",
                    retry_key="k",
                    user_id=line_id,
                    kind="reminder",
                    booking_id="B1",
                    day=(NOW - 11 * DAY).date(),
                    status="sent",
                    attempts=1,
                    created_at=NOW - 11 * DAY,
                    sent_at=NOW - 11 * DAY,
                ),
                lm.LineEvent(
                    event_id="e1",
                    user_id=line_id,
                    kind="text",
                    redelivery=False,
                    received_at=NOW - DAY,
                    done_at=NOW - DAY,
                ),
            ]
        )
        session.commit()
    return db_schema


def test_the_purge_anonymises_accounts_closed_longer_than_their_period(
    people: IsolatedDatabase,
) -> None:
    with people.sessionmaker()() as session:
        r1 = session.get(rm.Resident, "R1")
        assert r1 is not None
        r1.closed_at = NOW - 366 * DAY  # closed a year and a day ago: anonymised now
        r2 = session.get(rm.Resident, "R2")
        assert r2 is not None
        r2.closed_at = NOW - 364 * DAY  # not yet
        session.commit()
    dry = bk.purge_database(people.engine, bk.Retention(), now=NOW, dry_run=True)
    assert (dry.rows("closed_accounts"), dry.lines[2].status) == (1, "would_delete")
    report = bk.purge_database(people.engine, bk.Retention(), now=NOW)
    assert report.rows("closed_accounts") == 1
    with people.sessionmaker()() as session:
        gone, kept = session.get(rm.Resident, "R1"), session.get(rm.Resident, "R2")
        assert gone is not None
        assert kept is not None
        assert (gone.name, gone.phone) == (bk.ANONYMISED_NAME, "")
        assert kept.name != bk.ANONYMISED_NAME
        assert session.scalar(select(func.count()).select_from(cm.Booking).where(
            cm.Booking.resident_id == "R1")) >= 1  # fmt: skip
    assert bk.purge_database(people.engine, bk.Retention(), now=NOW).rows("closed_accounts") == 0


def test_anonymising_blanks_the_person_and_keeps_the_trips(people: IsolatedDatabase) -> None:
    with people.sessionmaker()() as session:
        result = bk.anonymise_resident(session, "R1", NOW)
        session.commit()
    assert (result.already, result.bookings_kept) == (False, 1)
    assert result.removed == {
        "resident_channels": 2,
        "tokens": 1,
        "link_codes": 1,
        "line_favourites": 1,
        "line_pushes": 1,
        "line_webhook_events": 1,
        **dict.fromkeys(TOWN_TABLES, 0),  # R1 used none of the town services
    }
    with people.sessionmaker()() as session:
        r1 = session.get(rm.Resident, "R1")
        assert r1 is not None
        assert (r1.name, r1.kana, r1.phone, r1.address) == (bk.ANONYMISED_NAME, "", "", "大字中山")
        assert district(r1.address) == district("鞍手町大字中山 1-1") == "中山"  # for the report
        assert (r1.birth_year, r1.eligibility, r1.suspended) == (1948, "resident", True)
        kept = session.get(cm.Booking, "B1")
        assert kept is not None
        assert kept.resident_id == "R1"
        assert kept.status == "completed"
        assert session.scalar(select(func.count()).select_from(rm.ResidentChannel)) == 0
        assert session.scalars(select(rm.Token.kind)).all() == ["staff"]
        assert session.scalars(select(lm.LinePush.user_id)).all() == [""]
        assert session.scalars(select(lm.LineEvent.user_id)).all() == [""]
        r2 = session.get(rm.Resident, "R2")
        assert r2 is not None
        assert (r2.name, r2.phone) == ("古門 一郎", "09033334444")
        entry = session.scalars(
            select(rm.AuditEntry).where(rm.AuditEntry.action == "resident.anonymise")
        ).one()
        assert (entry.actor_kind, entry.resident_id) == ("system", "R1")
        assert entry.details["bookings_kept"] == 1
        # The phone number is free again: the person may register anew.
        again = register_resident(
            session,
            Actor("staff", "S1", "operator"),
            rs.ResidentCreate(
                name="鞍手 花子",
                kana="クラテ ハナコ",
                phone="090-1111-2222",
                address="鞍手町大字中山 1-1",
                birth_year=1948,
                consent=True,
            ),
        )
        assert again.resident.id != "R1"


TOWN_TABLES = ("town_subscriptions", "town_faq_tickets", "town_survey_responses",
               "town_form_applications", "town_payment_slips")  # fmt: skip


def test_anonymising_forgets_what_the_town_services_hold(people: IsolatedDatabase) -> None:
    """R1's opt-in, question to staff, survey answer, application and payment slip: the
    person's words and name gone, the rows the town counts kept; R2's untouched."""
    with people.sessionmaker()() as session:
        session.add(tm.Survey(id="SV1", title="t", intro="", questions=[], segment={},
                              anonymous=False, status="open", created_by="S1", created_at=NOW))  # fmt: skip
        session.add(tm.TownEvent(id="E1", kind="class", title="スマホ教室", place="役場", note="",
                                 starts_at=NOW + DAY, ends_at=NOW + DAY, capacity=5, waitlist=0,
                                 cancel_before_s=0, reminders=[], status="open", created_by="S1",
                                 created_at=NOW))  # fmt: skip
        session.flush()
        for rid in ("R1", "R2"):
            session.add_all([
                tm.Subscription(resident_id=rid, service="notices", options={}, started_at=NOW),
                tm.FaqTicket(id=f"F{rid}", question="家の前の街灯が切れています", resident_id=rid,
                             line_user_id="U" + rid, channel="line", status="open", created_at=NOW, note=""),
                tm.SurveyResponse(survey_id="SV1", respondent_key=rid, resident_id=rid, channel="line",
                                  answers={"q1": "中山の自宅から"}, started_at=NOW),
                tm.FormApplication(id=f"A{rid}", form_id="certificate", form_version="v1",
                                   number=f"A-{rid}", resident_id=rid, status="completed",
                                   values={"name": "鞍手 花子", "address": "鞍手町大字中山 1-1"},
                                   prefilled=["name", "address"], confirmed=[], channel="line",
                                   created_by=rid, created_at=NOW, updated_at=NOW),
                tm.PaymentSlip(id=f"P{rid}", resident_id=rid, subject="軽自動車税", fiscal_year=2026,
                               payer_name="鞍手 花子", biller_code="912345", free_field="0" * 21,
                               reissue=int(rid[1]), due=(NOW + DAY).date(), stamp=0, amount=10800,
                               status="unpaid", imported_at=NOW, imported_by="S1"),
                tm.TownReservation(id=f"T{rid}", event_id="E1", resident_id=rid, status="attended",
                                   channel="line", made_by=rid, queued_at=NOW),
            ])  # fmt: skip
        session.commit()
    with people.sessionmaker()() as session:
        result = bk.anonymise_resident(session, "R1", NOW)
        session.commit()
    assert {t: result.removed[t] for t in TOWN_TABLES} == dict.fromkeys(TOWN_TABLES, 1)
    with people.sessionmaker()() as session:
        subs = session.scalars(select(tm.Subscription.resident_id)).all()
        ticket = session.get(tm.FaqTicket, "FR1")
        answers = session.scalars(select(tm.SurveyResponse).order_by(tm.SurveyResponse.id)).all()
        form, slip = session.get(tm.FormApplication, "AR1"), session.get(tm.PaymentSlip, "PR1")
        kept = session.get(tm.TownReservation, "TR1")
        assert subs == ["R2"]
        assert ticket is not None
        assert (ticket.question, ticket.line_user_id, ticket.status) == ("", None, "open")
        assert [(a.resident_id, a.answers) for a in answers] == [
            (None, {"q1": "中山の自宅から"}), ("R2", {"q1": "中山の自宅から"})]  # fmt: skip
        assert "R1" not in answers[0].respondent_key
        assert form is not None
        assert (form.values, form.prefilled, form.number, form.status) == (
            {},
            [],
            "A-R1",
            "completed",
        )
        assert slip is not None
        assert (slip.payer_name, slip.amount) == (bk.ANONYMISED_NAME, 10800)
        assert kept is not None
        assert kept.status == "attended"
        other = session.get(tm.FormApplication, "AR2")
        assert other is not None
        assert other.values["name"] == "鞍手 花子"
    with people.sessionmaker()() as session:  # again: nothing more to forget
        assert bk.forget_town_services(session, "R1") == dict.fromkeys(TOWN_TABLES, 0)


def test_anonymising_twice_changes_nothing_more(people: IsolatedDatabase) -> None:
    with people.sessionmaker()() as session:
        bk.anonymise_resident(session, "R1", NOW)
        session.commit()
    before = snapshot_session(people.engine)
    with people.sessionmaker()() as session:
        result = bk.anonymise_resident(session, "R1", NOW + DAY)
        session.commit()
    assert result.already
    assert set(result.removed.values()) == {0}
    assert snapshot_session(people.engine) == before


def test_a_resident_with_a_ride_to_come_is_not_anonymised(people: IsolatedDatabase) -> None:
    before = snapshot_session(people.engine)
    with people.sessionmaker()() as session, pytest.raises(ResidentHasOpenBookings) as info:
        bk.anonymise_resident(session, "R2", NOW)
    assert info.value.code == "resident_has_open_bookings"
    assert info.value.details["bookings"] == ["B2"]
    assert "B2" in info.value.message_ja
    assert "B2" in info.value.message_en
    with people.sessionmaker()() as session, pytest.raises(NotFound):
        bk.anonymise_resident(session, "R404", NOW)
    assert snapshot_session(people.engine) == before


def snapshot_session(engine: Engine) -> dict[str, list[str]]:
    """The rows of the tables an anonymisation touches, as text."""
    tables = [
        rm.Resident,
        rm.ResidentChannel,
        rm.Token,
        rm.LinkCode,
        rm.AuditEntry,
        cm.Booking,
        lm.LinePush,
        lm.LineEvent,
        lm.LineFavourite,
    ]
    with make_sessionmaker(engine)() as session:
        return {
            model.__tablename__: sorted(
                repr({c.key: getattr(row, c.key) for c in model.__table__.columns})
                for row in session.scalars(select(model))
            )
            for model in tables
        }


# -- the commands -----------------------------------------------------------------------------


def flat(text: str) -> str:
    """Text without any white space (Rich wraps the commands' output at the terminal's width)."""
    return "".join(text.split())


def cli(url: str, area: Path) -> typer.Typer:
    """The commands as ``drt db`` will register them, on settings for ``url``."""
    app = typer.Typer()

    @app.callback()
    def main(typer_ctx: typer.Context) -> None:
        settings = load_settings(database_url=url, embedded=False)
        typer_ctx.obj = AppContext(settings=settings, area_path=area)

    app.command("backup")(db_ops_cli.db_backup)
    app.command("restore")(db_ops_cli.db_restore)
    app.command("purge")(db_ops_cli.db_purge)
    app.command("anonymise-resident")(db_ops_cli.db_anonymise_resident)
    return app


def schema_url(backends: Backends, database: IsolatedDatabase) -> str:
    """A URL whose connections see only the test's schema (or its SQLite file)."""
    if database.schema is None:
        return database.engine.url.render_as_string(hide_password=False)
    sep = "&" if "?" in backends.database_url else "?"
    return f"{backends.database_url}{sep}options=-csearch_path%3D{database.schema}"


def test_purge_command_dry_run_then_for_real(
    service_backends: Backends, db_schema: IsolatedDatabase, tmp_path: Path
) -> None:
    upgrade(db_schema.engine)
    now = datetime.now(UTC)  # the command purges by the wall clock: far from either period
    with db_schema.sessionmaker()() as session:
        session.add_all([position(now - 200 * DAY), position(now - DAY)])
        session.add_all([audit(now - 40 * DAY), audit(now - DAY)])
        session.commit()
    area = tmp_path / "area.toml"  # only its folder is read: retention.toml next to it
    (tmp_path / "retention.toml").write_text(
        "[retention]\npositions_days = 90\naudit_log_days = 30\n", encoding="utf-8"
    )
    app, runner = cli(schema_url(service_backends, db_schema), area), CliRunner()

    dry = runner.invoke(app, ["purge", "--dry-run", "--format", "json"])
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert body["dry_run"] is True
    assert body["retention_file"] == str(tmp_path / "retention.toml")
    assert [(x["kind"], x["rows"], x["status"]) for x in body["lines"]] == [
        ("positions", 1, "would_delete"),
        ("audit_log", 1, "would_delete"),
        ("closed_accounts", 0, "would_delete"),
    ]
    assert len(times(db_schema.engine)[0]) == 2

    real = runner.invoke(app, ["purge"])
    assert real.exit_code == 0, real.output
    assert flat("deleted") in flat(real.stdout)
    assert [len(t) for t in times(db_schema.engine)] == [1, 1]
    again = runner.invoke(app, ["purge", "--format", "json"])
    assert json.loads(again.stdout)["total"] == 0

    (tmp_path / "retention.toml").write_text("[retention]\npositions_days = 0\n", encoding="utf-8")
    bad = runner.invoke(app, ["purge"])
    assert bad.exit_code == 2
    assert flat("保存期間の設定") in flat(bad.stderr)
    assert flat("retention.positions_days") in flat(bad.stderr)


def test_backup_and_restore_commands(new_database: Callable[[], str], tmp_path: Path) -> None:
    source, target = new_database(), new_database()
    migrated_with_data(source)
    out = tmp_path / "drt.dump"
    runner = CliRunner()

    made = runner.invoke(cli(source, tmp_path / "area.toml"), ["backup", str(out)])
    assert made.exit_code == 0, made.output
    assert out.is_file()
    assert flat("drt.dump") in flat(made.stdout)
    twice = runner.invoke(cli(source, tmp_path / "area.toml"), ["backup", str(out)])
    assert twice.exit_code == 2
    assert flat("exists already") in flat(twice.stderr)
    replaced = runner.invoke(
        cli(source, tmp_path / "area.toml"), ["backup", str(out), "--overwrite"]
    )
    assert replaced.exit_code == 0, replaced.output

    to_target = cli(target, tmp_path / "area.toml")
    declined = runner.invoke(to_target, ["restore", str(out)], input="n\n")
    assert declined.exit_code == 1
    assert snapshot(target) == {}  # asked, declined: nothing restored
    done = runner.invoke(to_target, ["restore", str(out), "--yes"])
    assert done.exit_code == 0, done.output
    assert snapshot(target) == snapshot(source)

    nowhere = runner.invoke(to_target, ["backup", str(tmp_path / "no" / "x.dump")])
    assert nowhere.exit_code == 2
    assert flat("The backup's folder does not exist") in flat(nowhere.stderr)
    assert flat("フォルダがありません") in flat(nowhere.stderr)
    assert not (tmp_path / "no").exists()
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"not a backup")
    refused = runner.invoke(to_target, ["restore", str(broken), "--yes"])
    assert refused.exit_code == 2
    assert flat("is not a drt db backup") in flat(refused.stderr)


def test_anonymise_command(service_backends: Backends, people: IsolatedDatabase) -> None:
    app, runner = cli(schema_url(service_backends, people), Path("area.toml")), CliRunner()
    kept = runner.invoke(app, ["anonymise-resident", "R1"], input="n\n")
    assert kept.exit_code == 1
    refused = runner.invoke(app, ["anonymise-resident", "R2", "--yes"])
    assert refused.exit_code == 2
    assert flat("still has bookings to ride (B2)") in flat(refused.stderr)
    done = runner.invoke(app, ["anonymise-resident", "R1", "--yes"])
    assert done.exit_code == 0, done.output
    assert flat("anonymised") in flat(done.stdout)
    assert flat("1 bookings kept") in flat(done.stdout)
    again = runner.invoke(app, ["anonymise-resident", "R1", "--yes"])
    assert again.exit_code == 0
    assert flat("already anonymised") in flat(again.stdout)
    with people.sessionmaker()() as session:
        names = dict(session.execute(select(rm.Resident.id, rm.Resident.name)).all())
    assert names == {"R1": bk.ANONYMISED_NAME, "R2": "古門 一郎"}
