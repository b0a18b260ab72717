"""LINE reminders of payment slips before their due date (town/slips.py): being written
(issue 20)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.world import World
from line_channel.town_push import TownPush


def due_reminders(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Reminders due at ``now_s`` for residents opted in to ``payments``."""
    return []
