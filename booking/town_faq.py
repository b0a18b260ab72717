"""The FAQ bot's API (/v1/town/faq): anyone may ask (no login, 24 hours a day, as the
town's LINE account answers); a resident, or staff on a resident's behalf, hands a question
to staff as a ticket; staff list and close tickets and see the questions with no answer.

Answers come from the area's question-and-answer file (``town.faq``), the bus's facts in them
from the live configuration (``core.guide.faq_facts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from booking.endpoints import ActorDep
from common.errors import Forbidden, InvalidInput
from core.guide import faq_facts
from core.web import HostDep, SessionDep
from residents import service as people
from town import faq as qa
from town.models import FaqTicket

faq = APIRouter(prefix="/v1/town/faq", tags=["town"])


class FaqAnswer(BaseModel):
    answered: bool
    entry_id: str | None = Field(description="the entry of the town's file that answers")
    question: str | None = Field(description="the entry's own question")
    answer: str = Field(description="the answer, facts filled in; or what to do when none")
    score: float = Field(description="0..1; answered at or above the threshold")
    threshold: float
    staff_suggested: bool = Field(description="offer 「担当者につなぐ」 with this answer")
    phone: str


class TicketCreate(BaseModel):
    question: str = Field(min_length=1, max_length=qa.MAX_TICKET)
    resident_id: str | None = Field(
        default=None, max_length=24, description="staff: the resident it is for (required)"
    )


class TicketClose(BaseModel):
    note: str = Field(default="", max_length=qa.MAX_NOTE, description="what staff answered")


class Ticket(BaseModel):
    id: str
    question: str
    resident_id: str | None
    line_user_id: str | None
    channel: str
    status: str
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    closed_by_name: str | None = Field(description="the staff account's display name")
    note: str


class Miss(BaseModel):
    question: str
    count: int = Field(description="on how many days (24-hour spells) it was asked")
    first_at: datetime
    last_at: datetime
    channels: list[str]


def _tickets(session: Session, rows: list[FaqTicket]) -> list[Ticket]:
    names = people.staff_names(session, {t.closed_by for t in rows})
    return [Ticket(id=t.id, question=t.question, resident_id=t.resident_id,
                   line_user_id=t.line_user_id, channel=t.channel, status=t.status,
                   created_at=t.created_at, closed_at=t.closed_at, closed_by=t.closed_by,
                   closed_by_name=names.get(t.closed_by) if t.closed_by else None, note=t.note)
            for t in rows]  # fmt: skip


def _ticket(session: Session, t: FaqTicket) -> Ticket:
    return _tickets(session, [t])[0]


@faq.get("", response_model=FaqAnswer)
def ask(
    session: SessionDep,
    host: HostDep,
    q: Annotated[str, Query(min_length=1, max_length=qa.MAX_QUESTION, description="質問")],
) -> FaqAnswer:
    """The town's answer to a question (no login). With no answer good enough, says what to
    do instead and notes the question for staff (who add answers)."""
    world = host.world
    bot = qa.for_area(world.area.source.parent)
    facts = faq_facts(world)
    found = bot.answer(q, facts)
    if found is None:
        qa.record_miss(session, q, "app", host.now())
        best = bot.ranked(q)[0][1]
        return FaqAnswer(
            answered=False, entry_id=None, question=None, score=round(best, 4),
            threshold=bot.threshold, staff_suggested=True, phone=facts["phone"],
            answer="すみません、お答えが見つかりませんでした。「担当者につなぐ」で係にお聞きください。"
            f"お急ぎのときは、お電話({facts['phone']})でどうぞ。",
        )  # fmt: skip
    return FaqAnswer(answered=True, entry_id=found.entry.id, question=found.entry.question,
                     answer=found.text, score=found.score, threshold=bot.threshold,
                     staff_suggested=not found.sure, phone=facts["phone"])  # fmt: skip


@faq.post("/tickets", response_model=Ticket, status_code=201)
def create_ticket(
    session: SessionDep, host: HostDep, actor: ActorDep, body: TicketCreate
) -> Ticket:
    """Hand a question to staff (「担当者につなぐ」): a signed-in resident for themselves, or
    an operator or admin for a resident (``resident_id``)."""
    if actor.is_staff:
        people.require_staff(actor, "operator", "admin")
        if not body.resident_id:
            raise InvalidInput("どの利用者の質問か(resident_id)を指定してください。",
                               "Staff must name the resident (resident_id).", field="resident_id")  # fmt: skip
        people.get_resident(session, actor, body.resident_id)  # 404 for no such resident
        ticket = qa.create_ticket(session, body.question, "phone", host.now(),
                                  resident_id=body.resident_id, by=actor)  # fmt: skip
        return _ticket(session, ticket)
    if body.resident_id not in (None, actor.id):
        raise Forbidden("ほかの方の問い合わせは作れません。",
                        "A resident files tickets for themselves only.")  # fmt: skip
    return _ticket(
        session, qa.create_ticket(session, body.question, "app", host.now(), resident_id=actor.id)
    )


@faq.get("/tickets", response_model=list[Ticket])
def list_tickets(
    session: SessionDep,
    actor: ActorDep,
    status: Annotated[Literal["open", "closed", "all"], Query()] = "open",
) -> list[Ticket]:
    """Questions handed to staff, the one waiting longest first (operators and admins)."""
    people.require_staff(actor, "operator", "admin")
    rows = qa.list_tickets(session, None if status == "all" else status)
    return _tickets(session, list(rows))


@faq.post("/tickets/{ticket_id}/close", response_model=Ticket)
def close_ticket(
    session: SessionDep,
    host: HostDep,
    actor: ActorDep,
    ticket_id: Annotated[str, Path(max_length=24)],
    body: TicketClose,
) -> Ticket:
    """Close a ticket with a note of what staff answered (audited). Closing a closed ticket
    answers it unchanged."""
    people.require_staff(actor, "operator", "admin")
    return _ticket(session, qa.close_ticket(session, actor, ticket_id, body.note, host.now()))


@faq.get("/misses", response_model=list[Miss])
def list_misses(session: SessionDep, actor: ActorDep) -> list[Miss]:
    """Questions the bot had no answer for, the same text together, most asked first (so
    staff know which answers to add to the file)."""
    people.require_staff(actor, "operator", "admin")
    return [Miss(question=g.question, count=g.count, first_at=g.first_at, last_at=g.last_at,
                 channels=list(g.channels)) for g in qa.list_misses(session)]  # fmt: skip
