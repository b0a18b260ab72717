"""Backups, restores and the retention of personal data (``drt db backup|restore|purge``).

Backup and restore
    :func:`backup` runs ``pg_dump --format=custom`` on the database of a SQLAlchemy URL and
    writes the archive atomically: to a hidden ``.NAME.*.partial`` file in the same folder,
    checked with ``pg_restore --list``, flushed to disk, then renamed. A failed backup never
    leaves a file under the final name, and an existing backup is replaced only on request.
    The file is created with mode 0600: it holds every resident's personal data.

    :func:`restore` runs ``pg_restore --clean --if-exists --no-owner`` in one transaction
    (``--single-transaction --exit-on-error``): a restore that fails part-way is rolled back
    and leaves the database as it was. As the archive turns lock timeouts off, a restore is
    refused while other sessions (a running service) are connected, unless forced. The URL
    becomes a libpq connection string *without*
    the password; the password goes to the tools in ``PGPASSWORD``, so it never appears in
    the process list or in an error message.

    Only PostgreSQL is backed up. The embedded SQLite database (``DRT_EMBEDDED=1``) is the
    demo's: :class:`BackupNeedsPostgres` says so and names the file to copy while the demo
    is stopped.

Retention
    :func:`load_retention` reads the periods from the area's ``retention.toml`` (next to
    ``area.toml``); :func:`purge` deletes, in one transaction, the GPS positions and audit
    entries older than their periods and reports the rows per table (``dry_run``: counts
    only). Running it again with the same clock changes nothing.

    Accounts closed at the resident's request (``core/accounts.py``: channels and sign-ins
    removed at once) are anonymised once ``closed_accounts_days`` have passed since
    (:func:`anonymise_resident`, one by one; counted as rows of ``residents``).
    :func:`anonymise_resident` also closes an account at once, on request, for a resident
    who asks to be forgotten now: name, kana, phone and the address (all but its 大字) are blanked,
    the linked channels, sign-ins, link codes and favourite places are deleted, and the
    bookings are kept (the town's ridership statistics by 大字 and age band still count
    them). A resident with a booking still to ride is refused. The resident row itself is
    never deleted, so no foreign key (bookings, quotes) can break.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from common.clock import now_utc
from common.db import check_database, make_engine, make_sessionmaker
from common.errors import ConfigError, DrtError, NotFound
from core import models as cm
from core.accounts import open_bookings
from core.errors import ResidentHasOpenBookings
from driver_app_api import models as dm
from line_channel import models as lm
from residents import models as rm
from residents.profile import district
from residents.service import remove_sign_ins
from town import models as tm

# -- errors -----------------------------------------------------------------------------------


class BackupError(DrtError):
    """A backup or restore could not be made (the base of the more precise errors below)."""

    code = "backup_failed"
    http_status = 500


class BackupFailed(BackupError):
    """``pg_dump`` failed (connection, permissions, version); no file was written."""

    code = "backup_failed"


class BackupNeedsPostgres(BackupError):
    """The database is not PostgreSQL (the embedded demo's SQLite, or another engine)."""

    code = "backup_needs_postgresql"
    http_status = 400


class BackupToolMissing(BackupError):
    """``pg_dump`` or ``pg_restore`` is not installed (or not in the folder given)."""

    code = "backup_tool_missing"


class BackupPathInvalid(BackupError):
    """The backup's folder does not exist, or the name is taken (a folder, an old backup)."""

    code = "backup_path_invalid"
    http_status = 400


class BackupFileMissing(BackupError):
    """The file to restore from does not exist."""

    code = "backup_file_missing"
    http_status = 404


class BackupFileInvalid(BackupError):
    """The file to restore from is not a ``drt db backup`` (``pg_dump -Fc``) archive."""

    code = "backup_file_invalid"
    http_status = 422


class RestoreFailed(BackupError):
    """``pg_restore`` failed; its transaction was rolled back."""

    code = "restore_failed"


class DatabaseInUse(BackupError):
    """Other sessions are connected to the database to restore (the service is running)."""

    code = "restore_database_in_use"
    http_status = 409


# -- libpq connection -------------------------------------------------------------------------

ARCHIVE_MAGIC = b"PGDMP"
"""The first bytes of a ``pg_dump`` custom-format archive."""
LOCK_WAIT = "60s"
"""How long ``pg_dump`` waits for its table locks (a running migration) before failing."""
CONNECT_TIMEOUT_S = 10
"""How long the tools try to connect (unless ``PGCONNECT_TIMEOUT`` says otherwise)."""
_SUMMARY_LINES = 4
_SUMMARY_CHARS = 600


@dataclass(frozen=True)
class PgTarget:
    """How ``pg_dump`` and ``pg_restore`` reach a database, with the password kept apart."""

    conninfo: str
    """A libpq connection string (``host=... dbname=...``) without the password."""
    password: str | None = field(repr=False)
    """Passed in ``PGPASSWORD`` only."""
    database: str
    where: str
    """``dbname @ host:port``, safe to print."""

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """The tools' environment: ``base`` (default: ours), plus ``PGPASSWORD`` if any."""
        out = dict(os.environ if base is None else base)
        out.setdefault("PGCONNECT_TIMEOUT", str(CONNECT_TIMEOUT_S))  # a dead host: fail, not hang
        if self.password is not None:
            out["PGPASSWORD"] = self.password
        return out


def _quote(value: str) -> str:
    """A libpq connection-string value: single-quoted, backslash and quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _embedded_file(url: URL) -> str:
    return url.database or "(in memory)"


def pg_target(url: str) -> PgTarget:
    """The libpq connection of a SQLAlchemy URL (``postgresql+psycopg://user:pw@host/db``).

    Query parameters (``sslmode``, ``options``, ``host`` for a socket folder, ...) are libpq
    keywords for psycopg too, so they are passed on as they are. Raises
    :class:`BackupNeedsPostgres` for SQLite or any other engine.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BackupError(
            "データベースの URL（DRT_DATABASE_URL）が読めません。",
            "The database URL (DRT_DATABASE_URL) cannot be parsed.",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = _embedded_file(parsed)
        raise BackupNeedsPostgres(
            "バックアップと復元は PostgreSQL のデータベースが対象です。組み込みモード"
            f"（DRT_EMBEDDED=1）の SQLite はデモ用です。デモのデータを残すには、drt demo を止めてから"
            f"ファイル {path} をコピーしてください。",
            "Backups and restores need PostgreSQL. The embedded SQLite database "
            "(DRT_EMBEDDED=1) is the demo's: to keep its data, stop `drt demo` and copy the "
            f"file {path}.",
            backend=backend,
            file=path,
        )
    if backend != "postgresql":
        raise BackupNeedsPostgres(
            f"バックアップと復元は PostgreSQL のデータベースが対象です（この URL は {backend}）。",
            f"Backups and restores need PostgreSQL (this URL is {backend}).",
            backend=backend,
        )
    if not parsed.database:
        raise BackupError(
            "データベースの URL（DRT_DATABASE_URL）にデータベース名がありません。",
            "The database URL (DRT_DATABASE_URL) names no database.",
        )
    params: dict[str, str] = {}
    if parsed.host:
        params["host"] = parsed.host
    if parsed.port:
        params["port"] = str(parsed.port)
    if parsed.username:
        params["user"] = parsed.username
    params["dbname"] = parsed.database
    password = parsed.password
    for key, value in parsed.query.items():
        joined = ",".join(value) if isinstance(value, tuple) else value
        if key == "password":  # ?password=... must not reach the process list either
            password = joined
            continue
        params[key] = joined
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in params.items())
    host = params.get("host", "local socket")
    where = f"{params['dbname']} @ {host}:{params.get('port', '5432')}"
    return PgTarget(
        conninfo=conninfo,
        password=None if password is None else str(password),
        database=params["dbname"],
        where=where,
    )


def find_tool(name: str, pg_bin: Path | None = None) -> str:
    """The path of ``pg_dump`` / ``pg_restore``: in ``pg_bin`` if given, else on ``PATH``."""
    if pg_bin is not None:
        candidate = pg_bin / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        found = None
    else:
        found = shutil.which(name)
    if found is None:
        place = f"{pg_bin}" if pg_bin is not None else "PATH"
        raise BackupToolMissing(
            f"{name} が見つかりません（{place}）。PostgreSQL のクライアント（Debian では "
            "postgresql-client、サーバーと同じかそれより新しい版）を入れるか、--pg-bin でその"
            "フォルダを指定してください。",
            f"{name} was not found ({place}). Install the PostgreSQL client tools "
            "(postgresql-client on Debian; the server's major version or newer), or give "
            "their folder with --pg-bin.",
            tool=name,
        )
    return found


def summarise(stderr: str, secret: str | None = None) -> str:
    """The gist of a tool's stderr on one line: its error lines first, at most a few."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"error|fatal|エラー|致命的", line, re.I)]
    picked = errors[:_SUMMARY_LINES] if errors else lines[-_SUMMARY_LINES:]
    gist = " | ".join(picked) or "(no message)"
    if secret:
        gist = gist.replace(secret, "***")
    return gist if len(gist) <= _SUMMARY_CHARS else gist[: _SUMMARY_CHARS - 1] + "…"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
        stdin=subprocess.DEVNULL,
    )


def archive_tables(path: Path, pg_bin: Path | None = None) -> list[str]:
    """The tables whose rows an archive holds (``schema.table``), read from its table of
    contents with ``pg_restore --list``. Raises :class:`BackupFileInvalid` when unreadable."""
    proc = _run([find_tool("pg_restore", pg_bin), "--list", str(path)], dict(os.environ))
    if proc.returncode != 0:
        raise BackupFileInvalid(
            f"バックアップファイルの目次が読めません: {path}（{summarise(proc.stderr)}）",
            f"The backup file's table of contents cannot be read: {path} "
            f"({summarise(proc.stderr)})",
            file=str(path),
        )
    tables = []
    for line in proc.stdout.splitlines():
        # "3345; 0 150699 TABLE DATA public positions postgres"
        m = re.match(r"^\d+; \d+ \d+ TABLE DATA (\S+) (\S+) ", line)
        if m:
            tables.append(f"{m.group(1)}.{m.group(2)}")
    return tables


# -- backup and restore -------------------------------------------------------------------


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    tables: list[str]
    """The tables whose rows the archive holds (``schema.table``)."""
    where: str


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    tables: list[str]
    where: str


def _check_destination(out: Path, overwrite: bool) -> None:
    folder = out.parent
    if not folder.is_dir():
        raise BackupPathInvalid(
            f"バックアップの保存先フォルダがありません: {folder}。先にフォルダを作ってください。",
            f"The backup's folder does not exist: {folder}. Create it first.",
            path=str(out),
        )
    if out.is_dir():
        raise BackupPathInvalid(
            f"{out} はフォルダです。バックアップのファイル名を指定してください"
            "（例: drt-2026-12-04.dump）。",
            f"{out} is a folder. Give the backup's file name (e.g. drt-2026-12-04.dump).",
            path=str(out),
        )
    if out.exists() and not overwrite:
        raise BackupPathInvalid(
            f"{out} はすでにあります。別の名前にするか、--overwrite で置き換えてください。",
            f"{out} exists already. Choose another name, or replace it with --overwrite.",
            path=str(out),
        )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open or sync a folder
        _fsync(folder)


def backup(
    url: str, out: Path, *, overwrite: bool = False, pg_bin: Path | None = None
) -> BackupResult:
    """Write a ``pg_dump`` custom-format archive of the database at ``url`` to ``out``.

    Atomic: the archive is written next to ``out`` under a temporary name, its table of
    contents is read back, it is flushed to disk and only then renamed to ``out``. On any
    failure the temporary file is removed and ``out`` is untouched.
    """
    target = pg_target(url)
    out = Path(out)
    _check_destination(out, overwrite)
    pg_dump = find_tool("pg_dump", pg_bin)
    find_tool("pg_restore", pg_bin)  # needed to check the archive: fail before dumping
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    os.close(fd)  # mode 0600 from mkstemp; pg_dump truncates and keeps it
    partial = Path(name)
    try:
        proc = _run(
            [
                pg_dump,
                "--format=custom",
                f"--lock-wait-timeout={LOCK_WAIT}",
                f"--file={partial}",
                f"--dbname={target.conninfo}",
            ],
            target.env(),
        )
        if proc.returncode != 0:
            gist = summarise(proc.stderr, target.password)
            raise BackupFailed(
                f"バックアップに失敗しました（pg_dump 終了コード {proc.returncode}、"
                f"{target.where}）: {gist}。ファイルは作られていません。",
                f"The backup failed (pg_dump exit code {proc.returncode}, {target.where}): "
                f"{gist}. No file was written.",
                returncode=proc.returncode,
                stderr=gist,
            )
        tables = archive_tables(partial, pg_bin)
        size = partial.stat().st_size
        _fsync(partial)
        os.replace(partial, out)
        _fsync_folder(out.parent)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=out, size_bytes=size, tables=tables, where=target.where)


def check_archive(source: Path) -> None:
    """Raise :class:`BackupFileMissing` / :class:`BackupFileInvalid` unless ``source`` is
    an existing file that starts like a ``pg_dump`` custom-format archive."""
    source = Path(source)
    if not source.exists():
        raise BackupFileMissing(
            f"復元するバックアップファイルがありません: {source}",
            f"The backup file to restore does not exist: {source}",
            file=str(source),
        )
    if not source.is_file():
        raise BackupFileInvalid(
            f"{source} はファイルではありません。drt db backup で作ったファイルを指定してください。",
            f"{source} is not a file. Give a file made by drt db backup.",
            file=str(source),
        )
    with source.open("rb") as f:
        head = f.read(len(ARCHIVE_MAGIC))
    if head != ARCHIVE_MAGIC:
        raise BackupFileInvalid(
            f"{source} は drt db backup（pg_dump -Fc）のバックアップファイルではありません"
            "（壊れているか、別の形式です）。",
            f"{source} is not a drt db backup (pg_dump -Fc) archive: it is damaged or of "
            "another format.",
            file=str(source),
        )


def other_sessions(url: str) -> int:
    """How many other client sessions are connected to the database at ``url``.

    Raises :class:`RestoreFailed` when the database does not answer."""
    reason = check_database(url)
    if reason is not None:
        target = pg_target(url)
        if target.password:
            reason = reason.replace(target.password, "***")
        raise RestoreFailed(
            f"データベースに接続できません（{target.where}）: {reason}",
            f"Cannot connect to the database ({target.where}): {reason}",
            reason=reason,
        )
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return int(found)


def restore(
    url: str,
    source: Path,
    *,
    privileges: bool = True,
    pg_bin: Path | None = None,
    force: bool = False,
) -> RestoreResult:
    """Restore the archive ``source`` into the database at ``url``, in one transaction.

    Objects in the archive are dropped first (``--clean --if-exists``) and recreated, owned
    by the connecting user (``--no-owner``). ``privileges=False`` leaves out the archive's
    GRANTs (``--no-privileges``: for a new server without the old roles). A restore that
    fails is rolled back (:class:`RestoreFailed`), leaving the database as it was.

    A restore waits for every lock it needs (the archive itself sets ``lock_timeout = 0``),
    so it is refused (:class:`DatabaseInUse`) while other sessions are connected, such as a
    running service; ``force`` restores all the same (it waits for their transactions).
    """
    target = pg_target(url)
    source = Path(source)
    check_archive(source)
    pg_restore = find_tool("pg_restore", pg_bin)
    tables = archive_tables(source, pg_bin)
    busy = 0 if force else other_sessions(url)
    if busy:
        raise DatabaseInUse(
            f"データベース {target.where} には、ほかに {busy} 本の接続があります（サービスが動いて"
            "います）。drt serve と作業中の接続をすべて止めてから復元してください（--force で"
            "そのまま復元できますが、それらの処理が終わるまで待ちます）。",
            f"Database {target.where} has {busy} other connection(s): the service is running. "
            "Stop drt serve and every other session before restoring (--force restores "
            "anyway, waiting until their transactions end).",
            sessions=busy,
        )
    args = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
    ]
    if not privileges:
        args.append("--no-privileges")
    args += [f"--dbname={target.conninfo}", str(source)]
    proc = _run(args, target.env())
    if proc.returncode != 0:
        gist = summarise(proc.stderr, target.password)
        raise RestoreFailed(
            f"復元に失敗しました（pg_restore 終了コード {proc.returncode}、{target.where}）: "
            f"{gist}。1つのトランザクションで実行したので、データベースは復元前のままです。",
            f"The restore failed (pg_restore exit code {proc.returncode}, {target.where}): "
            f"{gist}. It ran in one transaction, so the database is as it was before.",
            returncode=proc.returncode,
            stderr=gist,
            file=str(source),
        )
    return RestoreResult(path=source, tables=tables, where=target.where)


# -- retention --------------------------------------------------------------------------------

RETENTION_FILE = "retention.toml"
MAX_DAYS = 36_500


@dataclass(frozen=True)
class Retention:
    """How many days each kind of personal data is kept (see ``areas/kurate/retention.toml``)."""

    positions_days: int = 90
    """GPS positions of the vehicles."""
    audit_log_days: int = 3 * 365
    """Audit entries (who did what, for whom)."""
    closed_accounts_days: int = 365
    """Closed resident accounts, before they are anonymised (needs a closed state: see
    the module docstring)."""
    source: Path | None = None
    """The file read, or ``None`` for the defaults."""


def retention_path(area_toml: Path) -> Path:
    """The retention file of an area: ``retention.toml`` next to its ``area.toml``."""
    return Path(area_toml).parent / RETENTION_FILE


def _bad_retention(key: str, rule_ja: str, rule_en: str, source: Path) -> ConfigError:
    return ConfigError(
        f"保存期間の設定「{key}」が正しくありません（{source}）: {rule_ja}",
        f"Retention setting '{key}' is invalid ({source}): {rule_en}",
        key=key,
    )


def load_retention(path: Path) -> Retention:
    """The retention periods in ``path``; the defaults when the file does not exist.

    Raises :class:`~common.errors.ConfigError` (with the ``key``) for a syntax error, an
    unknown key or table, or a period that is not a whole number of days in 1..36500.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Retention()
    except tomllib.TOMLDecodeError as exc:
        raise _bad_retention(
            "file", f"TOML の書き方の誤り: {exc}", f"TOML syntax error: {exc}", path
        ) from None
    extra = sorted(set(raw) - {"retention"})
    if extra:
        raise _bad_retention(
            extra[0],
            "[retention] 以外の表は書けません",
            "only a [retention] table is allowed",
            path,
        )
    table = raw.get("retention", {})
    if not isinstance(table, dict):
        raise _bad_retention("retention", "表（[retention]）です", "must be a table", path)
    known = ("positions_days", "audit_log_days", "closed_accounts_days")
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise _bad_retention(
            f"retention.{unknown[0]}",
            f"知らない項目です（使えるのは {', '.join(known)}）",
            f"unknown key (the keys are {', '.join(known)})",
            path,
        )
    values: dict[str, int] = {}
    for key in known:
        if key not in table:
            continue
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
            raise _bad_retention(
                f"retention.{key}",
                f"1〜{MAX_DAYS} の整数（日数）です",
                f"a whole number of days, 1..{MAX_DAYS}",
                path,
            )
        values[key] = value
    return Retention(**values, source=path)


# -- purge --------------------------------------------------------------------------------

PurgeStatus = Literal["deleted", "would_delete"]


@dataclass(frozen=True)
class PurgeLine:
    """One kind of data in a purge: its table, period, cutoff and the rows it removed."""

    kind: str
    table: str
    keep_days: int
    cutoff: datetime
    """Rows strictly older than this are purged."""
    rows: int
    """Rows deleted (``deleted``), that would be deleted (``would_delete``), or 0."""
    status: PurgeStatus
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "table": self.table,
            "keep_days": self.keep_days,
            "cutoff": self.cutoff.isoformat(),
            "rows": self.rows,
            "status": self.status,
            "note": self.note,
        }


@dataclass(frozen=True)
class PurgeReport:
    now: datetime
    dry_run: bool
    lines: list[PurgeLine]
    source: Path | None

    @property
    def total(self) -> int:
        return sum(line.rows for line in self.lines)

    def rows(self, kind: str) -> int:
        return next(line.rows for line in self.lines if line.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "retention_file": str(self.source) if self.source else None,
            "lines": [line.to_dict() for line in self.lines],
            "total": self.total,
        }


def _count(session: Session, model: Any, column: Any, cutoff: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(column < cutoff)) or 0)


def purge(
    session: Session, retention: Retention, now: datetime, *, dry_run: bool = False
) -> PurgeReport:
    """Delete positions and audit entries older than their periods and anonymise accounts
    closed longer than theirs (``dry_run``: count).

    Runs in the session's transaction and does not commit (see :func:`purge_database`).
    A row whose time is exactly the cutoff is kept.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lines = []
    for kind, model, column, days in (
        ("positions", dm.Position, dm.Position.at, retention.positions_days),
        ("audit_log", rm.AuditEntry, rm.AuditEntry.at, retention.audit_log_days),
    ):
        cutoff = now - timedelta(days=days)
        if dry_run:
            rows = _count(session, model, column, cutoff)
        else:
            result = session.execute(
                delete(model).where(column < cutoff).execution_options(synchronize_session=False)
            )
            rows = int(getattr(result, "rowcount", 0) or 0)
        status: PurgeStatus = "would_delete" if dry_run else "deleted"
        lines.append(PurgeLine(kind, str(model.__tablename__), days, cutoff, rows, status))
    cutoff = now - timedelta(days=retention.closed_accounts_days)
    closed = session.scalars(
        select(rm.Resident.id)
        .where(rm.Resident.closed_at < cutoff, rm.Resident.name != ANONYMISED_NAME)
        .order_by(rm.Resident.id)
    ).all()
    if not dry_run:
        for resident_id in closed:
            anonymise_resident(session, resident_id, now)
    lines.append(
        PurgeLine(
            "closed_accounts",
            rm.Resident.__tablename__,
            retention.closed_accounts_days,
            cutoff,
            len(closed),
            "would_delete" if dry_run else "deleted",
            "anonymised: name, kana, phone, address but its 大字 (bookings kept)",
        )
    )
    return PurgeReport(now=now, dry_run=dry_run, lines=lines, source=retention.source)


def purge_database(
    engine: Engine, retention: Retention, *, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """:func:`purge` in one transaction on ``engine``: committed, or rolled back in a dry run."""
    with make_sessionmaker(engine)() as session:
        report = purge(session, retention, now or now_utc(), dry_run=dry_run)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return report


# -- closing an account ---------------------------------------------------------------------

ANONYMISED_NAME = "（退会済み）"
"""The name an anonymised resident keeps (bookings and the audit log still show the row)."""
SYSTEM_ACTOR = "drt-db"


@dataclass(frozen=True)
class AnonymiseResult:
    resident_id: str
    already: bool
    """The account was anonymised before; nothing changed."""
    bookings_kept: int
    removed: dict[str, int]
    """Rows deleted or scrubbed per table."""


def anonymised_address(address: str) -> str:
    """What an anonymised address keeps: its 大字 only (the ridership report's district)."""
    found = district(address)
    return "" if found == "その他" else f"大字{found}"


def _rows_changed(session: Session, statement: Any) -> int:
    """Run a bulk UPDATE or DELETE; how many rows it changed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def forget_town_services(session: Session, resident_id: str) -> dict[str, int]:
    """What the town services hold of a person, removed (rows changed per table; 0 when
    nothing was left): opt-ins deleted; the text of their questions to staff and the LINE
    user they came from blanked; their survey answers unlinked from them (kept, counted, as
    an anonymous survey's); the values written on their applications emptied (the form, its
    number, status and dates kept); the payer's name on their payment slips blanked.
    Reservations hold nothing but who and when: kept, for the attendance figures."""
    out: dict[str, int] = {}

    def run(table: str, statement: Any) -> None:
        out[table] = _rows_changed(session, statement)

    run(
        "town_subscriptions",
        delete(tm.Subscription).where(tm.Subscription.resident_id == resident_id),
    )
    run("town_faq_tickets", update(tm.FaqTicket).where(
        tm.FaqTicket.resident_id == resident_id,
        (tm.FaqTicket.question != "") | (tm.FaqTicket.note != "") | tm.FaqTicket.line_user_id.is_not(None),
    ).values(question="", note="", line_user_id=None))  # fmt: skip
    responses = session.scalars(
        select(tm.SurveyResponse).where(tm.SurveyResponse.resident_id == resident_id)
    ).all()
    for r in responses:  # a key of its own: no longer the resident's id
        r.resident_id, r.respondent_key = None, f"closed:{r.id}"
    out["town_survey_responses"] = len(responses)
    forms = session.scalars(select(tm.FormApplication).where(
        tm.FormApplication.resident_id == resident_id)).all()  # fmt: skip
    written = [f for f in forms if f.values or f.prefilled]
    for f in written:
        f.values, f.prefilled = {}, []
    out["town_form_applications"] = len(written)
    run("town_payment_slips", update(tm.PaymentSlip).where(
        tm.PaymentSlip.resident_id == resident_id, tm.PaymentSlip.payer_name != ANONYMISED_NAME,
    ).values(payer_name=ANONYMISED_NAME))  # fmt: skip
    session.flush()
    return out


def anonymise_resident(session: Session, resident_id: str, now: datetime) -> AnonymiseResult:
    """Close a resident's account by anonymising it; does not commit.

    Blanked: name (to :data:`ANONYMISED_NAME`), kana, phone, address (all but the 大字).
    Deleted: linked channels (phone, LINE, app), sign-in tokens, link codes, favourite
    places; the LINE user id is blanked in the LINE push and webhook records; what the town
    services hold of the person (:func:`forget_town_services`). Kept: the
    resident row (id, birth year, eligibility, wheelchair and help flags, consent and
    creation times) and every quote and booking, for the town's statistics. Self-service
    booking is suspended. An audit entry (actor ``system`` / ``drt-db``) records it.
    Raises :class:`ResidentHasOpenBookings` for a booking still held, confirmed or on board.
    """
    r = session.get(rm.Resident, resident_id)
    if r is None:
        raise NotFound("その利用者は見つかりません。", "No such resident.", id=resident_id)
    open_ids = open_bookings(session, resident_id)
    if open_ids:
        listing = ", ".join(open_ids)
        raise ResidentHasOpenBookings(
            f"この利用者にはまだ乗車前の予約があります（{listing}）。取り消すか乗車が終わってから"
            "退会の処理をしてください。",
            f"This resident still has bookings to ride ({listing}). Cancel them, or wait "
            "until they are ridden, before closing the account.",
            id=resident_id,
            bookings=list(open_ids),
        )
    bookings = int(
        session.scalar(
            select(func.count())
            .select_from(cm.Booking)
            .where(cm.Booking.resident_id == resident_id)
        )
        or 0
    )
    channels = session.scalars(
        select(rm.ResidentChannel).where(rm.ResidentChannel.resident_id == resident_id)
    ).all()
    line_ids = [c.external_id for c in channels if c.kind == "line"]
    done = r.name == ANONYMISED_NAME and not (r.kana or r.phone) and not channels
    removed: dict[str, int] = {}

    def run(table: str, statement: Any) -> None:
        removed[table] = _rows_changed(session, statement)

    removed.update(remove_sign_ins(session, resident_id))
    run(
        "line_favourites",
        delete(lm.LineFavourite).where(lm.LineFavourite.resident_id == resident_id),
    )
    if line_ids:
        run(
            "line_pushes",
            update(lm.LinePush).where(lm.LinePush.user_id.in_(line_ids)).values(user_id=""),
        )
        run(
            "line_webhook_events",
            update(lm.LineEvent).where(lm.LineEvent.user_id.in_(line_ids)).values(user_id=""),
        )
    removed.update(forget_town_services(session, resident_id))
    changed = not done or any(removed.values())
    if not changed:
        return AnonymiseResult(resident_id, True, bookings, dict.fromkeys(removed, 0))
    r.name, r.kana, r.phone = ANONYMISED_NAME, "", ""
    r.address = anonymised_address(r.address)
    r.suspended = True
    if r.closed_at is None:  # forgotten at once, on request
        r.closed_at = now
    session.add(
        rm.AuditEntry(
            at=now,
            actor_kind="system",
            actor_id=SYSTEM_ACTOR,
            action="resident.anonymise",
            resident_id=resident_id,
            booking_id=None,
            details={"bookings_kept": bookings, "removed": removed},
        )
    )
    session.flush()
    return AnonymiseResult(resident_id, False, bookings, removed)
