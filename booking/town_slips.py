"""The payment slips' API (/v1/town/slips): staff (operators and admins) import the tax
system's slips file and the payments file and list the slips; a slip and its PDF are for
staff or the resident it belongs to; a resident lists their own. The 44 digits of a
barcode are computed for staff. The use cases are in :mod:`town.slips`; this module
authenticates, validates and returns.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from booking.endpoints import ActorDep
from common.errors import Forbidden
from core.web import HostDep, SessionDep
from residents import service as people
from residents.service import Actor
from town import gs1
from town import slips as sl
from town.models import PaymentSlip

slips = APIRouter(prefix="/v1/town/slips", tags=["town"])

SlipId = Annotated[str, Path(min_length=1, max_length=24, pattern=r"^[A-Za-z0-9]+$")]
FILE_MAX = 900_000  # characters of a file in one request (the app reads at most 1 MiB)


class FileIn(BaseModel):
    csv: str = Field(min_length=1, max_length=FILE_MAX,
                     description="the file's text (CSV with a header row; see docs/town.md)")  # fmt: skip
    source: str = Field("", max_length=120, description="where it comes from (the file's name)")


class MySlip(BaseModel):
    """A slip as the resident it belongs to sees it."""

    id: str
    subject: str
    fiscal_year: int
    period: str
    payer_name: str
    amount: int = Field(description="yen")
    due: date
    reissue: int
    barcode: str = Field(description="the 44 digits of the convenience-store barcode")
    convenience_store: bool = Field(description="false above the stores' limit (no barcode)")
    elqr: bool = Field(description="an eL-QR code is printed")
    status: str = Field(description="unpaid | paid")
    paid_at: date | None
    superseded: bool = Field(description="a reissued slip replaces this one")


class SlipView(MySlip):
    """A slip as staff see it."""

    resident_id: str | None
    biller_code: str
    free_field: str
    stamp: int
    paid_source: str | None
    imported_at: datetime
    imported_by: str


class ImportedRow(BaseModel):
    row: int = Field(description="the file's line (the header is line 1)")
    id: str
    result: str = Field(description="created | updated | unchanged")


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int
    slips: list[ImportedRow]


class PaymentRow(BaseModel):
    row: int
    barcode: str
    slip_id: str | None
    paid_on: date | None
    slip_barcode: str | None = Field(None, description="mismatched: the stored slip's digits")


class PaymentReport(BaseModel):
    paid: list[PaymentRow] = Field(description="marked paid now")
    already_paid: list[PaymentRow] = Field(description="paid before (or twice in the file)")
    unknown: list[PaymentRow] = Field(description="no such slip here")
    mismatched: list[PaymentRow] = Field(description="due, stamp or amount differ: left unpaid")
    counts: dict[str, int]


class BarcodeIn(BaseModel):
    biller: str = Field(description="収納企業コード, 6 digits")
    free: str = Field(description="自由使用欄, 21 digits")
    reissue: int = Field(0, description="再発行区分, 0-9")
    due: date
    stamp: int = Field(0, description="印紙フラグ, 0 or 1")
    amount: int = Field(description="yen, 1-999999")


class BarcodeOut(BaseModel):
    digits: str = Field(description="the 44 digits")
    check_digit: int
    human_readable: list[str] = Field(description="the two lines printed under the bars")


# -- helpers ---------------------------------------------------------------------------------


def _mine(row: PaymentSlip, later: set[str]) -> MySlip:
    return MySlip(id=row.id, subject=row.subject, fiscal_year=row.fiscal_year,
                  period=row.period, payer_name=row.payer_name, amount=row.amount, due=row.due,
                  reissue=row.reissue, barcode=sl.barcode_of(row),
                  convenience_store=row.amount <= sl.CONVENIENCE_STORE_LIMIT_YEN,
                  elqr=bool(row.elqr_payload), status=row.status, paid_at=row.paid_at,
                  superseded=row.id in later)  # fmt: skip


def _staff_view(row: PaymentSlip, later: set[str]) -> SlipView:
    return SlipView(**_mine(row, later).model_dump(), resident_id=row.resident_id,
                    biller_code=row.biller_code, free_field=row.free_field, stamp=row.stamp,
                    paid_source=row.paid_source, imported_at=row.imported_at,
                    imported_by=row.imported_by)  # fmt: skip


def _resident(actor: Actor) -> None:
    if actor.kind != "resident":
        raise Forbidden("住民の方のログインで開いてください。",
                        "This is for residents: sign in with a resident's token.")  # fmt: skip


# -- staff -----------------------------------------------------------------------------------


@slips.post("/import", response_model=ImportReport)
def import_slips(session: SessionDep, host: HostDep, actor: ActorDep, body: FileIn) -> ImportReport:
    """Store the slips of the tax system's file (operators and admins). Checked whole: 422
    ``slip_file_invalid`` lists the problems by row and stores nothing; 409 ``slip_conflict``
    when a row changes what a stored slip's barcode says. The same file again changes
    nothing (identified by biller code, free field and reissue)."""
    result = sl.import_slips(session, actor, body.csv, body.source, host.now())
    return ImportReport(created=result.count("created"), updated=result.count("updated"),
                        unchanged=result.count("unchanged"),
                        slips=[ImportedRow(row=s.row, id=s.slip_id, result=s.result)
                               for s in result.slips])  # fmt: skip


@slips.post("/payments/import", response_model=PaymentReport)
def import_payments(
    session: SessionDep, host: HostDep, actor: ActorDep, body: FileIn
) -> PaymentReport:
    """Mark slips paid from a payments file (operators and admins): each row ``paid``,
    ``already_paid``, ``unknown`` or ``mismatched``; 422 ``payment_file_invalid`` (a bad
    barcode or date) stores nothing. The same file again changes nothing."""
    r = sl.import_payments(session, actor, body.csv, body.source, host.now())
    return PaymentReport(paid=[PaymentRow(**x) for x in r.paid],
                         already_paid=[PaymentRow(**x) for x in r.already_paid],
                         unknown=[PaymentRow(**x) for x in r.unknown],
                         mismatched=[PaymentRow(**x) for x in r.mismatched],
                         counts=r.counts())  # fmt: skip


@slips.post("/barcode", response_model=BarcodeOut)
def barcode(actor: ActorDep, body: BarcodeIn) -> BarcodeOut:
    """The 44 digits of a convenience-store barcode from its fields (operators and admins;
    nothing is stored); 422 ``barcode_invalid`` names the wrong field."""
    people.require_staff(actor, *sl.STAFF)
    code = gs1.SlipCode(body.biller, body.free, body.reissue, body.due, body.stamp, body.amount)
    digits = code.digits
    return BarcodeOut(digits=digits, check_digit=int(digits[-1]),
                      human_readable=list(gs1.human_readable(digits)))  # fmt: skip


@slips.get("", response_model=list[SlipView])
def list_slips(
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[Literal["unpaid", "paid"] | None, Query()] = None,
    resident_id: Annotated[str | None, Query(max_length=24)] = None,
    due_from: Annotated[date | None, Query(description="due on or after")] = None,
    due_to: Annotated[date | None, Query(description="due on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[SlipView]:
    """Slips, the soonest due first (operators and admins)."""
    rows = sl.listing(session, actor, sl.Filters(status, resident_id, due_from, due_to, limit))
    later = sl.superseded(session, rows)
    return [_staff_view(r, later) for r in rows]


# -- residents (and staff) ---------------------------------------------------------------------


@slips.get("/mine", response_model=list[MySlip])
def my_slips(session: SessionDep, actor: ActorDep) -> list[MySlip]:
    """The resident's own slips, unpaid first."""
    _resident(actor)
    rows = sl.mine(session, actor.id)
    later = sl.superseded(session, rows)
    return [_mine(r, later) for r in rows]


@slips.get("/{slip_id}.pdf", response_class=Response)
def slip_pdf(session: SessionDep, host: HostDep, actor: ActorDep, slip_id: SlipId) -> Response:
    """The slip as a one-page PDF: the barcode, the eL-QR code (when the tax system gave
    one), who pays what by when (staff, or the resident it belongs to; 404 otherwise)."""
    world = host.world
    row, content = sl.pdf(session, actor, slip_id, world.area.name, world.config.operator_phone)
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="slip-{row.id}.pdf"'})  # fmt: skip


@slips.get("/{slip_id}", response_model=SlipView | MySlip)
def read_slip(session: SessionDep, actor: ActorDep, slip_id: SlipId) -> SlipView | MySlip:
    """Staff: the slip; its resident: their slip (404 for anyone else)."""
    row = sl.get(session, actor, slip_id)
    later = sl.superseded(session, [row])
    if actor.is_staff:
        return _staff_view(row, later)
    return _mine(row, later)
