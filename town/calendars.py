"""The garbage calendar in force: imported by staff from a 5374-format folder, kept in the
database (every worker reads the same), the newest import in use.

An import is validated whole before anything is stored (a bad cell: 422 naming the file,
line and column; nothing changes). The stored text of the five files is the calendar: an
export writes them back, a worker parses them once per import (cached by its id).
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import now_utc
from common.errors import DrtError
from common.ids import new_id
from town.garbage import Calendar, export_calendar, load_calendar
from town.models import GarbageCalendar

#: The five files of the 5374 format.
FILES = ("area_days.csv", "target.csv", "description.csv", "remarks.csv", "center.csv")


class NoGarbageCalendar(DrtError):
    code = "garbage_calendar_missing"
    http_status = 404


def read_folder(folder: Path) -> dict[str, str]:
    """The five files' text (the parser checks what is missing or malformed)."""
    load_calendar(folder)  # validates everything first: nothing is stored from a bad folder
    return {name: (folder / name).read_text(encoding="utf-8-sig") for name in FILES}


def import_calendar(session: Session, folder: Path, by: str, label: str = "") -> GarbageCalendar:
    """Store the folder's calendar as the one in force (does not commit)."""
    files = read_folder(folder)
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
    with tempfile.TemporaryDirectory(prefix="drt-5374-") as tmp:
        folder = Path(tmp)
        for name, text in files:
            (folder / name).write_text(text, encoding="utf-8")
        return load_calendar(folder)


def export_current(session: Session, folder: Path) -> GarbageCalendar:
    """Write the calendar in force back as the five files (the folder must exist)."""
    row = current_row(session)
    export_calendar(current(session), folder)
    return row
