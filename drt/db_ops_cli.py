"""`drt db backup`, `drt db restore`, `drt db purge` and `drt db anonymise-resident`.

Plain functions for ``drt.serve_cli.db_app`` (registered in ``drt/cli.py``); the logic is in
:mod:`server.backup`. They read the database from the settings (``DRT_DATABASE_URL``) and
the retention periods from the area's ``retention.toml`` (next to ``DRT_AREA``).
:mod:`server.backup` is imported when a command runs, not with ``drt`` itself.
"""

from __future__ import annotations

from pathlib import Path

import typer

from common.clock import now_utc
from common.db import make_engine, make_sessionmaker
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table

PG_BIN_OPTION = typer.Option(
    None, "--pg-bin", help="folder of pg_dump and pg_restore (default: found on PATH)"
)


@handles_errors
def db_backup(
    typer_ctx: typer.Context,
    out: Path = typer.Argument(..., help="the backup file to write, e.g. drt-2026-12-04.dump"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace OUT if it exists"),
    pg_bin: Path | None = PG_BIN_OPTION,
) -> None:
    """Back up the database to OUT (pg_dump custom format, written atomically, mode 0600)."""
    from server import backup as bk

    ctx: AppContext = typer_ctx.obj
    result = bk.backup(ctx.settings.effective_database_url, out, overwrite=overwrite, pg_bin=pg_bin)
    console.print(
        f"バックアップしました / backed up {result.where}: {result.path} "
        f"({result.size_bytes:,} bytes, {len(result.tables)} tables)"
    )


@handles_errors
def db_restore(
    typer_ctx: typer.Context,
    source: Path = typer.Argument(..., help="a file made by drt db backup"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    no_privileges: bool = typer.Option(
        False, "--no-privileges", help="leave out the backup's GRANTs (a server without its roles)"
    ),
    force: bool = typer.Option(
        False, "--force", help="restore even with other sessions connected (waits for them)"
    ),
    pg_bin: Path | None = PG_BIN_OPTION,
) -> None:
    """Restore the database from SOURCE, in one transaction (stop the service first)."""
    from server import backup as bk

    ctx: AppContext = typer_ctx.obj
    url = ctx.settings.effective_database_url
    target = bk.pg_target(url)
    bk.check_archive(source)
    if not yes:
        typer.confirm(
            f"データベース {target.where} の内容を {source} で置き換えます。よろしいですか？ / "
            f"Replace the contents of database {target.where} with {source}?",
            abort=True,
        )
    result = bk.restore(url, source, privileges=not no_privileges, pg_bin=pg_bin, force=force)
    console.print(
        f"復元しました / restored {result.where} from {result.path} ({len(result.tables)} tables)"
    )
    console.print("次に / next: drt db upgrade")


@handles_errors
def db_purge(
    typer_ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="count what would go, delete nothing"),
    retention: Path | None = typer.Option(
        None, "--retention", help="retention file (default: retention.toml next to the area file)"
    ),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Delete personal data older than the area's retention periods, in one transaction."""
    from server import backup as bk

    ctx: AppContext = typer_ctx.obj
    periods = bk.load_retention(retention or bk.retention_path(ctx.area_path))
    engine = make_engine(ctx.settings.effective_database_url)
    try:
        report = bk.purge_database(engine, periods, dry_run=dry_run)
    finally:
        engine.dispose()
    if fmt == Format.json:
        print_json(report.to_dict())
        return
    source = str(report.source) if report.source else "defaults (no retention.toml)"
    title = "保存期間を過ぎた個人データ / personal data past its retention"
    print_table(
        f"{title}{' (dry run: nothing deleted)' if dry_run else ''} - {source}",
        ["data", "table", "keep (days)", "older than (UTC)", "rows", "result"],
        [
            (
                line.kind,
                line.table,
                line.keep_days,
                f"{line.cutoff:%Y-%m-%d %H:%M}",
                line.rows,
                f"{line.status} ({line.note})" if line.note else line.status,
            )
            for line in report.lines
        ],
    )


@handles_errors
def db_anonymise_resident(
    typer_ctx: typer.Context,
    resident_id: str = typer.Argument(..., help="the resident's id (R...)"),
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
) -> None:
    """Close a resident's account: blank the personal data, keep the trips for statistics."""
    from server import backup as bk

    ctx: AppContext = typer_ctx.obj
    if not yes:
        typer.confirm(
            f"利用者 {resident_id} の氏名・よみ・電話・住所と連携を消します（元に戻せません）。"
            f"よろしいですか？ / Erase resident {resident_id}'s personal data (cannot be undone)?",
            abort=True,
        )
    engine = make_engine(ctx.settings.effective_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            result = bk.anonymise_resident(session, resident_id, now_utc())
            session.commit()
    finally:
        engine.dispose()
    if result.already:
        console.print(f"{resident_id}: 匿名化済みです / already anonymised")
        return
    removed = ", ".join(f"{table} {n}" for table, n in result.removed.items() if n) or "none"
    console.print(
        f"{resident_id}: 匿名化しました / anonymised ({result.bookings_kept} bookings kept; "
        f"removed: {removed})"
    )
