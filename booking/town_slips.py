"""The town's slips API (/v1/town/slips): being written (issue 20)."""

from __future__ import annotations

from fastapi import APIRouter

slips = APIRouter(prefix="/v1/town/slips", tags=["town"])
