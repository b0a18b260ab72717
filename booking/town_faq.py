"""The FAQ bot's API (/v1/town/faq). (Stub: filled in by the FAQ work.)"""

from __future__ import annotations

from fastapi import APIRouter

faq = APIRouter(prefix="/v1/town/faq", tags=["town"])
