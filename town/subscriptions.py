"""Residents' opt-ins to the town services, each on its own (see town/models.py).

A resident opts in and stops from LINE (「通知の設定」), an operator on their behalf (for a
resident who phones), or through the API with their own token. Every change is in the audit
log with who made it. Opting in again replaces the options (the garbage area or timing);
stopping what is not on is not an error (a retried tap changes nothing).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import now_utc
from common.errors import InvalidInput
from residents import service as people
from town.garbage import Calendar
from town.models import Subscription

SERVICES: dict[str, tuple[str, str]] = {
    "garbage": ("ごみの日のお知らせ", "garbage collection reminders"),
    "notices": ("町からのお知らせ", "notices from the town"),
    "disaster": ("災害・避難のお知らせ", "disaster and shelter notices"),
    "surveys": ("アンケートのお願い", "survey invitations"),
    "payments": ("納付期限のお知らせ", "reminders of payment slips before their due date"),
}
TIMINGS: dict[str, str] = {"evening": "前の日の夜", "morning": "当日の朝"}


class UnknownService(InvalidInput):
    code = "unknown_service"


def check_service(service: str) -> None:
    if service not in SERVICES:
        raise UnknownService(
            f"「{service}」というお知らせはありません。次から選んでください: "
            f"{'、'.join(ja for ja, _ in SERVICES.values())}。",
            f"No such service {service!r}: one of {', '.join(SERVICES)}.",
            field="service",
        )


def garbage_options(cal: Calendar, area: str, timing: str) -> dict[str, str]:
    """The options of a garbage opt-in, checked: a 地名 of the calendar in force (its own
    spelling is kept) and ``evening`` or ``morning``."""
    if timing not in TIMINGS:
        raise InvalidInput(
            "お知らせの時間は「前の日の夜」か「当日の朝」から選んでください。",
            f"timing must be one of {', '.join(TIMINGS)}.",
            field="timing",
        )
    return {"area": cal.area(area).name, "timing": timing}


def of(session: Session, resident_id: str) -> dict[str, Subscription]:
    """The resident's opt-ins by service."""
    rows = session.scalars(select(Subscription).where(Subscription.resident_id == resident_id))
    return {r.service: r for r in rows}


def subscribe(
    session: Session, actor: people.Actor, resident_id: str, service: str,
    options: dict[str, Any] | None = None,
) -> Subscription:  # fmt: skip
    """Opt ``resident_id`` in to ``service`` (options already checked); audited."""
    check_service(service)
    row = session.get(Subscription, (resident_id, service))
    if row is None:
        row = Subscription(resident_id=resident_id, service=service, options=options or {},
                           started_at=now_utc())  # fmt: skip
        session.add(row)
    else:
        row.options = options or {}
    people.audit(session, actor, "town.subscribe", resident_id, service=service,
                 options=options or {})  # fmt: skip
    session.flush()
    return row


def unsubscribe(session: Session, actor: people.Actor, resident_id: str, service: str) -> bool:
    """Stop ``service`` for the resident; False when it was not on (nothing changes)."""
    check_service(service)
    row = session.get(Subscription, (resident_id, service))
    if row is None:
        return False
    session.delete(row)
    people.audit(session, actor, "town.unsubscribe", resident_id, service=service)
    session.flush()
    return True
