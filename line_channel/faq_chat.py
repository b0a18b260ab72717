"""The FAQ bot in the LINE chat (town/faq.py): a message the chat has no step for is
answered from the town's questions and answers, 24 hours a day, with 「担当者につなぐ」 to
hand it to staff as a ticket (the console lists them). A question with no answer good
enough is noted for staff, and the chat shows its help text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.guide import faq_facts
from core.world import World
from line_channel import messages as msg
from line_channel.messages import Message
from town import faq as qa
from town.models import FaqTicket

POSTBACK_MAX = 300  # LINE's limit for postback data


def staff_action(question: str) -> Message:
    """「担当者につなぐ」 carrying the question (shortened to fit LINE's 300 characters of
    postback data: Japanese takes nine characters each once URL-encoded)."""
    q = " ".join(question.split())
    while q and len(msg.data("faq_staff", q=q)) > POSTBACK_MAX:
        q = q[:-2] + "…"
    return msg.postback("担当者につなぐ", "faq_staff", q=q)


def prompt() -> Message:
    """The rich menu's 「質問する」: say how to ask; the usage help, the classes and counters
    to reserve, and the applications a tap away."""
    return msg.text(
        "町やバスについて、知りたいことを文章で送ってください。24時間お答えします。\n"
        "たとえば「バスの料金は」「粗大ごみの出し方」「役場は何時まで」。\n"
        "答えがわからないときは、担当者におつなぎします。",
        msg.postback("使い方を見る", "help"),
        msg.postback("教室・窓口の予約", "ev_list"),
        msg.postback("申請(証明書など)", "form_start"),
        msg.postback("バスを予約する", "book"),
        msg.quit_action(),
    )


def reply(
    session: Session, world: World, text: str, user_id: str, resident_id: str | None,
    now: datetime,
) -> list[Message] | None:  # fmt: skip
    """The answer to ``text``, or None when the bot has none (the chat then shows its help;
    the question is noted for staff)."""
    if not text.strip():
        return None
    try:
        bot = qa.for_area(world.area.source.parent)
    except qa.FaqUnavailable:
        return None
    found = bot.answer(text, faq_facts(world))
    if found is None:
        qa.record_miss(session, text, "line", now)
        return None
    body = found.text
    if not found.sure:
        body += "\n\nお探しの答えでないときは、「担当者につなぐ」を押してください。"
    return [msg.text(body, staff_action(text), *msg.menu_actions())]


def hand_over(
    session: Session, world: World, params: dict[str, str], user_id: str, resident_id: str | None,
    now: datetime,
) -> list[Message]:  # fmt: skip
    """「担当者につなぐ」 (postback ``a=faq_staff``): a ticket for staff; the answer says so.
    Tapping twice makes one ticket."""
    phone = world.config.operator_phone
    question = " ".join(params.get("q", "").split()) or "(LINEで「担当者につなぐ」が押されました)"
    question = question[: qa.MAX_TICKET]
    open_same = session.scalar(
        select(FaqTicket).where(
            FaqTicket.line_user_id == user_id,
            FaqTicket.status == "open",
            FaqTicket.question == question,
        )
    )
    if open_same is None:
        qa.create_ticket(session, question, "line", now, resident_id=resident_id,
                         line_user_id=user_id)  # fmt: skip
    if resident_id is not None:
        then = "係が確かめて、ご登録の電話番号にご連絡します。"
    else:
        then = f"LINEの登録がまだのため、係からご連絡できないことがあります。お急ぎのときは、お電話({phone})でどうぞ。"
    return [msg.text(f"係に伝えました。\n「{question}」\n{then}", *msg.menu_actions())]
