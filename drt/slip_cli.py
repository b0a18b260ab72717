"""`drt town slip ...`: payment slips (納付書).

``barcode`` prints the 44 digits of a convenience-store barcode from its fields (nothing
stored, no database); ``import`` stores the slips of the tax system's CSV file; ``payments``
marks slips paid from a payments CSV file; ``pdf`` writes a slip's PDF. The files are read
as UTF-8 (a BOM allowed) or, failing that, as Shift_JIS (cp932), as Japanese office systems
write them. Imports and PDFs are audited as the staff account ``drt-cli``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from common.errors import InvalidInput
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, console, handles_errors, print_json, print_table

if TYPE_CHECKING:
    from residents.service import Actor

app = typer.Typer(help="納付書 / payment slips", no_args_is_help=True)
CLI_ACTOR_ID = "drt-cli"


def _whole(text: str, option: str, ja: str) -> int:
    from town.gs1 import digits_of

    v = digits_of(text)
    if not v.isascii() or not v.isdigit():
        raise InvalidInput(f"{option}({ja})は数字で入れてください(「{text}」)。",
                           f"{option} must be a whole number (got {text!r}).", field=option)  # fmt: skip
    return int(v)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"{option} は 2026-12-25 のように入れてください(「{text}」)。",
            f"{option} must be a date like 2026-12-25 (got {text!r}).",
            field=option,
        ) from None


def read_text(path: Path) -> str:
    """A file's text: UTF-8 (a BOM allowed), else Shift_JIS (cp932)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"ファイルを読めません: {path}", f"Cannot read {path}: {e.strerror}",
                           field="file") from None  # fmt: skip
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"ファイルの文字コードが読めません(UTF-8かShift_JISにしてください): {path}",
                       f"{path} is neither UTF-8 nor Shift_JIS.", field="file")  # fmt: skip


def _actor() -> Actor:
    from residents.service import Actor

    return Actor("staff", CLI_ACTOR_ID, "admin")


@app.command("barcode")
@handles_errors
def barcode(
    biller: str = typer.Option(..., "--biller", help="収納企業コード: 6 digits"),
    free: str = typer.Option(..., "--free", help="自由使用欄: 21 digits"),
    reissue: str = typer.Option("0", "--reissue", help="再発行区分: 0-9"),
    due: str = typer.Option(..., "--due", help="納期限: YYYY-MM-DD"),
    stamp: str = typer.Option("0", "--stamp", help="印紙フラグ: 0 or 1"),
    amount: str = typer.Option(..., "--amount", help="金額 in yen: 1-999999"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Print the 44 digits of the convenience-store barcode (GS1-128, AI 91)."""
    from town import gs1

    code = gs1.SlipCode(biller, free, _whole(reissue, "--reissue", "再発行区分"),
                        _day(due, "--due"), _whole(stamp, "--stamp", "印紙フラグ"),
                        _whole(amount.replace(",", ""), "--amount", "金額"))  # fmt: skip
    digits = code.digits
    if fmt == Format.json:
        print_json({"digits": digits, "check_digit": int(digits[-1]),
                    "human_readable": list(gs1.human_readable(digits))})  # fmt: skip
        return
    typer.echo(digits)


@app.command("import")
@handles_errors
def import_(
    typer_ctx: typer.Context,
    file: Path = typer.Argument(..., help="the tax system's slips CSV (see docs/town.md)"),
    source: str = typer.Option("", help="where it comes from (default: the file's name)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Store the slips of a file (checked whole: a wrong cell stores nothing)."""
    from common.clock import now_utc
    from drt.serve_cli import prepare_database, transaction
    from town import slips

    ctx: AppContext = typer_ctx.obj
    text = read_text(file)
    prepare_database(ctx.settings)
    with transaction(ctx.settings) as session:
        result = slips.import_slips(session, _actor(), text, source or file.name, now_utc())
    summary = {k: result.count(k) for k in ("created", "updated", "unchanged")}
    if fmt == Format.json:
        print_json({**summary, "slips": [{"row": s.row, "id": s.slip_id, "result": s.result}
                                         for s in result.slips]})  # fmt: skip
        return
    console.print(f"取り込みました / imported: 新しく {summary['created']}, 変更 {summary['updated']}, "
                  f"変わらず {summary['unchanged']}")  # fmt: skip


@app.command("payments")
@handles_errors
def payments(
    typer_ctx: typer.Context,
    file: Path = typer.Argument(..., help="a payments CSV: barcode, paid_on (see docs/town.md)"),
    source: str = typer.Option("", help="where it comes from (default: the file's name)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Mark slips paid from a payments file (the same file again changes nothing)."""
    from common.clock import now_utc
    from drt.serve_cli import prepare_database, transaction
    from town import slips

    ctx: AppContext = typer_ctx.obj
    text = read_text(file)
    prepare_database(ctx.settings)
    with transaction(ctx.settings) as session:
        result = slips.import_payments(session, _actor(), text, source or file.name, now_utc())
    if fmt == Format.json:
        print_json({"counts": result.counts(), "paid": result.paid,
                    "already_paid": result.already_paid, "unknown": result.unknown,
                    "mismatched": result.mismatched})  # fmt: skip
        return
    n = result.counts()
    print_table("支払いの取り込み / payments", ["paid", "already_paid", "unknown", "mismatched"],
                [(n["paid"], n["already_paid"], n["unknown"], n["mismatched"])])  # fmt: skip
    for item in result.mismatched:
        console.print(f"金額などがちがう / mismatched: {item['row']}行目 {item['barcode']} "
                      f"(納付書 {item['slip_id']}: {item['slip_barcode']})")  # fmt: skip


@app.command("pdf")
@handles_errors
def pdf(
    typer_ctx: typer.Context,
    slip_id: str = typer.Argument(..., help="the slip's id (PS…)"),
    out: Path = typer.Option(..., "--output", "-o", help="the PDF file to write"),
) -> None:
    """Write a slip's PDF."""
    from core.rules import load_booking_config
    from drt.serve_cli import transaction
    from town import slips

    ctx: AppContext = typer_ctx.obj
    phone = load_booking_config(ctx.area.source.parent / "booking.toml").operator_phone
    with transaction(ctx.settings) as session:
        row, content = slips.pdf(session, _actor(), slip_id, ctx.area.name, phone)
    out.write_bytes(content)
    console.print(f"書き出しました / written: {out} ({row.subject}, {row.amount:,}円)")
