"""The FAQ bot in the LINE chat (town/faq.py): a message the chat has no step for is
answered from the town's questions and answers; 「担当者につなぐ」 hands it to staff.

(Stub: filled in by the FAQ work; ``reply`` answers nothing yet.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.world import World
from line_channel.messages import Message


def reply(
    session: Session, world: World, text: str, user_id: str, resident_id: str | None
) -> list[Message] | None:
    """The answer to ``text``, or None when the bot has none (the chat then shows its help)."""
    return None


def hand_over(
    session: Session, world: World, params: dict[str, str], user_id: str, resident_id: str | None
) -> list[Message]:
    """「担当者につなぐ」 (postback ``a=faq_staff``): a ticket for staff; the answer says so."""
    return []
