"""Pre-applying for a town form from LINE (town/forms.py): being written (issue 20)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.world import World
from line_channel.messages import Message


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a form, else None (the chat goes on as before)."""
    return None
