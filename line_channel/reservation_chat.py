"""Reservations from LINE (town/reservations.py): being written (issue 20)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.world import World
from line_channel.messages import Message
from line_channel.town_push import TownPush


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a reservation, else None."""
    return None


def due_reminders(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Reminders of reserved events due at ``now_s``."""
    return []
