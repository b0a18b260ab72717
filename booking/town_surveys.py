"""The surveys' API (/v1/town/surveys). (Stub: filled in by the survey work.)"""

from __future__ import annotations

from fastapi import APIRouter

surveys = APIRouter(prefix="/v1/town/surveys", tags=["town"])
