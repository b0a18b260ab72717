"""`drt town garbage ...`: the garbage calendar (5374 format): import, days, what, export.

``import`` validates a folder whole and stores it as the calendar in force (every worker
reads it from the database); ``days`` prints the collection days of an area, from the
calendar in force or, with ``--dir``, from a folder (nothing stored); ``export`` writes the
calendar in force back as the five files.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from common.errors import InvalidInput
from drt import slip_cli
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table
from drt.serve_cli import prepare_database, transaction

app = typer.Typer(help="町のサービス / town services", no_args_is_help=True)
garbage = typer.Typer(
    help="ごみ収集日(5374形式) / garbage days (5374 format)", no_args_is_help=True
)
app.add_typer(garbage, name="garbage")
app.add_typer(slip_cli.app, name="slip")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{option} は 2026-12-04 のように入れてください(「{text}」)。",
            f"{option} must be a date like 2026-12-04 (got {text!r}).",
            field=option,
        ) from None


@garbage.command("import")
@handles_errors
def import_(
    typer_ctx: typer.Context,
    folder: Path = typer.Argument(..., help="a folder with the five 5374 files"),
    label: str = typer.Option("", help="where it comes from (default: the folder's name)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Validate a 5374 folder and make it the calendar in force (a bad cell changes nothing)."""
    from town import calendars

    ctx: AppContext = typer_ctx.obj
    prepare_database(ctx.settings)
    with transaction(ctx.settings) as session:
        row = calendars.import_calendar(session, folder, by="drt town garbage import", label=label)
        cal = calendars.current(session)
    summary = {"id": row.id, "label": row.label, "areas": len(cal.areas),
               "categories": list(cal.categories), "targets": len(cal.targets)}  # fmt: skip
    if fmt == Format.json:
        print_json(summary)
        return
    console.print(
        f"取り込みました / imported {row.label}: {summary['areas']} 地区, "
        f"{len(cal.categories)} 種類 ({', '.join(cal.categories)}), 品目 {summary['targets']}"
    )


@garbage.command("days")
@handles_errors
def days(
    typer_ctx: typer.Context,
    area: str = typer.Option(..., "--area", help="地名 as in area_days.csv"),
    start: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="last day, YYYY-MM-DD (inclusive)"),
    folder: Path | None = typer.Option(None, "--dir", help="read this 5374 folder instead"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """The collection days of an area from --from to --to: [{"date", "category"}, ...]."""
    from town import calendars
    from town.garbage import load_calendar

    first, last = _day(start, "--from"), _day(end, "--to")
    calendars.check_range(first, last)
    ctx: AppContext = typer_ctx.obj
    if folder is not None:
        cal = load_calendar(folder)
    else:
        with transaction(ctx.settings) as session:
            cal = calendars.current(session)
    rows = [{"date": d.isoformat(), "category": c} for d, c in cal.days(area, first, last)]
    if fmt == Format.json:
        print_json(rows)
        return
    print_table(f"{area} のごみ収集日 / garbage days", ["date", "category"],
                [(r["date"], r["category"]) for r in rows])  # fmt: skip


@garbage.command("export")
@handles_errors
def export(
    typer_ctx: typer.Context,
    folder: Path = typer.Argument(..., help="an existing folder to write the five files into"),
) -> None:
    """Write the calendar in force back as the five 5374 files."""
    from town import calendars

    if not folder.is_dir():
        raise InvalidInput(f"フォルダがありません: {folder}", f"No such folder: {folder}",
                           field="folder")  # fmt: skip
    ctx: AppContext = typer_ctx.obj
    with transaction(ctx.settings) as session:
        row = calendars.export_current(session, folder)
    console.print(f"書き出しました / exported {row.label} → {folder}")
