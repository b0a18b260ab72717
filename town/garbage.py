"""Garbage days in the Code for Japan 5374 (ごみ収集日) format: read, asked, written back.

A 5374 folder holds five CSV files, UTF-8 with a header row first (a BOM and CRLF are fine):

``area_days.csv``
    地名, センター, then one column per garbage category (the header names it). A cell says
    when that category is collected in that area, as space-separated tokens:

    - ``月`` … ``日``: every such weekday;
    - ``火2``: the second Tuesday of the month (n = 1..5; a month without a fifth one has none);
    - ``20270115``: an irregular date (YYYYMMDD);
    - ``*1``: a reference to remarks.csv's row 1 (a note, not a day);
    - ``:4 6 8`` after the tokens: only in these months, for the whole cell (irregular dates
      included): ``火2 金4:4 6 8 10 12 2``.

    An empty cell, ``-`` or ``なし``: never. Full-width digits, spaces, ``：`` and ``＊`` are
    read as their half-width forms (NFKC).
``center.csv``
    名称, 休止開始日, 休止終了日 (YYYY/MM/DD or YYYY-MM-DD): no collection, of any category,
    in an area whose センター has that name, from the first to the last day inclusive.
``target.csv``
    type, name, notice, furigana: which category an item (品目) goes in, with a note and its
    reading.
``description.csv``
    label, sublabel, description, styles, bgcolor: how the app shows each category.
``remarks.csv``
    ID, 注意事項: the notes that cells refer to as ``*ID``.

Pure: no database, clock or network. A mistake in a file is a 422 naming the file, the line
(the first physical line of the CSV record), the column and the cell.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from rapidfuzz import fuzz, process

from common.errors import DrtError
from common.japanese import fold, words

AREA_DAYS = "area_days.csv"
TARGET = "target.csv"
DESCRIPTION = "description.csv"
REMARKS = "remarks.csv"
CENTER = "center.csv"
FILES = (AREA_DAYS, TARGET, DESCRIPTION, REMARKS, CENTER)

WEEKDAYS = "月火水木金土日"  # index = date.weekday()
NEVER = ("", "-", "なし")
MAX_TARGETS = 10
FUZZY_CUTOFF = 75

_TARGET_HEADER = ("type", "name", "notice", "furigana")
_DESCRIPTION_HEADER = ("label", "sublabel", "description", "styles", "bgcolor")
_REMARKS_HEADER = ("ID", "注意事項")
_CENTER_HEADER = ("名称", "休止開始日", "休止終了日")

_NTH = re.compile(r"([月火水木金土日])([0-9]+)")
_YMD = re.compile(r"[0-9]{8}")
_REMARK = re.compile(r"\*(\S+)")
_DASHED_DATE = re.compile(r"[0-9]{2,4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?")
_CENTER_DATE = re.compile(r"([0-9]{4})[/-]([0-9]{1,2})[/-]([0-9]{1,2})")
_HOW_TO_WRITE_JA = (
    "書けるのは 曜日(月 火 水 木 金 土 日)、第n曜日(火2)、不定期の日付(20270115)、"
    "備考(*1)、最後に月の指定(:4 6 8) です"
)
_HOW_TO_WRITE_EN = (
    "write weekdays (月 火 水 木 金 土 日), n-th weekdays (火2), irregular dates (20270115), "
    "remarks (*1), and at the end the months (:4 6 8)"
)


class GarbageCalendarInvalid(DrtError):
    """A 5374 file is missing, or a line or cell of it cannot be read."""

    code = "garbage_calendar_invalid"
    http_status = 422


class GarbageAreaUnknown(DrtError):
    """No area (地名) of that name in area_days.csv; ``suggestions`` holds close names."""

    code = "garbage_area_unknown"
    http_status = 404


@dataclass(frozen=True)
class Schedule:
    """One cell of area_days.csv: when one category is collected in one area."""

    weekly: tuple[int, ...] = ()  # weekdays (0 = Monday), every week
    nth: tuple[tuple[int, int], ...] = ()  # (weekday, n): the n-th such weekday of the month
    dates: tuple[date, ...] = ()  # irregular dates
    remarks: tuple[str, ...] = ()  # remarks.csv IDs
    months: tuple[int, ...] = ()  # only in these months (empty: every month)

    def on(self, day: date) -> bool:
        """Whether the cell names this day (centre closures aside)."""
        if self.months and day.month not in self.months:
            return False
        weekday = day.weekday()
        return (
            weekday in self.weekly
            or (weekday, (day.day - 1) // 7 + 1) in self.nth
            or day in self.dates
        )

    def cell(self) -> str:
        """The cell as written back to area_days.csv (parses to an equal Schedule)."""
        tokens = [WEEKDAYS[w] for w in self.weekly]
        tokens += [f"{WEEKDAYS[w]}{n}" for w, n in self.nth]
        tokens += [f"{d.year:04d}{d.month:02d}{d.day:02d}" for d in self.dates]
        tokens += [f"*{r}" for r in self.remarks]
        months = ":" + " ".join(str(m) for m in self.months) if self.months else ""
        return " ".join(tokens) + months


@dataclass(frozen=True)
class Area:
    """A row of area_days.csv; ``schedules`` follow the calendar's ``categories``."""

    name: str
    center: str
    schedules: tuple[Schedule, ...]


@dataclass(frozen=True)
class Target:
    """A row of target.csv (type, name, notice, furigana)."""

    category: str
    name: str
    notice: str
    reading: str


@dataclass(frozen=True)
class Description:
    """A row of description.csv."""

    label: str
    sublabel: str
    description: str
    styles: str
    bgcolor: str


@dataclass(frozen=True)
class Remark:
    """A row of remarks.csv."""

    id: str
    text: str


@dataclass(frozen=True)
class Center:
    """A row of center.csv: a closure from ``start`` to ``end`` inclusive."""

    name: str
    start: date
    end: date


@dataclass(frozen=True)
class Calendar:
    """A whole 5374 folder."""

    areas: tuple[Area, ...]
    categories: tuple[str, ...]
    targets: tuple[Target, ...]
    descriptions: tuple[Description, ...]
    remarks: tuple[Remark, ...]
    centers: tuple[Center, ...]

    def area(self, name: str) -> Area:
        """The area of that 地名 (any width, hiragana or katakana; else GarbageAreaUnknown)."""
        for area in self.areas:
            if area.name == name:
                return area
        key = fold(name)
        for area in self.areas:
            if key and fold(area.name) == key:
                return area
        raise _unknown_area(name, [a.name for a in self.areas])

    def days(self, area: str, start: date, end: date) -> list[tuple[date, str]]:
        """The collection days of the area from ``start`` to ``end`` inclusive, as (day,
        category), by day and then in the header's order of categories, closures applied."""
        found = self.area(area)
        closures = _closures(found.center, self.centers)
        out: list[tuple[date, str]] = []
        day = start
        while day <= end:
            if not any(first <= day <= last for first, last in closures):
                out += [
                    (day, category)
                    for category, schedule in zip(self.categories, found.schedules, strict=True)
                    if schedule.on(day)
                ]
            day += timedelta(days=1)
        return out

    def notes(self, area: str) -> list[tuple[str, str]]:
        """The remarks the area's cells refer to, as (category, text)."""
        found = self.area(area)
        texts = {r.id: r.text for r in self.remarks}
        return [
            (category, texts[rid])
            for category, schedule in zip(self.categories, found.schedules, strict=True)
            for rid in schedule.remarks
        ]


# ----------------------------------------------------------------------------- reading


def load_calendar(folder: Path) -> Calendar:
    """Read and check a 5374 folder (GarbageCalendarInvalid on the first mistake)."""
    return parse_files(read_files(folder))


def read_files(folder: Path) -> dict[str, str]:
    """The text of the five files (a missing or non-UTF-8 file: GarbageCalendarInvalid)."""
    return {name: _read(folder, name) for name in FILES}


def parse_files(files: Mapping[str, str]) -> Calendar:
    """Check and parse the five files' text (``read_files``, or as stored by an import)."""
    remarks = _remarks(_rows(REMARKS, files[REMARKS]))
    centers = _centers(_rows(CENTER, files[CENTER]))
    categories, areas = _area_days(_rows(AREA_DAYS, files[AREA_DAYS]), {r.id for r in remarks})
    return Calendar(
        areas=areas,
        categories=categories,
        targets=_targets(_rows(TARGET, files[TARGET])),
        descriptions=_descriptions(_rows(DESCRIPTION, files[DESCRIPTION])),
        remarks=remarks,
        centers=centers,
    )


_Row = tuple[int, list[str]]  # (line number, stripped cells)


def _read(folder: Path, name: str) -> str:
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _invalid(
            name,
            None,
            f"ファイルがありません(読めません): {path}",
            f"is missing or unreadable: {path} ({e.strerror})",
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _invalid(
            name,
            data.count(b"\n", 0, e.start) + 1,
            "UTF-8 ではありません(Shift_JIS のままなら UTF-8 で保存し直してください)",
            "is not UTF-8 (if it is Shift_JIS, save it again as UTF-8)",
        ) from None


def _rows(name: str, text: str) -> list[_Row]:
    """The file's non-blank records, each with the line it starts on (1 = the header)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[_Row] = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        except csv.Error as e:
            raise _invalid(
                name, line, f"CSV として読めません({e})", f"is not valid CSV ({e})"
            ) from None
        stripped = [c.strip() for c in cells]
        if any(stripped):
            rows.append((line, stripped))


def _area_days(
    rows: list[_Row], remark_ids: Collection[str]
) -> tuple[tuple[str, ...], tuple[Area, ...]]:
    if not rows:
        raise _invalid(
            AREA_DAYS,
            None,
            "見出しの行(地名,センター,ごみの種類…)がありません",
            "has no header row (地名,センター, then the garbage categories)",
        )
    header_line, header = rows[0]
    header = _trim_trailing_empty(header)
    categories = tuple(header[2:])
    if not categories:
        raise _invalid(
            AREA_DAYS,
            header_line,
            "見出しに ごみの種類の列がありません(地名,センター の後に 燃やすごみ などを並べます)",
            "has no category column in its header (after 地名,センター come e.g. 燃やすごみ)",
        )
    for index, category in enumerate(categories):
        if not category or category in categories[:index]:
            raise _bad_cell(
                AREA_DAYS,
                header_line,
                index + 3,
                "見出し",
                category,
                "ごみの種類の名前が空か、重なっています",
                "the category name is empty or repeated",
            )
    areas: list[Area] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        cells = _fit(AREA_DAYS, line, cells, header)
        key = fold(cells[0]) or cells[0]
        if not cells[0]:
            raise _bad_cell(
                AREA_DAYS, line, 1, header[0], "", "地名が空です", "the area name is empty"
            )
        if key in seen:
            raise _bad_cell(
                AREA_DAYS,
                line,
                1,
                header[0],
                cells[0],
                f"{seen[key]} 行目と同じ地名です",
                f"the same area name as on line {seen[key]}",
            )
        seen[key] = line
        schedules = tuple(
            _schedule(line, column, header[column - 1], cells[column - 1], remark_ids)
            for column in range(3, len(header) + 1)
        )
        areas.append(Area(name=cells[0], center=cells[1], schedules=schedules))
    if not areas:
        raise _invalid(
            AREA_DAYS, None, "地区の行が1つもありません", "has no area rows below its header"
        )
    return categories, tuple(areas)


def _schedule(
    line: int, column: int, header: str, cell: str, remark_ids: Collection[str]
) -> Schedule:
    try:
        return parse_cell(cell, remark_ids)
    except _CellError as e:
        raise _bad_cell(AREA_DAYS, line, column, header, cell, e.ja, e.en) from None


class _CellError(ValueError):
    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en


def parse_cell(cell: str, remark_ids: Collection[str] | None = None) -> Schedule:
    """One area_days.csv cell as a Schedule; ``*ID`` must be one of ``remark_ids`` if given.
    Raises ValueError saying (in ``.ja`` and ``.en``) what is wrong."""
    text = unicodedata.normalize("NFKC", cell).strip()
    if text in NEVER:
        return Schedule()
    days_text, colon, months_text = text.partition(":")
    months = _months(months_text) if colon else ()
    weekly: list[int] = []
    nth: list[tuple[int, int]] = []
    dates: list[date] = []
    remarks: list[str] = []
    for token in days_text.split():
        if len(token) == 1 and token in WEEKDAYS:
            weekly.append(WEEKDAYS.index(token))
        elif match := _NTH.fullmatch(token):
            nth.append((WEEKDAYS.index(match[1]), _nth(token, int(match[2]))))
        elif _YMD.fullmatch(token):
            dates.append(_ymd(token))
        elif match := _REMARK.fullmatch(token):
            remarks.append(_remark(match[1], remark_ids))
        else:
            raise _token_error(token)
    if colon and not (weekly or nth or dates):
        raise _CellError(
            "月の指定(:)の前に収集日がありません", "there are no days before the months (:)"
        )
    return Schedule(tuple(weekly), tuple(nth), tuple(dates), tuple(remarks), months)


def _months(text: str) -> tuple[int, ...]:
    tokens = text.split()
    if not tokens:
        raise _CellError(
            "コロン(:)の後に月がありません(例 火2:4 6 8)",
            "no months after the colon (e.g. 火2:4 6 8)",
        )
    for token in tokens:
        if not token.isascii() or not token.isdigit() or not 1 <= int(token) <= 12:
            raise _CellError(
                f"月は 1〜12 の数を空白で区切って書きます(「{token}」)",
                f"months are numbers 1 to 12 separated by spaces (got {token!r})",
            )
    return tuple(int(t) for t in tokens)


def _nth(token: str, n: int) -> int:
    if not 1 <= n <= 5:
        raise _CellError(
            f"第n曜日の n は 1〜5 です(「{token}」)",
            f"the n of an n-th weekday must be 1 to 5 (got {token!r})",
        )
    return n


def _ymd(token: str) -> date:
    try:
        return date(int(token[:4]), int(token[4:6]), int(token[6:]))
    except ValueError:
        raise _CellError(
            f"「{token}」という日付はありません(YYYYMMDD で書きます)",
            f"{token!r} is not a date (write YYYYMMDD)",
        ) from None


def _remark(rid: str, remark_ids: Collection[str] | None) -> str:
    if remark_ids is not None and rid not in remark_ids:
        raise _CellError(
            f"備考 *{rid} が remarks.csv にありません",
            f"remark *{rid} is not in remarks.csv",
        )
    return rid


def _token_error(token: str) -> _CellError:
    if _DASHED_DATE.fullmatch(token):
        return _CellError(
            f"不定期の日付は 20270115 のように8桁で書きます(「{token}」)",
            f"irregular dates are written as 8 digits, YYYYMMDD such as 20270115 (got {token!r})",
        )
    return _CellError(
        f"「{token}」が読めません。{_HOW_TO_WRITE_JA}",
        f"cannot read {token!r}: {_HOW_TO_WRITE_EN}",
    )


def _remarks(rows: list[_Row]) -> tuple[Remark, ...]:
    out: list[Remark] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        cells = _fit(REMARKS, line, cells, _REMARKS_HEADER)
        rid = unicodedata.normalize("NFKC", cells[0]).strip()
        if not rid or re.search(r"[\s:]", rid) or rid in seen:
            again_ja = f"、{seen[rid]} 行目と同じです" if rid in seen else ""
            again_en = f", the same as on line {seen[rid]}" if rid in seen else ""
            raise _bad_cell(
                REMARKS,
                line,
                1,
                rows[0][1][0],
                cells[0],
                f"ID は空白や : のない1語で、重ならないようにします{again_ja}",
                f"an ID is one word without spaces or ':', never repeated{again_en}",
            )
        seen[rid] = line
        out.append(Remark(id=rid, text=cells[1]))
    return tuple(out)


def _centers(rows: list[_Row]) -> tuple[Center, ...]:
    out: list[Center] = []
    for line, cells in rows[1:]:
        cells = _fit(CENTER, line, cells, _CENTER_HEADER)
        if not cells[0]:
            raise _bad_cell(
                CENTER,
                line,
                1,
                _CENTER_HEADER[0],
                "",
                "センターの名称が空です",
                "the centre's name is empty",
            )
        start = _center_date(line, 2, cells[1])
        end = _center_date(line, 3, cells[2])
        if end < start:
            raise _bad_cell(
                CENTER,
                line,
                3,
                _CENTER_HEADER[2],
                cells[2],
                "休止終了日が休止開始日より前です",
                "the closure ends before it starts",
            )
        out.append(Center(name=cells[0], start=start, end=end))
    return tuple(out)


def _center_date(line: int, column: int, cell: str) -> date:
    day = _slash_date(unicodedata.normalize("NFKC", cell))
    if day is None:
        raise _bad_cell(
            CENTER,
            line,
            column,
            _CENTER_HEADER[column - 1],
            cell,
            "日付は 2026/12/30 か 2026-12-30 のように、ある日付を書きます",
            "dates are written as 2026/12/30 or 2026-12-30, and must exist",
        )
    return day


def _slash_date(text: str) -> date | None:
    match = _CENTER_DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _targets(rows: list[_Row]) -> tuple[Target, ...]:
    if not rows:
        return ()
    index = _columns(TARGET, rows[0], _TARGET_HEADER, required=("type", "name"))
    out: list[Target] = []
    for line, cells in rows[1:]:
        cells = _fit(TARGET, line, cells, rows[0][1])
        for column in ("type", "name"):
            if not _get(cells, index, column):
                raise _bad_cell(
                    TARGET,
                    line,
                    index[column] + 1,
                    column,
                    "",
                    f"{column} が空です",
                    f"{column} is empty",
                )
        out.append(
            Target(
                category=_get(cells, index, "type"),
                name=_get(cells, index, "name"),
                notice=_get(cells, index, "notice"),
                reading=_get(cells, index, "furigana"),
            )
        )
    return tuple(out)


def _descriptions(rows: list[_Row]) -> tuple[Description, ...]:
    if not rows:
        return ()
    index = _columns(DESCRIPTION, rows[0], _DESCRIPTION_HEADER, required=("label",))
    out: list[Description] = []
    for line, cells in rows[1:]:
        cells = _fit(DESCRIPTION, line, cells, rows[0][1])
        if not _get(cells, index, "label"):
            raise _bad_cell(
                DESCRIPTION,
                line,
                index["label"] + 1,
                "label",
                "",
                "label が空です",
                "label is empty",
            )
        out.append(Description(*(_get(cells, index, c) for c in _DESCRIPTION_HEADER)))
    return tuple(out)


def _columns(
    name: str, header_row: _Row, known: Sequence[str], required: Sequence[str]
) -> dict[str, int]:
    """Where each known column is, by its header name (any case; unknown columns ignored)."""
    line, header = header_row
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        index.setdefault(cell.lower(), i)
    missing = [c for c in required if c not in index]
    if missing:
        raise _invalid(
            name,
            line,
            f"見出しに {'・'.join(missing)} の列がありません(5374形式の見出し: {','.join(known)})",
            f"has no {', '.join(missing)} column in its header (the 5374 header: {','.join(known)})",
        )
    return {c: index[c] for c in known if c in index}


def _get(cells: Sequence[str], index: dict[str, int], column: str) -> str:
    """The cell of that column ("" for a column the file does not have)."""
    i = index.get(column)
    return cells[i] if i is not None else ""


def _fit(name: str, line: int, cells: list[str], header: Sequence[str]) -> list[str]:
    """The cells padded to the header's width (a short row leaves the last cells empty)."""
    width = len(header)
    extra = [i for i, c in enumerate(cells[width:], start=width + 1) if c]
    if extra:
        raise _bad_cell(
            name,
            line,
            extra[0],
            "(見出しなし)",
            cells[extra[0] - 1],
            '見出しより列が多すぎます(文にカンマがあるときは全体を "…" で囲みます)',
            'more cells than the header has columns (quote text with a comma in "…")',
        )
    return cells[:width] + [""] * (width - len(cells))


def _trim_trailing_empty(cells: list[str]) -> list[str]:
    end = len(cells)
    while end > 0 and not cells[end - 1]:
        end -= 1
    return cells[:end]


def _closures(center: str, centers: Sequence[Center]) -> list[tuple[date, date]]:
    key = unicodedata.normalize("NFKC", center).strip()
    if not key:
        return []
    return [(c.start, c.end) for c in centers if unicodedata.normalize("NFKC", c.name) == key]


# ----------------------------------------------------------------------------- errors


def _invalid(name: str, line: int | None, ja: str, en: str) -> GarbageCalendarInvalid:
    where_ja = f"{name} の {line} 行目" if line is not None else name
    where_en = f"{name} line {line}" if line is not None else name
    return GarbageCalendarInvalid(
        f"ごみ収集日のデータ {where_ja}: {ja}。",
        f"Garbage calendar {where_en}: {en}.",
        file=name,
        line=line,
        column=None,
        cell=None,
    )


def _bad_cell(
    name: str, line: int, column: int, header: str, cell: str, ja: str, en: str
) -> GarbageCalendarInvalid:
    return GarbageCalendarInvalid(
        f"ごみ収集日のデータ {name} の {line} 行目 {column} 列目({header})のセル「{cell}」: {ja}。",
        f"Garbage calendar {name} line {line}, column {column} ({header}), cell {cell!r}: {en}.",
        file=name,
        line=line,
        column=column,
        header=header,
        cell=cell,
    )


def _unknown_area(name: str, names: Sequence[str]) -> GarbageAreaUnknown:
    close = _close_names(name, names)
    listed_ja = "、".join(close) if close else "なし"
    listed_en = ", ".join(close) if close else "none"
    return GarbageAreaUnknown(
        f"ごみ収集日の地区「{name}」が見つかりません。近い地名: {listed_ja}。"
        "area_days.csv の地名から選んでください。",
        f"No garbage-calendar area named {name!r}. Close names: {listed_en}. "
        "Choose one of the 地名 in area_days.csv.",
        area=name,
        suggestions=close,
    )


def _close_names(name: str, names: Sequence[str], limit: int = 5) -> list[str]:
    key = fold(name)
    if not key:
        return []
    hits = process.extract(
        key, [fold(n) for n in names], scorer=fuzz.WRatio, limit=limit, score_cutoff=50
    )
    return [names[index] for _, _, index in hits]


# ----------------------------------------------------------------------------- writing


def export_calendar(cal: Calendar, folder: Path) -> None:
    """Write the five files (UTF-8, LF) into the folder, made if missing:
    ``load_calendar(folder) == cal`` afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / AREA_DAYS,
        [
            ["地名", "センター", *cal.categories],
            *([a.name, a.center, *(s.cell() for s in a.schedules)] for a in cal.areas),
        ],
    )
    _write(
        folder / TARGET,
        [list(_TARGET_HEADER), *([t.category, t.name, t.notice, t.reading] for t in cal.targets)],
    )
    _write(
        folder / DESCRIPTION,
        [
            list(_DESCRIPTION_HEADER),
            *([d.label, d.sublabel, d.description, d.styles, d.bgcolor] for d in cal.descriptions),
        ],
    )
    _write(folder / REMARKS, [list(_REMARKS_HEADER), *([r.id, r.text] for r in cal.remarks)])
    _write(
        folder / CENTER,
        [
            list(_CENTER_HEADER),
            *([c.name, _slashed(c.start), _slashed(c.end)] for c in cal.centers),
        ],
    )


def _write(path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _slashed(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


# ----------------------------------------------------------------------------- searching


def find_targets(cal: Calendar, query: str, limit: int = MAX_TARGETS) -> list[Target]:
    """ "What kind of garbage is this?": items whose name or reading matches the query (any
    width, hiragana or katakana), exact and contained matches first, then misspelt ones
    (rapidfuzz partial_ratio >= 75); at most ``limit``."""
    key = fold(query)
    if not key:
        return []
    query_words = words(query)
    ranked: list[tuple[int, float, int, Target]] = []
    for order, target in enumerate(cal.targets):
        rank = _rank(key, query_words, fold(target.name), fold(target.reading))
        if rank is not None:
            ranked.append((*rank, order, target))
    ranked.sort(key=lambda r: (r[0], r[1], r[2]))
    return [r[3] for r in ranked[:limit]]


def _rank(
    key: str, query_words: Sequence[str], name: str, reading: str
) -> tuple[int, float] | None:
    """(tier, order within the tier) of one item, or None: 0 the same, 1 containing the
    query (shorter first), 2 containing every word of it, 3 inside the query (longer first),
    4 close (``_closeness``, higher first). A one-letter reading (an index letter, as in many 5374
    files) counts only when the query is that letter."""
    keys = [k for k in (name, reading) if k]
    if key in keys:
        return (0, 0.0)
    containing = [len(k) for k in keys if key in k]
    if containing:
        return (1, float(min(containing)))
    if len(query_words) > 1 and all(any(w in k for k in keys) for w in query_words):
        return (2, float(len(name)))
    long_keys = [k for k in keys if len(k) >= 2]
    inside = [len(k) for k in long_keys if k in key]
    if inside:
        return (3, -float(max(inside)))
    if len(key) >= 3:
        score = max((_closeness(key, k) for k in long_keys), default=0.0)
        if score >= FUZZY_CUTOFF:
            return (4, -score)
    return None


def _closeness(key: str, item: str) -> float:
    """partial_ratio when the query may be a misspelt part of the item's name; the plain ratio
    when the name is shorter (a short name must not match any query sharing two letters)."""
    return fuzz.partial_ratio(key, item) if len(item) >= len(key) else fuzz.ratio(key, item)
