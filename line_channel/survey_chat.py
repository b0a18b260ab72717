"""Surveys answered in the LINE chat (town/surveys.py), by linked residents.

(Stub: filled in by the survey work; ``handle`` takes nothing yet.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.world import World
from line_channel.messages import Message


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a survey (a tapped choice, a typed answer while a
    free-text question is open), else None (the chat goes on as before)."""
    return None
