"""Payment slips (納付書): imported from the tax system's file, printed as a PDF with the
convenience-store barcode and the eL-QR code, marked paid from a file of payments, and
reminded by LINE before their due date to residents who opted in to ``payments``.

**Slips file** (CSV, UTF-8 with or without a BOM; one header row; the column order is free
and other columns are ignored): ``resident_id`` (this platform's resident id, of an open
account, or empty: a slip staff can print but that no resident sees and no reminder is sent
for), ``subject`` (軽自動車税(種別割) …), ``fiscal_year``, ``period`` (第1期, 全期 …, may be empty),
``payer_name``, and the barcode's fields ``biller_code`` (6 digits), ``free_field`` (21
digits), ``reissue`` (0–9, empty: 0), ``due`` (YYYY-MM-DD), ``stamp`` (0 or 1, empty: 0),
``amount`` (yen, 1–999,999); and ``elqr_payload``: the eL-QR code's content exactly as the
tax system gives it (stored and drawn, never built or read here: its specification is not
public; only its length and that it has no control characters are checked). A file is
checked whole: any wrong cell refuses it with ``422 slip_file_invalid`` listing the
problems by row, and nothing is stored. A slip is identified by (biller code, free field,
reissue): importing the same file again changes nothing (``unchanged``); a row of a slip
already stored may change its names and texts and its eL-QR payload (``updated``), but
not what its barcode says (due date, stamp flag, amount: ``409 slip_conflict``; the tax
system issues a reissued slip instead, with the next reissue number).

**Payments file** (CSV): ``barcode`` (the 44 digits as read at the store; an ``EAN``
prefix, spaces, hyphens and parentheses are ignored) and ``paid_on`` (YYYY-MM-DD or
YYYYMMDD); an optional ``amount`` must agree with the barcode's. Every barcode's check
digit is verified; a wrong row refuses the file (``422 payment_file_invalid``). Each row
is then ``paid`` (the slip with the barcode's biller, free field and reissue, unpaid, is
marked paid on that day), ``already_paid`` (it was paid before, or earlier in the same
file: importing a file again changes nothing), ``unknown`` (no such slip here) or
``mismatched`` (the slip's due date, stamp flag or amount differs from the barcode's: left
unpaid for staff to look at).

Every staff action is audited. Functions flush and never commit; the request (or the
command) owns the transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import DrtError, InvalidInput, NotFound
from common.ids import new_id
from residents import models as rm
from residents import service as people
from town import gs1, slip_pdf
from town.models import PaymentSlip, Subscription

STAFF = ("operator", "admin")
#: The reminder goes out this many days before the due date, from ``REMINDER_FROM`` local
#: time (a service that was down then sends it later that day, or on the next days up to
#: the day before the due date, but never from ``REMINDER_UNTIL`` to ``REMINDER_FROM``).
REMINDER_DAYS_BEFORE = 3
REMINDER_FROM = time(10, 0)
REMINDER_UNTIL = time(20, 0)
#: Above this the convenience stores do not take a slip (the usual limit of the stores'
#: contracts; the town's collection agent confirms it): no barcode is printed.
CONVENIENCE_STORE_LIMIT_YEN = 300_000
MAX_ROWS = 5000
ELQR_MAX = 1000  # characters of an eL-QR payload (a QR code holds ~2,900 bytes at most)
SUBJECT_MAX, PERIOD_MAX, NAME_MAX = 80, 40, 80
MAX_PROBLEMS = 20  # problems listed in a refusal (all are counted)

SLIP_COLUMNS = ("resident_id", "subject", "fiscal_year", "period", "payer_name", "biller_code",
                "free_field", "reissue", "due", "stamp", "amount", "elqr_payload")  # fmt: skip
SLIP_REQUIRED = ("subject", "fiscal_year", "payer_name", "biller_code", "free_field", "due",
                 "amount")  # fmt: skip
PAYMENT_COLUMNS = ("barcode", "paid_on", "amount")
PAYMENT_REQUIRED = ("barcode", "paid_on")
Status = Literal["unpaid", "paid"]


class SlipFileInvalid(InvalidInput):
    code = "slip_file_invalid"


class PaymentFileInvalid(InvalidInput):
    code = "payment_file_invalid"


class SlipConflict(DrtError):
    code = "slip_conflict"
    http_status = 409


# -- reading a file ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  # the line of the file (the header is line 1)
    field: str
    message_ja: str
    message_en: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message_ja": self.message_ja,
                "message_en": self.message_en}  # fmt: skip


class _Problems:
    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, row: int, field: str, ja: str, en: str) -> None:
        self.found.append(Problem(row, field, ja, en))

    def raise_if_any(self, cls: type[InvalidInput], what_ja: str, what_en: str) -> None:
        if not self.found:
            return
        first = self.found[0]
        raise cls(
            f"{what_ja}に直すところが{len(self.found)}か所あります。何も取り込んでいません。"
            f"はじめの1つ: {first.row}行目 {first.field}: {first.message_ja}",
            f"{what_en}: {len(self.found)} problem(s), nothing imported. First: row "
            f"{first.row}, {first.field}: {first.message_en}",
            problems=[p.as_dict() for p in self.found[:MAX_PROBLEMS]],
            count=len(self.found),
        )


def _records(
    text: str, required: tuple[str, ...], cls: type[InvalidInput], what_ja: str, what_en: str,
    raw: tuple[str, ...] = (),
) -> Iterator[tuple[int, dict[str, str]]]:  # fmt: skip
    """(line, {column: cell}) of a CSV file with a header row; cells stripped of spaces but
    those of the ``raw`` columns (kept exactly as written)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise cls(f"{what_ja}の1行目(見出し)に、次の列がありません: {', '.join(missing)}。",
                  f"{what_en}: the header row lacks the column(s) {', '.join(missing)}.",
                  missing=missing)  # fmt: skip
    reader.fieldnames = header
    count = 0
    try:
        for rec in reader:
            if not any((v or "").strip() for v in rec.values() if isinstance(v, str)):
                continue  # a blank line
            count += 1
            if count > MAX_ROWS:
                raise cls(f"{what_ja}は{MAX_ROWS}行までにしてください(分けて取り込めます)。",
                          f"{what_en}: at most {MAX_ROWS} rows per file (split it).")  # fmt: skip
            yield reader.line_num, {k: (v if k in raw else v.strip()) if isinstance(v, str)
                                    else "" for k, v in rec.items() if k is not None}  # fmt: skip
    except csv.Error as e:
        near = reader.line_num + 1
        raise cls(f"{what_ja}をCSVとして読めません({near}行目のあたり)。",
                  f"{what_en} is not a readable CSV (near line {near}): {e}.") from None  # fmt: skip
    if count == 0:
        raise cls(f"{what_ja}にデータの行がありません。", f"{what_en} has no data rows.")


def _int(
    cell: str, problems: _Problems, row: int, name: str, low: int, high: int, ja: str,
    default: int | None = None,
) -> int | None:  # fmt: skip
    v = gs1.digits_of(cell)
    if v == "" and default is not None:
        return default
    if not (v.isascii() and v.isdigit()) or not low <= int(v) <= high:
        problems.add(row, name, f"{ja}は{low}から{high}までの数字にしてください(「{cell}」)。",
                     f"{name} must be a whole number {low}-{high} (got {cell!r}).")  # fmt: skip
        return None
    return int(v)


def _day(cell: str, problems: _Problems, row: int, name: str, ja: str) -> date | None:
    v = gs1.digits_of(cell).replace("/", "-")
    if len(v) == 8 and v.isdigit():
        v = f"{v[:4]}-{v[4:6]}-{v[6:]}"
    try:
        return date.fromisoformat(v)
    except ValueError:
        problems.add(row, name, f"{ja}は 2026-12-25 のように書いてください(「{cell}」)。",
                     f"{name} must be a date like 2026-12-25 (got {cell!r}).")  # fmt: skip
        return None


def _text(
    cell: str, problems: _Problems, row: int, name: str, most: int, ja: str, required: bool
) -> str:
    if required and not cell:
        problems.add(row, name, f"{ja}が空です。", f"{name} is empty.")
    elif len(cell) > most:
        problems.add(row, name, f"{ja}は{most}文字までです({len(cell)}文字あります)。",
                     f"{name}: at most {most} characters ({len(cell)} given).")  # fmt: skip
    elif any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in cell):
        problems.add(row, name, f"{ja}に、使えない文字(改行や制御文字)があります。",
                     f"{name} has a control character.")  # fmt: skip
    return cell


# -- slips ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlipIn:
    """One row of a slips file, checked."""

    row: int
    resident_id: str | None
    subject: str
    fiscal_year: int
    period: str
    payer_name: str
    code: gs1.SlipCode
    elqr_payload: str | None


GS1_FIELDS = {"biller": "biller_code", "free": "free_field", "reissue": "reissue", "due": "due",
              "stamp": "stamp", "amount": "amount"}  # fmt: skip


def parse_slips(text: str) -> list[SlipIn]:
    """The rows of a slips file, or 422 ``slip_file_invalid`` listing every problem
    (``details.problems``: row, field and what to change; ``details.count``)."""
    problems = _Problems()
    out: list[SlipIn] = []
    keys: dict[tuple[str, str, int], int] = {}
    what = ("納付書のファイル", "The slips file")
    for row, rec in _records(text, SLIP_REQUIRED, SlipFileInvalid, *what, raw=("elqr_payload",)):
        before = len(problems.found)
        subject = _text(rec.get("subject", ""), problems, row, "subject", SUBJECT_MAX, "税目", True)
        period = _text(rec.get("period", ""), problems, row, "period", PERIOD_MAX, "期別", False)
        name = _text(rec.get("payer_name", ""), problems, row, "payer_name", NAME_MAX, "納付者の名前",
                     True)  # fmt: skip
        year = _int(rec.get("fiscal_year", ""), problems, row, "fiscal_year", 2000, 2099, "年度")
        reissue = _int(rec.get("reissue", ""), problems, row, "reissue", 0, 9, "再発行区分", 0)
        stamp = _int(rec.get("stamp", ""), problems, row, "stamp", 0, 1, "印紙フラグ", 0)
        amount = _int(rec.get("amount", "").replace(",", ""), problems, row, "amount", 1,
                      gs1.AMOUNT_MAX_YEN, "金額")  # fmt: skip
        due = _day(rec.get("due", ""), problems, row, "due", "納期限")
        given = rec.get("elqr_payload", "")
        payload = given if given.strip() else None  # as given: never trimmed or rebuilt
        if payload is not None:
            _text(payload, problems, row, "elqr_payload", ELQR_MAX, "eL-QRの内容", False)
        resident = rec.get("resident_id", "") or None
        if resident is not None and (
            len(resident) > 24 or not (resident.isascii() and resident.isalnum())
        ):
            problems.add(row, "resident_id", f"利用者番号「{resident}」の形が違います。",
                         f"resident_id {resident!r} is not a resident id.")  # fmt: skip
        if year is None or reissue is None or stamp is None or amount is None or due is None:
            continue
        try:
            code = gs1.SlipCode(rec.get("biller_code", ""), rec.get("free_field", ""), reissue,
                                due, stamp, amount)  # fmt: skip
        except gs1.BarcodeInvalid as e:
            where = GS1_FIELDS.get(str(e.details.get("field")), "barcode")
            problems.add(row, where, e.message_ja, e.message_en)
            continue
        if len(problems.found) > before:
            continue
        if code.key in keys:
            problems.add(row, "free_field",
                         f"{keys[code.key]}行目と同じ納付書です(収納企業コード・自由使用欄・再発行区分が同じ)。",
                         f"The same slip as row {keys[code.key]} (biller, free field and reissue).")  # fmt: skip
            continue
        keys[code.key] = row
        out.append(SlipIn(row, resident, subject, year, period, name, code, payload))
    problems.raise_if_any(SlipFileInvalid, *what)
    return out


@dataclass(frozen=True, slots=True)
class Imported:
    row: int
    slip_id: str
    result: Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    slips: list[Imported]

    def count(self, result: str) -> int:
        return sum(1 for s in self.slips if s.result == result)


def _find(session: Session, key: tuple[str, str, int]) -> PaymentSlip | None:
    biller, free, reissue = key
    return session.scalar(select(PaymentSlip).where(
        PaymentSlip.biller_code == biller, PaymentSlip.free_field == free,
        PaymentSlip.reissue == reissue))  # fmt: skip


def _descriptive(s: SlipIn) -> dict[str, Any]:
    return {"resident_id": s.resident_id, "subject": s.subject, "fiscal_year": s.fiscal_year,
            "period": s.period, "payer_name": s.payer_name, "elqr_payload": s.elqr_payload}  # fmt: skip


def _barcode_differs(row: PaymentSlip, s: SlipIn) -> list[str]:
    c = s.code
    return [name for name, old, new in (("due", row.due, c.due), ("stamp", row.stamp, c.stamp),
                                        ("amount", row.amount, c.amount_yen)) if old != new]  # fmt: skip


def import_slips(
    session: Session, actor: people.Actor, text: str, source: str, now: datetime
) -> ImportResult:
    """Store the slips of a file (see the module docstring): checked whole first; audited."""
    people.require_staff(actor, *STAFF)
    rows = parse_slips(text)
    problems = _Problems()
    wanted = {s.resident_id for s in rows if s.resident_id}
    known: dict[str, datetime | None] = dict(session.execute(
        select(rm.Resident.id, rm.Resident.closed_at).where(rm.Resident.id.in_(sorted(wanted)))
    ).all())  # fmt: skip
    for s in rows:
        if s.resident_id and s.resident_id not in known:
            problems.add(s.row, "resident_id", f"利用者番号「{s.resident_id}」の方は登録されていません。",
                         f"No resident {s.resident_id}.")  # fmt: skip
        elif s.resident_id and known[s.resident_id] is not None:  # closed: their data forgotten
            problems.add(s.row, "resident_id", f"利用者番号「{s.resident_id}」の方は、登録をやめています。"
                         "利用者番号を空にしてください。",
                         f"Resident {s.resident_id} closed their account: leave resident_id empty.")  # fmt: skip
    problems.raise_if_any(SlipFileInvalid, "納付書のファイル", "The slips file")
    existing = {(r.biller_code, r.free_field, r.reissue): r for r in session.scalars(
        select(PaymentSlip).where(PaymentSlip.free_field.in_(sorted({s.code.free_field
                                                                     for s in rows}))))}  # fmt: skip
    stored = {s.row: existing.get(s.code.key) for s in rows}
    conflicts = [{"row": s.row, "slip_id": found.id, "fields": differs}
                 for s in rows if (found := stored[s.row]) is not None
                 and (differs := _barcode_differs(found, s))]  # fmt: skip
    if conflicts:
        first = conflicts[0]
        raise SlipConflict(
            f"すでにある納付書と、バーコードの内容(納期限・印紙フラグ・金額)がちがう行が"
            f"{len(conflicts)}行あります({first['row']}行目など)。何も取り込んでいません。"
            "内容を変えるときは、再発行区分を1つ上げた新しい納付書にしてください。",
            f"{len(conflicts)} row(s) change what a stored slip's barcode says (row "
            f"{first['row']} first); nothing imported. Issue a reissued slip instead.",
            conflicts=conflicts[:MAX_PROBLEMS],
        )
    out: list[Imported] = []
    for s in rows:
        found = stored[s.row]
        if found is None:
            found = _create(session, s, actor, now)
            if found is not None:
                out.append(Imported(s.row, found.id, "created"))
                continue
            found = _find(session, s.code.key)  # created meanwhile by another import
            assert found is not None
            if _barcode_differs(found, s):
                raise SlipConflict("同じ納付書が、ちがう内容で同時に取り込まれました。もう一度お試しください。",
                                   "The same slip was imported at the same time with other "
                                   "contents; try again.", row=s.row)  # fmt: skip
        new = _descriptive(s)
        if {k: getattr(found, k) for k in new} == new:
            out.append(Imported(s.row, found.id, "unchanged"))
            continue
        for k, v in new.items():
            setattr(found, k, v)
        out.append(Imported(s.row, found.id, "updated"))
    result = ImportResult(out)
    people.audit(session, actor, "town.slip.import", source=source[:120],
                 created=result.count("created"), updated=result.count("updated"),
                 unchanged=result.count("unchanged"))  # fmt: skip
    session.flush()
    return result


def _create(session: Session, s: SlipIn, actor: people.Actor, now: datetime) -> PaymentSlip | None:
    c = s.code
    row = PaymentSlip(id=new_id("PS"), biller_code=c.biller_code, free_field=c.free_field,
                      reissue=c.reissue, due=c.due, stamp=c.stamp, amount=c.amount_yen,
                      status="unpaid", paid_at=None, paid_source=None, imported_at=now,
                      imported_by=actor.id, **_descriptive(s))  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def code_of(slip: PaymentSlip) -> gs1.SlipCode:
    return gs1.SlipCode(slip.biller_code, slip.free_field, slip.reissue, slip.due, slip.stamp,
                        slip.amount)  # fmt: skip


def barcode_of(slip: PaymentSlip) -> str:
    """The slip's 44 digits."""
    return code_of(slip).digits


# -- payments ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentIn:
    row: int
    code: gs1.SlipCode
    paid_on: date


def parse_payments(text: str) -> list[PaymentIn]:
    """The rows of a payments file, or 422 ``payment_file_invalid`` listing every problem
    (a barcode of the wrong length, without the AI 91, with a wrong check digit …)."""
    problems = _Problems()
    out: list[PaymentIn] = []
    what = ("支払いのファイル", "The payments file")
    for row, rec in _records(text, PAYMENT_REQUIRED, PaymentFileInvalid, *what):
        paid_on = _day(rec.get("paid_on", ""), problems, row, "paid_on", "支払日")
        try:
            code = gs1.parse(rec.get("barcode", ""))
        except gs1.BarcodeInvalid as e:
            problems.add(row, "barcode", e.message_ja, e.message_en)
            continue
        given = rec.get("amount", "").replace(",", "")
        if given and _int(given, problems, row, "amount", 0, gs1.AMOUNT_MAX_YEN, "金額") not in (
            None, code.amount_yen):  # fmt: skip
            problems.add(row, "amount", f"金額({given})がバーコードの金額({code.amount_yen})とちがいます。",
                         f"amount {given} differs from the barcode's {code.amount_yen}.")  # fmt: skip
        if paid_on is not None:
            out.append(PaymentIn(row, code, paid_on))
    problems.raise_if_any(PaymentFileInvalid, *what)
    return out


@dataclass
class PaymentResult:
    """What each row of a payments file did (``row``, ``barcode``, ``slip_id``)."""

    paid: list[dict[str, Any]] = field(default_factory=list)
    already_paid: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    mismatched: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"paid": len(self.paid), "already_paid": len(self.already_paid),
                "unknown": len(self.unknown), "mismatched": len(self.mismatched)}  # fmt: skip


def import_payments(
    session: Session, actor: people.Actor, text: str, source: str, now: datetime
) -> PaymentResult:
    """Mark slips paid from a payments file (see the module docstring); audited."""
    people.require_staff(actor, *STAFF)
    rows = parse_payments(text)
    result = PaymentResult()
    label = (source or "payments").strip()[:150]
    for p in rows:
        slip = session.scalar(select(PaymentSlip).where(
            PaymentSlip.biller_code == p.code.biller_code,
            PaymentSlip.free_field == p.code.free_field,
            PaymentSlip.reissue == p.code.reissue).with_for_update())  # fmt: skip
        item = {"row": p.row, "barcode": p.code.digits, "slip_id": slip.id if slip else None,
                "paid_on": p.paid_on.isoformat()}  # fmt: skip
        if slip is None:
            result.unknown.append(item)
        elif slip.status == "paid":
            result.already_paid.append({**item, "paid_on": slip.paid_at.isoformat()
                                        if slip.paid_at else None})  # fmt: skip
        elif code_of(slip).digits != p.code.digits:
            result.mismatched.append({**item, "slip_barcode": code_of(slip).digits})
        else:
            slip.status, slip.paid_at = "paid", p.paid_on
            slip.paid_source = f"{label}:{p.row}"
            result.paid.append(item)
            session.flush()  # a later row of the same slip sees it paid
    n = result.counts()
    people.audit(session, actor, "town.slip.payments", source=label, paid=n["paid"],
                 already_paid=n["already_paid"], unknown=n["unknown"],
                 mismatched=n["mismatched"])  # fmt: skip
    session.flush()
    return result


# -- reading -------------------------------------------------------------------------------


def _not_found(slip_id: str) -> NotFound:
    return NotFound("その納付書はありません。", f"No slip {slip_id}.", slip_id=slip_id)


def get(session: Session, actor: people.Actor, slip_id: str, action: str = "read") -> PaymentSlip:
    """A slip for staff (operators, admins: audited as ``town.slip.<action>``) or for the
    resident it belongs to; 404 for anyone else (not saying whether it exists)."""
    if actor.is_staff:
        people.require_staff(actor, *STAFF)
    row = session.get(PaymentSlip, slip_id)
    if row is None or (not actor.is_staff and row.resident_id != actor.id):
        raise _not_found(slip_id)
    if actor.is_staff:
        people.audit(session, actor, f"town.slip.{action}", row.resident_id, slip_id=row.id)
    return row


@dataclass(frozen=True, slots=True)
class Filters:
    status: Status | None = None
    resident_id: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    limit: int = 200


def listing(session: Session, actor: people.Actor, f: Filters) -> list[PaymentSlip]:
    """Slips for staff, the soonest due first (audited as a list, with the filters)."""
    people.require_staff(actor, *STAFF)
    q = select(PaymentSlip)
    if f.status:
        q = q.where(PaymentSlip.status == f.status)
    if f.resident_id:
        q = q.where(PaymentSlip.resident_id == f.resident_id)
    if f.due_from:
        q = q.where(PaymentSlip.due >= f.due_from)
    if f.due_to:
        q = q.where(PaymentSlip.due <= f.due_to)
    rows = list(session.scalars(q.order_by(PaymentSlip.due, PaymentSlip.id).limit(f.limit)))
    people.audit(session, actor, "town.slip.list", status=f.status, resident_id=f.resident_id,
                 found=len(rows))  # fmt: skip
    return rows


def mine(session: Session, resident_id: str) -> list[PaymentSlip]:
    """The resident's own slips, unpaid first, then by due date."""
    rows = session.scalars(select(PaymentSlip).where(PaymentSlip.resident_id == resident_id)
                           .order_by(PaymentSlip.due, PaymentSlip.id)).all()  # fmt: skip
    return sorted(rows, key=lambda r: r.status != "unpaid")


def superseded(session: Session, rows: Iterable[PaymentSlip]) -> set[str]:
    """The ids among ``rows`` of slips reissued since (a later reissue of the same biller
    and free field is stored)."""
    rows = list(rows)
    if not rows:
        return set()
    latest: dict[tuple[str, str], int] = {}
    for biller, free, reissue in session.execute(
        select(PaymentSlip.biller_code, PaymentSlip.free_field, PaymentSlip.reissue)
        .where(PaymentSlip.free_field.in_(sorted({r.free_field for r in rows})))
    ):  # fmt: skip
        latest[biller, free] = max(reissue, latest.get((biller, free), -1))
    return {r.id for r in rows if latest.get((r.biller_code, r.free_field), -1) > r.reissue}


def sheet(slip: PaymentSlip, town: str, phone: str, reissued: bool = False) -> slip_pdf.Sheet:
    """What the slip's PDF shows: a paid or reissued slip says so, without its codes."""
    void = None
    if slip.status == "paid":
        on = f"({slip_pdf.long_date(slip.paid_at)})" if slip.paid_at else ""
        void = f"この納付書は、支払い済みです{on}。もう一度払わないでください。"
    elif reissued:
        void = "この納付書は、作りなおしました(再発行)。新しい納付書で払ってください。"
    return slip_pdf.Sheet(slip_id=slip.id, town=town, subject=slip.subject,
                          fiscal_year=slip.fiscal_year, period=slip.period,
                          payer_name=slip.payer_name, amount_yen=slip.amount, due=slip.due,
                          digits=barcode_of(slip), reissue=slip.reissue,
                          elqr_payload=slip.elqr_payload, phone=phone,
                          convenience_store=slip.amount <= CONVENIENCE_STORE_LIMIT_YEN,
                          void=void)  # fmt: skip


def pdf(
    session: Session, actor: people.Actor, slip_id: str, town: str, phone: str
) -> tuple[PaymentSlip, bytes]:
    """The slip and its PDF, for staff (audited as ``town.slip.pdf``) or its resident."""
    row = get(session, actor, slip_id, action="pdf")
    reissued = row.id in superseded(session, [row])
    return row, slip_pdf.render(sheet(row, town, phone, reissued))


# -- reminders -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reminder:
    """A slip to remind its resident of now; ``key`` names it for good."""

    slip: PaymentSlip
    days_before: int

    @property
    def key(self) -> str:
        return f"slip:{self.slip.id}:{self.days_before}"


def in_window(due: date, now: datetime, tz: ZoneInfo) -> bool:
    """Whether ``now`` is a time to remind of a slip due on ``due``: from
    ``REMINDER_DAYS_BEFORE`` days before it at ``REMINDER_FROM`` to the day before it, each
    day from ``REMINDER_FROM`` to ``REMINDER_UNTIL`` only."""
    local = now.astimezone(tz)
    first = due - timedelta(days=REMINDER_DAYS_BEFORE)
    return first <= local.date() < due and REMINDER_FROM <= local.time() < REMINDER_UNTIL


def reminders_due(session: Session, now: datetime, tz: ZoneInfo) -> list[Reminder]:
    """Unpaid slips of residents opted in to ``payments`` (their account open) in their
    reminder window now: the latest reissue of each, none of whose reissues is paid."""
    local = now.astimezone(tz)
    if not REMINDER_FROM <= local.time() < REMINDER_UNTIL:
        return []
    today = local.date()
    rows = list(session.scalars(
        select(PaymentSlip)
        .join(Subscription, (Subscription.resident_id == PaymentSlip.resident_id)
              & (Subscription.service == "payments"))
        .join(rm.Resident, rm.Resident.id == PaymentSlip.resident_id)
        .where(PaymentSlip.status == "unpaid", rm.Resident.closed_at.is_(None),
               PaymentSlip.due > today,
               PaymentSlip.due <= today + timedelta(days=REMINDER_DAYS_BEFORE))
        .order_by(PaymentSlip.due, PaymentSlip.id)
    ))  # fmt: skip
    if not rows:
        return []
    paid = {(biller, free) for biller, free in session.execute(
        select(PaymentSlip.biller_code, PaymentSlip.free_field)
        .where(PaymentSlip.status == "paid",
               PaymentSlip.free_field.in_(sorted({r.free_field for r in rows})))
    )}  # fmt: skip
    later = superseded(session, rows)
    return [Reminder(r, REMINDER_DAYS_BEFORE) for r in rows
            if in_window(r.due, now, tz) and r.id not in later
            and (r.biller_code, r.free_field) not in paid]  # fmt: skip
