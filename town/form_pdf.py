"""An application printed on one A4 page (ReportLab, IPAexGothic embedded): the form's title,
the 受付番号, the dates, and every field's label and value in its box where the definition
puts it, with 「登録から」 on the fields filled from the resident's record and 「確認済」 on
those staff confirmed at the counter. All of it is text (not an image), so it can be read
back, searched and checked (the tests do, with pypdf)."""

from __future__ import annotations

import io
from datetime import date, datetime, tzinfo

from town.forms import PAGE_H_MM, FormDef, Value
from town.models import FormApplication
from town.pdf import font

WEEKDAYS = "月火水木金土日"
STATUS_JA = {"pre_applied": "事前申請(窓口はまだ)", "in_review": "窓口で確認中",
             "completed": "完了", "cancelled": "取り消し"}  # fmt: skip
CHANNEL_JA = {"line": "LINEでの事前申請", "app": "アプリでの事前申請", "counter": "窓口"}
VALUE_PT, MIN_VALUE_PT, LABEL_PT, MARK_PT = 12.0, 6.0, 7.5, 7.0


def jp_day(t: date) -> str:
    """「2026年12月2日(水)」"""
    return f"{t.year}年{t.month}月{t.day}日({WEEKDAYS[t.weekday()]})"


def jp_when(t: datetime, tz: tzinfo) -> str:
    local = t.astimezone(tz)
    return f"{jp_day(local.date())} {local.hour}時{local.minute:02d}分"


def shown(kind: str, value: Value) -> str:
    """A value as printed: a check as ■ はい / □ いいえ, a date in Japanese."""
    if value is None:
        return ""
    if kind == "check":
        return "■ はい" if value else "□ いいえ"
    if kind == "date" and isinstance(value, str):
        try:
            d = date.fromisoformat(value)
        except ValueError:
            return value
        return f"{d.year}年{d.month}月{d.day}日"
    return str(value)


def wrap(text: str, width_pt: float, size: float, face: str) -> list[str]:
    """Lines of at most ``width_pt`` (Japanese breaks between any two characters)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if line and stringWidth(line + ch, face, size) > width_pt:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def render(form: FormDef, row: FormApplication, tz: tzinfo, completed_by: str = "") -> bytes:
    """The PDF of one application (bytes). Only the application's own values are printed:
    without the resident's consent nothing of their record is on the page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    face = font()
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    c.setTitle(f"{form.title} {row.number}")
    c.setAuthor("鞍手町")
    c.setSubject(f"受付番号 {row.number}")
    page_h = float(A4[1])

    def top(y_mm: float) -> float:  # millimetres from the top, as ReportLab's points
        return float(page_h - y_mm * mm)

    def text(x_mm: float, y_mm: float, s: str, size: float) -> None:
        c.setFont(face, size)
        c.drawString(x_mm * mm, top(y_mm), s)

    # the header: 見本, the title, the number, the dates
    if form.sample:
        c.setLineWidth(1.2)
        c.rect(10 * mm, top(16), 18 * mm, 9 * mm)
        text(12.5, 13.5, "見本", 12)
    c.setFont(face, 17)
    c.drawCentredString(A4[0] / 2 - 12 * mm, top(16), form.title)
    c.setLineWidth(1)
    c.rect(150 * mm, top(30), 50 * mm, 24 * mm)
    text(153, 11, "受付番号", 8)
    text(153, 22, row.number, 18)
    text(
        15,
        28,
        f"受付: {jp_when(row.created_at, tz)}({CHANNEL_JA.get(row.channel, row.channel)})",
        9,
    )
    state = STATUS_JA.get(row.status, row.status)
    if row.completed_at is not None:
        state += f" {jp_when(row.completed_at, tz)}" + (
            f"(係: {completed_by})" if completed_by else ""
        )
    text(15, 33, f"状態: {state}", 9)

    # the fields, each in its box
    values, prefilled, confirmed = row.values, set(row.prefilled), set(row.confirmed)
    c.setLineWidth(0.6)
    for f in form.fields:
        b = f.box
        c.rect(b.x * mm, top(b.y + b.h), b.w * mm, b.h * mm)
        marks = [
            m for m, on in (("登録から", f.id in prefilled), ("確認済", f.id in confirmed)) if on
        ]
        text(b.x + 1.5, b.y + 3.2, f.label + (" *" if f.required else ""), LABEL_PT)
        if marks:
            mark = "・".join(marks)
            c.setFont(face, MARK_PT)
            c.drawRightString((b.x + b.w - 1.5) * mm, top(b.y + 3.2), f"[{mark}]")
        value = shown(f.type, values.get(f.id))
        if not value:
            continue
        width = (b.w - 3) * mm
        room = (b.h - 4.5) * mm  # below the label
        size = VALUE_PT
        lines = wrap(value, width, size, face)
        while size > MIN_VALUE_PT and len(lines) * size * 1.2 > room:
            size -= 0.5
            lines = wrap(value, width, size, face)
        c.setFont(face, size)
        y = top(b.y + 4.2) - size * 1.05
        for line in lines:
            c.drawString((b.x + 1.5) * mm, y, line)
            y -= size * 1.2

    # the footer: consent, the form's version, 見本
    notes = []
    if row.prefill_consent_at is not None:
        notes.append(
            f"[登録から] の欄は、ご本人の同意({jp_when(row.prefill_consent_at, tz)})を得て、町の登録の内容を写しました。"
        )
    else:
        notes.append("町の登録の内容は写していません(ご本人の同意なし)。")
    notes.append(
        "[確認済] の欄は、窓口の係が本人確認書類と見くらべて確かめました。 * は必ず書く欄です。"
    )
    version = f"様式: {form.id}(版 {form.version})"
    if row.form_version != form.version:
        version += f" 申請の時の版: {row.form_version}"
    notes.append(version)
    if form.sample:
        notes.append("この様式は見本です。町の正式な様式に置きかえてから使ってください。")
    y_mm = PAGE_H_MM - 16.5
    c.setFont(face, 7.5)
    for note in notes:
        for line in wrap(note, 180 * mm, 7.5, face):
            c.drawString(15 * mm, top(y_mm), line)
            y_mm += 3.6
    c.showPage()
    c.save()
    return out.getvalue()
