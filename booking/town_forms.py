"""The forms API (/v1/town/forms): applications nobody handwrites (書かない窓口).

Anyone signed in reads the town's forms (their fields, what the record may fill, what staff
confirm). A resident pre-applies for themselves (the app; LINE goes through
line_channel/form_chat.py), lists their own, reads and prints their own and cancels one
not yet at the counter; operators and admins start an application for a resident at the
counter, find one by its 受付番号 or list the day's, change values, tick what they
checked against the resident's ID, complete, cancel and print. The use cases are in
:mod:`town.forms`; this module authenticates, validates and returns.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field, StrictBool, StrictInt, StringConstraints
from sqlalchemy.orm import Session

from booking.endpoints import ActorDep, created_once, idempotency_key
from common.errors import InvalidInput
from core.host import DispatchHost
from core.web import HostDep, SessionDep
from residents import service as people
from town import forms as fm
from town.form_pdf import render
from town.models import FormApplication

forms = APIRouter(prefix="/v1/town/forms", tags=["town"])

FormId = Annotated[str, Path(min_length=1, max_length=40)]
ApplicationId = Annotated[str, Path(min_length=1, max_length=24)]
Text = Annotated[str, StringConstraints(strict=True, max_length=fm.TEXT_LIMIT)]
FieldValue = StrictBool | StrictInt | Text | None
STATUS_JA = {"pre_applied": "事前申請", "in_review": "窓口で確認中", "completed": "完了",
             "cancelled": "取り消し"}  # fmt: skip


class FieldView(BaseModel):
    id: str
    label: str
    type: str = Field(description="text | choice | number | date | check")
    required: bool
    prefill: str | None = Field(description="the resident attribute that may fill it")
    prefill_ja: str | None
    staff_confirm: bool = Field(description="staff tick it against the resident's ID")
    by: str = Field(description="resident (the resident or staff write it) | staff")
    line: bool = Field(description="asked in the LINE pre-application")
    choices: list[str]
    min: int | None
    max: int | None
    max_length: int | None
    default: bool | int | str | None
    hint: str


class FormView(BaseModel):
    """A form as the town defines it."""

    id: str
    title: str
    version: str = Field(description="the hash of its definition")
    number_prefix: str
    sample: bool = Field(description="a sample the town replaces with its own form")
    line: bool
    description: str
    bring: list[str] = Field(description="what to bring to the counter")
    fields: list[FieldView]


class ApplicationField(FieldView):
    value: bool | int | str | None
    prefilled: bool = Field(description="filled from the resident's record, with consent")
    confirmed: bool = Field(description="ticked by staff at the counter")


class ApplicationView(BaseModel):
    id: str
    form_id: str
    form_title: str
    form_version: str = Field(description="the version it was made on")
    form_version_current: bool = Field(description="false: the form changed since")
    number: str = Field(description="受付番号")
    resident_id: str
    resident_name: str
    status: str = Field(description="pre_applied | in_review | completed | cancelled")
    status_ja: str
    channel: str = Field(description="line | app | counter")
    prefill_consent_at: datetime | None = Field(description="when the resident agreed")
    values: dict[str, Any]
    prefilled: list[str]
    confirmed: list[str]
    fields: list[ApplicationField]
    missing: list[str] = Field(description="required fields without a value")
    unconfirmed: list[str] = Field(description="fields staff still have to tick")
    ready: bool = Field(description="it can be completed")
    created_by: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    completed_by: str | None
    completed_by_name: str | None


class ApplicationCreate(BaseModel):
    resident_id: str | None = Field(None, max_length=24,
                                    description="staff: whose application (a resident: empty)")  # fmt: skip
    prefill: bool = Field(False, description="the resident agreed that their record fills the form")
    values: dict[str, FieldValue] = Field(default_factory=dict, max_length=fm.MAX_FIELDS)


class ApplicationUpdate(BaseModel):
    values: dict[str, FieldValue] = Field(default_factory=dict, max_length=fm.MAX_FIELDS,
                                          description="field id -> value (null clears it)")  # fmt: skip
    confirm: dict[str, StrictBool] = Field(default_factory=dict, max_length=fm.MAX_FIELDS,
                                           description="field id -> ticked or not")  # fmt: skip
    prefill: bool = Field(False, description="the resident agreed at the counter: fill the "
                          "empty fields from the record")  # fmt: skip


# -- helpers ---------------------------------------------------------------------------------


def catalog(host: DispatchHost) -> fm.Catalog:
    return fm.catalog(FilePath(host.world.area.source).parent)


def _field(f: fm.Field) -> dict[str, Any]:
    return {"id": f.id, "label": f.label, "type": f.type, "required": f.required,
            "prefill": f.prefill, "prefill_ja": fm.PREFILL.get(f.prefill or ""),
            "staff_confirm": f.staff_confirm, "by": f.by, "line": f.line,
            "choices": list(f.choices), "min": f.min, "max": f.max, "max_length": f.max_length,
            "default": f.default, "hint": f.hint}  # fmt: skip


def _form(f: fm.FormDef) -> FormView:
    return FormView(id=f.id, title=f.title, version=f.version, number_prefix=f.number_prefix,
                    sample=f.sample, line=f.line, description=f.description,
                    bring=list(f.bring), fields=[FieldView(**_field(x)) for x in f.fields])  # fmt: skip


def _views(session: Session, cat: fm.Catalog, rows: list[FormApplication]) -> list[ApplicationView]:
    names = fm.names_of(session, {r.resident_id for r in rows})
    staff = people.staff_names(session, {r.completed_by for r in rows})
    return [_view(cat, r, names, staff) for r in rows]


def _view(
    cat: fm.Catalog, row: FormApplication, names: dict[str, str], staff: dict[str, str]
) -> ApplicationView:
    form = cat.find(row.form_id)
    fields = form.fields if form else ()
    prefilled, confirmed = set(row.prefilled), set(row.confirmed)
    missing = fm.missing(form, row.values) if form else []
    unticked = fm.unconfirmed(form, row.values, row.confirmed) if form else []
    return ApplicationView(
        id=row.id, form_id=row.form_id, form_title=form.title if form else row.form_id,
        form_version=row.form_version,
        form_version_current=form is not None and form.version == row.form_version,
        number=row.number, resident_id=row.resident_id,
        resident_name=names.get(row.resident_id, ""), status=row.status,
        status_ja=STATUS_JA.get(row.status, row.status), channel=row.channel,
        prefill_consent_at=row.prefill_consent_at, values=dict(row.values),
        prefilled=list(row.prefilled), confirmed=list(row.confirmed),
        fields=[ApplicationField(**_field(f), value=row.values.get(f.id),
                                 prefilled=f.id in prefilled, confirmed=f.id in confirmed)
                for f in fields],
        missing=missing, unconfirmed=unticked,
        ready=form is not None and row.status in fm.OPEN and not missing and not unticked,
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
        completed_at=row.completed_at, completed_by=row.completed_by,
        completed_by_name=staff.get(row.completed_by) if row.completed_by else None,
    )  # fmt: skip


def _one(session: Session, cat: fm.Catalog, row: FormApplication) -> ApplicationView:
    return _views(session, cat, [row])[0]


# -- the forms ---------------------------------------------------------------------------------


@forms.get("", response_model=list[FormView])
def list_forms(host: HostDep, actor: ActorDep) -> list[FormView]:
    """The town's forms (anyone signed in): fields, what the record may fill, what staff
    confirm at the counter. The forms are the town's public paper forms: ``actor`` only
    proves a sign-in (401 for nobody and for a driver's tablet)."""
    return [_form(f) for f in catalog(host).forms]


# -- applications (before /{form_id}: these paths are not form ids) -------------------------------


@forms.get("/applications", response_model=list[ApplicationView])
def list_applications(
    session: SessionDep, host: HostDep, actor: ActorDep,
    number: Annotated[str | None, Query(max_length=20, description="受付番号, any part")] = None,
    status: Annotated[str | None, Query(max_length=12)] = None,
    day: Annotated[date | None, Query(alias="date", description="made on this day")] = None,
    today: Annotated[bool, Query(description="made today, by the service's clock")] = False,
    resident_id: Annotated[str | None, Query(max_length=24)] = None,
) -> list[ApplicationView]:  # fmt: skip
    """Staff: applications, newest first, by 受付番号 (as typed: 「ａ２６－０００１」 finds
    A26-0001; any part of it), status, the day they were made (``date``, or ``today``: the
    town's day on the service's clock) or resident. Audited."""
    if today:
        day = host.world.config.calendar.local_date(host.clock())
    rows = fm.listing(session, actor, host.world.config.calendar.time_zone, number=number,
                      status=status, day=day, resident_id=resident_id)  # fmt: skip
    return _views(session, catalog(host), rows)


@forms.get("/applications/mine", response_model=list[ApplicationView])
def my_applications(session: SessionDep, host: HostDep, actor: ActorDep) -> list[ApplicationView]:
    """A resident's own applications, newest first."""
    return _views(session, catalog(host), fm.mine(session, actor))


@forms.get("/applications/{application_id}.pdf", response_class=Response)
def application_pdf(
    session: SessionDep, host: HostDep, actor: ActorDep, application_id: ApplicationId
) -> Response:
    """The application printed (staff; a resident their own): A4, the fields in place, the
    number and dates. Audited."""
    row = fm.read(session, actor, application_id)
    form = catalog(host).get(row.form_id)
    by = people.staff_names(session, [row.completed_by]).get(row.completed_by or "", "")
    pdf = render(form, row, host.world.config.calendar.time_zone, by)
    fm.audit_print(session, actor, row)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{row.number}.pdf"'})  # fmt: skip


@forms.get("/applications/{application_id}", response_model=ApplicationView)
def read_application(
    session: SessionDep, host: HostDep, actor: ActorDep, application_id: ApplicationId
) -> ApplicationView:
    """Staff, or the resident it is for (404 for anyone else). Staff reading it is audited."""
    row = fm.read(session, actor, application_id)
    if actor.is_staff:
        people.audit(session, actor, "town.form.view", resident_id=row.resident_id,
                     application=row.id, number=row.number)  # fmt: skip
    return _one(session, catalog(host), row)


@forms.patch("/applications/{application_id}", response_model=ApplicationView)
def update_application(
    session: SessionDep, host: HostDep, actor: ActorDep, application_id: ApplicationId,
    body: ApplicationUpdate,
) -> ApplicationView:  # fmt: skip
    """Staff at the counter: change values (a changed value loses its tick and its 「登録から」
    mark), tick the fields checked against the ID, fill the empty fields from the record
    once the resident agreed there (``prefill``). 409 once completed or cancelled."""
    cat = catalog(host)
    row = fm.update(session, actor, cat, application_id, host.now(), values=body.values,
                    confirm=body.confirm, prefill=body.prefill)  # fmt: skip
    return _one(session, cat, row)


@forms.post("/applications/{application_id}/complete", response_model=ApplicationView)
def complete_application(
    session: SessionDep, host: HostDep, actor: ActorDep, application_id: ApplicationId
) -> ApplicationView:
    """Staff: done (409 ``form_incomplete`` with the ``missing`` and ``unconfirmed`` fields
    until every required field has a value and every field to confirm is ticked).
    Completing again answers the same."""
    cat = catalog(host)
    return _one(session, cat, fm.complete(session, actor, cat, application_id, host.now()))


@forms.post("/applications/{application_id}/cancel", response_model=ApplicationView)
def cancel_application(
    session: SessionDep, host: HostDep, actor: ActorDep, application_id: ApplicationId
) -> ApplicationView:
    """Staff; or the resident, while it is a pre-application. Again: the same answer."""
    return _one(session, catalog(host), fm.cancel(session, actor, application_id, host.now()))


# -- one form ------------------------------------------------------------------------------------


@forms.get("/{form_id}", response_model=FormView)
def read_form(host: HostDep, actor: ActorDep, form_id: FormId) -> FormView:
    """One form (anyone signed in); 404 ``form_not_found``."""
    return _form(catalog(host).get(form_id))


@forms.post("/{form_id}/applications", response_model=ApplicationView, status_code=201)
def create_application(
    session: SessionDep, host: HostDep, actor: ActorDep, form_id: FormId, body: ApplicationCreate,
    key: Annotated[str, Depends(idempotency_key)],
) -> ApplicationView:  # fmt: skip
    """A resident pre-applies for themselves (``pre_applied``); staff start one at the
    counter for ``resident_id`` (``in_review``). ``prefill``: the resident agreed that
    their record fills the form. Retrying with the same Idempotency-Key answers the same
    application (one number)."""
    if actor.is_staff:
        people.require_staff(actor, *fm.STAFF)
        if not body.resident_id:
            raise InvalidInput("どなたの申請か(resident_id)を選んでください。",
                               "Staff name the resident (resident_id).", field="resident_id")  # fmt: skip
        resident_id = body.resident_id
    else:
        resident_id = body.resident_id or actor.id
    cat = catalog(host)
    form = cat.get(form_id)
    ids, _ = created_once(session, actor, f"form:{form_id}", key, body, lambda: [
        fm.create(session, actor, form, resident_id, body.values, body.prefill,
                  "counter" if actor.is_staff else "app", host.now(),
                  host.world.config.calendar.time_zone).id])  # fmt: skip
    return _one(session, cat, fm.get(session, ids[0]))
