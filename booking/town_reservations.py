"""The town's reservations API (/v1/town/reservations): being written (issue 20)."""

from __future__ import annotations

from fastapi import APIRouter

reservations = APIRouter(prefix="/v1/town/reservations", tags=["town"])
