"""The 納付書 as a one-page A4 PDF (ReportLab, IPAexGothic): who pays what by when, in large
plain Japanese; the convenience-store barcode (GS1-128, drawn here module by module from
:func:`town.gs1.symbol_widths`, with its quiet zones and the digits in two lines under it);
and the eL-QR code drawn with segno from the payload the tax system gave, as given.

Sizes: the narrow module is ``MODULE_MM`` (0.19 mm), so the symbol (288 modules) with two
quiet zones of ``QUIET_MODULES`` (10) is 58.5 mm wide, inside the guideline's 60 mm, and
``BAR_HEIGHT_MM`` (12 mm) tall, over its 10 mm. The page is drawn with ReportLab's
``invariant`` option: the same slip gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from town import gs1
from town.pdf import font

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

MODULE_MM = 0.19
QUIET_MODULES = 10
BAR_HEIGHT_MM = 12.0
QR_QUIET_MODULES = 4
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True, slots=True)
class Sheet:
    """What one printed slip shows."""

    slip_id: str
    town: str
    subject: str
    fiscal_year: int
    period: str
    payer_name: str
    amount_yen: int
    due: date
    digits: str  # the 44 digits
    reissue: int
    elqr_payload: str | None
    phone: str
    convenience_store: bool  # False above the stores' limit: no barcode, say so
    #: Why the slip must not be paid with (already paid, or reissued): said instead of how
    #: to pay, and no code is drawn (a store would take a paid slip's barcode again).
    void: str | None = None


def yen(amount: int) -> str:
    """「12,300円」"""
    return f"{amount:,}円"


def long_date(d: date) -> str:
    """「2026年12月25日(金)」"""
    return f"{d.year}年{d.month}月{d.day}日({WEEKDAYS[d.weekday()]})"


def _wrap(text: str, face: str, size: float, width: float) -> list[str]:
    """Lines of at most ``width`` points (Japanese has no spaces: broken by character)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if stringWidth(line + ch, face, size) > width and line:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def render(sheet: Sheet) -> bytes:
    """The slip's PDF (one A4 page)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    jp = font()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    c.setTitle(f"納付書 {sheet.subject}")
    c.setAuthor(sheet.town)
    c.setSubject(f"slip {sheet.slip_id}")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm

    def say(x: float, y: float, text: str, size: float = 14) -> None:
        c.setFont(jp, size)
        c.drawString(x, y, text)

    def para(y: float, text: str, size: float = 13, indent: float = 0) -> float:
        for line in _wrap(text, jp, size, right - left - indent):
            say(left + indent, y, line, size)
            y -= size * 1.5
        return y

    say(left, height - 22 * mm, sheet.town, 14)
    say(left, height - 34 * mm, "納付書(のうふしょ)", 26)
    if sheet.reissue:
        say(right - 40 * mm, height - 34 * mm, f"再発行({sheet.reissue}回目)", 12)
    say(left, height - 48 * mm, f"{sheet.payer_name} 様", 18)

    rows = [("税目など", sheet.subject),
            ("年度・期別", f"{sheet.fiscal_year}年度 {sheet.period}".strip()),
            ("金額", yen(sheet.amount_yen)), ("納期限", long_date(sheet.due))]  # fmt: skip
    y = height - 62 * mm
    c.setLineWidth(0.8)
    for label, value in rows:
        c.rect(left, y - 4 * mm, right - left, 11 * mm, stroke=1, fill=0)
        say(left + 4 * mm, y, label, 13)
        big = label in ("金額", "納期限")
        say(left + 40 * mm, y - (0.5 * mm if big else 0), value, 20 if big else 15)
        y -= 11 * mm

    y -= 8 * mm
    if sheet.void:
        c.setLineWidth(2)
        c.rect(left, y - 14 * mm, right - left, 20 * mm, stroke=1, fill=0)
        para(y - 2 * mm, sheet.void, 16, indent=4 * mm)
        _footer(c, sheet, jp, left, right, mm, para)
        return _done(c, out)
    say(left, y, "お支払いの方法", 16)
    y -= 8 * mm
    if sheet.convenience_store:
        y = para(y, "・コンビニ: この紙をレジに出して、下のバーコードを読み取ってもらってください。"
                 "納期限を過ぎると、コンビニでは払えません。")  # fmt: skip
    else:
        y = para(y, "・コンビニ: 金額が多いため、この納付書はコンビニでは払えません。")
    if sheet.elqr_payload:
        y = para(y, "・スマートフォンの決済アプリや金融機関: 下のQRコード(eL-QR)を読み取って"
                 "払えます。")  # fmt: skip
    y = para(y, "・金融機関や役場の窓口でも払えます。この紙を持っていってください。")

    base = 62 * mm  # the codes' row, above the footer
    if sheet.convenience_store:
        say(left, base + BAR_HEIGHT_MM * mm + 5 * mm, "コンビニ用バーコード", 12)
        _barcode(c, left, base, sheet.digits, mm)
    if sheet.elqr_payload:
        c.setFont(jp, 10)
        c.drawRightString(right, base + BAR_HEIGHT_MM * mm + 5 * mm, "eL-QR(地方税統一QRコード)")
        _qr(c, right - 34 * mm, base - 14 * mm, 34 * mm, sheet.elqr_payload, mm)

    _footer(c, sheet, jp, left, right, mm, para)
    return _done(c, out)


def _footer(
    c: Canvas, sheet: Sheet, jp: str, left: float, right: float, mm: float,
    para: Callable[..., float],
) -> None:  # fmt: skip
    y = para(36 * mm, f"わからないことは、お電話({sheet.phone})でどうぞ。", 13)
    para(y, "すでにお支払いいただいた方は、この紙は使わないでください。", 11)
    c.setFont("Helvetica", 8)
    c.drawString(left, 14 * mm, f"No. {sheet.slip_id}")


def _done(c: Canvas, out: io.BytesIO) -> bytes:
    c.showPage()
    c.save()
    return out.getvalue()


def _barcode(c: Canvas, x0: float, y0: float, digits: str, mm: float) -> None:
    """The GS1-128 symbol with its left edge (quiet zone included) at ``x0``, its bars'
    bottom at ``y0``, and the two lines of digits under it."""
    module = MODULE_MM * mm
    x = x0 + QUIET_MODULES * module
    c.setFillColorRGB(0, 0, 0)
    for i, w in enumerate(gs1.symbol_widths(digits)):
        if i % 2 == 0:  # a bar (the elements alternate bar, space, starting with a bar)
            c.rect(x, y0, w * module, BAR_HEIGHT_MM * mm, stroke=0, fill=1)
        x += w * module
    top, bottom = gs1.human_readable(digits)
    c.setFont("Courier", 8.5)
    c.drawString(x0 + QUIET_MODULES * module, y0 - 4 * mm, top)
    c.drawString(x0 + QUIET_MODULES * module, y0 - 8 * mm, bottom)


def _qr(c: Canvas, x0: float, y0: float, side: float, payload: str, mm: float) -> None:
    """The payload as a QR code (error correction M), ``side`` wide with its quiet zone,
    lower left corner at (``x0``, ``y0``); dark modules drawn as runs of a row."""
    import segno

    qr = segno.make(payload, error="m", micro=False, boost_error=False)
    rows = qr.matrix
    n = len(rows)
    module = side / (n + 2 * QR_QUIET_MODULES)
    top = y0 + side - QR_QUIET_MODULES * module
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        col = 0
        while col < n:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < n and row[col]:
                col += 1
            x = x0 + (QR_QUIET_MODULES + start) * module
            c.rect(x, top - (r + 1) * module, (col - start) * module, module, stroke=0, fill=1)
