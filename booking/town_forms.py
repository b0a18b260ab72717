"""The town's forms API (/v1/town/forms): being written (issue 20)."""

from __future__ import annotations

from fastapi import APIRouter

forms = APIRouter(prefix="/v1/town/forms", tags=["town"])
