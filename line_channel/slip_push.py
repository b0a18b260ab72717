"""LINE reminders of payment slips before their due date (:mod:`town.slips`): for each
unpaid slip of a resident opted in to ``payments``, one push to each of their LINE users,
``REMINDER_DAYS_BEFORE`` days before the due date from ``REMINDER_FROM`` (a later tick
that day or the next days, up to the day before the due date, if the notifier was down;
never at night). Its key, ``slip:<slip id>:<days>:<LINE user>``, is claimed once in
``line_pushes``, so it is sent once however many ticks see it; a slip paid (imported from
the payments file) before then is not reminded of.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import at
from core.world import World
from line_channel import repository as repo
from line_channel.messages import Message, _md, text
from line_channel.models import LinePush
from line_channel.town_messages import SETTINGS
from line_channel.town_push import TownPush
from town import slips
from town.models import PaymentSlip


def reminder(slip: PaymentSlip, phone: str) -> Message:
    """「【納付期限のお知らせ】…」: what, how much, by when, how to pay, how to stop."""
    what = f"{slip.subject}({slip.fiscal_year}年度 {slip.period})".replace(" )", ")")
    return text(
        f"【納付期限のお知らせ】\n{what}の納付期限は、{_md(slip.due)}です。\n"
        f"金額は{slip.amount:,}円です。まだお支払いを確認できていません。\n"
        "お手元の納付書で、コンビニ、金融機関、役場の窓口でお支払いください。\n"
        "すでにお支払いいただいたときは、このお知らせは気にしないでください。\n"
        f"納付書が見当たらないときは、お電話({phone})でどうぞ。\n"
        f"(このお知らせを止めるときは「{SETTINGS}」と送ってください)"
    )


def due_reminders(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Reminders due at ``now_s`` for residents opted in to ``payments`` (not the ones sent
    or decided before)."""
    due = slips.reminders_due(session, at(now_s), world.config.calendar.time_zone)
    if not due:
        return []
    links = repo.links_of(session, {r.slip.resident_id for r in due if r.slip.resident_id})
    wanted = [(r, link.user_id) for r in due for link in links.get(r.slip.resident_id or "", [])]
    keys = [f"{r.key}:{uid}" for r, uid in wanted]
    done = set(session.scalars(select(LinePush.key).where(  # a pending one is retried
        LinePush.key.in_(keys), LinePush.status != "pending"))) if keys else set()  # fmt: skip
    phone = world.config.operator_phone
    return [TownPush(key, "slip", uid, [reminder(r.slip, phone)])
            for key, (r, uid) in zip(keys, wanted, strict=True) if key not in done]  # fmt: skip
