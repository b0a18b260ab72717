"""The garbage calendar in force: imported by staff from a 5374-format folder, kept in the
database (every worker reads the same), the newest import in use.

An import is validated whole before anything is stored (a bad cell: 422 naming the file,
line and column; nothing changes). The stored text of the five files is the calendar: an
export writes them back, a worker parses them once per import (cached by its id).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import now_utc
from common.errors import DrtError, InvalidInput
from common.ids import new_id
from town.garbage import Calendar, export_calendar, parse_files, read_files
from town.models import GarbageCalendar

MAX_DAYS = 400  # a range of garbage days asked at once: at most a year and a month


def check_range(start: date, end: date) -> None:
    """A range of days the CLI and the API answer: ``end`` not before ``start``, at most
    ``MAX_DAYS`` long."""
    if end < start or (end - start).days > MAX_DAYS:
        raise InvalidInput(
            f"期間は始まりから終わりまで、{MAX_DAYS}日以内にしてください(終わりは始まりより後)。",
            f"The last day must not be before the first, and the range at most {MAX_DAYS} days.",
            field="to",
        )


class NoGarbageCalendar(DrtError):
    code = "garbage_calendar_missing"
    http_status = 404


def import_calendar(session: Session, folder: Path, by: str, label: str = "") -> GarbageCalendar:
    """Store the folder's calendar as the one in force (does not commit)."""
    files = read_files(folder)
    parse_files(files)  # checked whole first: nothing is stored from a bad folder
    row = GarbageCalendar(id=new_id("G"), imported_at=now_utc(), imported_by=by,
                          label=label or folder.name, files=files)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def current_row(session: Session) -> GarbageCalendar:
    row = session.scalar(
        select(GarbageCalendar).order_by(
            GarbageCalendar.imported_at.desc(), GarbageCalendar.id.desc()
        )
    )
    if row is None:
        raise NoGarbageCalendar(
            "ごみ収集日のカレンダーがまだ取り込まれていません(drt town garbage import で取り込みます)。",
            "No garbage calendar has been imported yet (drt town garbage import DIR).",
        )
    return row


def current(session: Session) -> Calendar:
    """The calendar in force, parsed (once per import in this process)."""
    row = current_row(session)
    return _parsed(row.id, tuple(sorted(row.files.items())))


@lru_cache(maxsize=4)
def _parsed(_row_id: str, files: tuple[tuple[str, str], ...]) -> Calendar:
    return parse_files(dict(files))


def export_current(session: Session, folder: Path) -> GarbageCalendar:
    """Write the calendar in force back as the five files (the folder must exist)."""
    row = current_row(session)
    export_calendar(current(session), folder)
    return row
