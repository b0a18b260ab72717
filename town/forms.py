"""Applications nobody handwrites (書かない窓口): the town's forms as data, filled for the
resident from their record (with their consent), checked and completed by staff at the
counter, printed as a PDF (town/form_pdf.py).

**Definitions.** One YAML file per form in the area's ``forms/`` folder (``areas/kurate/
forms/*.yaml``; the ones shipped are samples the town replaces with its own): an ``id``, a
``title``, the ``number_prefix`` of its 受付番号, and its ``fields``, each with an ``id``, a
``label``, a ``type`` (``text``, ``choice``, ``number``, ``date``, ``check``), whether it is
``required``, the resident attribute that may ``prefill`` it, whether staff must
``staff_confirm`` it against the resident's ID at the counter, who writes it (``by``:
``resident`` or ``staff``), whether the LINE pre-application asks it (``line``) and where it
goes on the page (``pdf``: x, y, w, h in millimetres from the top left of an A4 page).
:func:`parse_form` checks a file and refuses it with :class:`FormDefinitionInvalid` naming
the file, the field and the key. A form's ``version`` is a hash of what the file says
(comments aside): an application records the version it was made on.

**Consent.** The record fills the form only when the request says the resident agreed
(``prefill``: the resident ticks it in the app or taps 「写してよい」 in LINE; at the counter
staff ask and tick it). The time is kept on the application (``prefill_consent_at``), the
fields so filled in ``prefilled``, and the audit log says who recorded the consent and which
fields (not their values). Without consent nothing is read from the record.

**Numbers.** 受付番号 ``<prefix><yy>-<nnnn>`` (``A26-0001``), counted per form and calendar
year in the town's time from a :class:`~town.models.TownCounter` taken under a row lock, so
two applications made at once never get the same number (the column is unique as well).

**Life.** A resident's pre-application (LINE, the app) is ``pre_applied``; staff opening it
at the counter (any change) or starting one there makes it ``in_review``; ``completed``
once every required field has a value and every ``staff_confirm`` field with a value is
ticked (else 409 ``form_incomplete`` naming them); ``cancelled`` by staff, or by the
resident while it is still a pre-application. Completed and cancelled applications no
longer change. Every action, by staff or by the resident, is audited.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.errors import DrtError, Forbidden, InvalidInput, NotFound
from common.ids import new_id
from residents import models as rm
from residents import service as people
from residents.service import Actor
from town.models import FormApplication, TownCounter

log = logging.getLogger(__name__)

STAFF = ("operator", "admin")
FOLDER = "forms"
TYPES = ("text", "choice", "number", "date", "check")
#: Resident attributes a field may be filled from, with what residents are told they are.
PREFILL: dict[str, str] = {
    "name": "お名前",
    "kana": "ふりがな",
    "address": "住所",
    "phone": "電話番号",
    "birth_year": "生まれた年",
}
PREFILL_TYPES = {"birth_year": "number"}  # the others fill text fields
STATUSES = ("pre_applied", "in_review", "completed", "cancelled")
OPEN = ("pre_applied", "in_review")
CHANNELS = ("line", "app", "counter")
MAX_FIELDS = 40
MAX_CHOICES = 12
LINE_BUTTONS = 4  # LINE quick replies: the choices and 「やめる」, at most five at once
TEXT_DEFAULT = 100
TEXT_LIMIT = 500
CHOICE_MAX = 20  # characters: a LINE button shows the whole choice
PAGE_W_MM, PAGE_H_MM = 210.0, 297.0
HEADER_MM, FOOTER_MM = 36.0, 20.0  # the title, number and dates; the footer's notes
BOX_H_MM = 14.0
ID = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
FIELD_ID = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
PREFIX = re.compile(r"^[A-Z]$")
RESERVED_IDS = {"applications"}  # a path of the API: /v1/town/forms/applications
FORM_KEYS = {"id", "title", "number_prefix", "sample", "line", "description", "bring", "fields"}
FIELD_KEYS = {
    "id", "label", "type", "required", "prefill", "staff_confirm", "by", "line", "choices",
    "min", "max", "max_length", "default", "hint", "pdf",
}  # fmt: skip
PDF_KEYS = {"x", "y", "w", "h"}

Value = str | int | bool | None


# -- errors ------------------------------------------------------------------------------------


class FormDefinitionInvalid(DrtError):
    """A form's file is not as it should be (names the file, the field and the key)."""

    code = "form_definition_invalid"
    http_status = 422


class FormNotFound(NotFound):
    code = "form_not_found"


class ApplicationNotFound(NotFound):
    code = "form_application_not_found"


class FormValueInvalid(InvalidInput):
    code = "form_value_invalid"


class FormFieldStaffOnly(InvalidInput):
    code = "form_field_staff_only"


class ApplicationClosed(DrtError):
    """A completed or cancelled application no longer changes."""

    code = "form_application_closed"
    http_status = 409


class FormIncomplete(DrtError):
    code = "form_incomplete"
    http_status = 409


class ResidentClosed(DrtError):
    code = "form_resident_closed"
    http_status = 409


# -- definitions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Box:
    """Where a field goes on the page: millimetres from the top left of an A4 sheet."""

    x: float
    y: float
    w: float
    h: float

    def overlaps(self, other: Box) -> bool:
        return (self.x < other.x + other.w and other.x < self.x + self.w
                and self.y < other.y + other.h and other.y < self.y + self.h)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a form (see the module's docstring for what each key means)."""

    id: str
    label: str
    type: str
    required: bool
    prefill: str | None
    staff_confirm: bool
    by: str
    line: bool
    choices: tuple[str, ...]
    min: int | None
    max: int | None
    max_length: int | None
    default: Value
    hint: str
    box: Box

    def line_options(self) -> list[tuple[str, Value]]:
        """The buttons the LINE pre-application offers (label, value), at most four."""
        if self.type == "choice":
            return [(c, c) for c in self.choices]
        if self.type == "check":
            return [("はい", True), ("いいえ", False)]
        assert self.min is not None
        assert self.max is not None
        slots = LINE_BUTTONS if self.required else LINE_BUTTONS - 1
        return [(str(n), n) for n in range(self.min, min(self.max, self.min + slots - 1) + 1)]


@dataclass(frozen=True, slots=True)
class FormDef:
    """A form as the town defines it; ``version`` is the hash of its definition."""

    id: str
    title: str
    number_prefix: str
    sample: bool
    line: bool
    description: str
    bring: tuple[str, ...]
    fields: tuple[Field, ...]
    version: str
    source: str

    def field(self, field_id: str) -> Field:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise FormValueInvalid(f"この申請書に「{field_id}」という欄はありません。",
                               f"The form {self.id} has no field {field_id!r}.",
                               field=field_id)  # fmt: skip

    @property
    def prefill_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.prefill)

    @property
    def line_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.line)


def _invalid(source: str, where: str, ja: str, en: str) -> FormDefinitionInvalid:
    return FormDefinitionInvalid(f"{source} の {where}: {ja}", f"{source}, {where}: {en}",
                                 file=source, where=where)  # fmt: skip


def _text(value: Any, source: str, where: str, limit: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise _invalid(source, where, "文字を書いてください。", "must be a non-empty string")
    text = value.strip()
    if len(text) > limit:
        raise _invalid(source, where, f"{limit}字までにしてください({len(text)}字あります)。",
                       f"at most {limit} characters (it has {len(text)})")  # fmt: skip
    return text


def _flag(value: Any, source: str, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise _invalid(source, where, "true か false で書いてください。", "must be true or false")
    return value


def _int(value: Any, source: str, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(source, where, "整数で書いてください。", "must be an integer")
    return value


def _box(raw: Any, source: str, where: str) -> Box:
    if not isinstance(raw, dict):
        raise _invalid(source, where, "紙の上の位置を {x: 15, y: 40, w: 100} のように書いてください。",
                       "pdf must be a mapping {x, y, w, h}")  # fmt: skip
    unknown = set(raw) - PDF_KEYS
    if unknown or not {"x", "y", "w"} <= set(raw):
        raise _invalid(source, where, "位置は x, y, w(と h)で書きます。",
                       "pdf needs x, y and w (and optionally h), nothing else")  # fmt: skip
    nums = {}
    for k in ("x", "y", "w", "h"):
        v = raw.get(k, BOX_H_MM if k == "h" else None)
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise _invalid(
                source, f"{where}.{k}", "数(mm)で書いてください。", "must be a number (mm)"
            )
        nums[k] = float(v)
    box = Box(nums["x"], nums["y"], nums["w"], nums["h"])
    if box.w < 20 or box.h < 8:
        raise _invalid(source, where, "欄は幅20mm・高さ8mm以上にしてください。",
                       "a box is at least 20 mm wide and 8 mm high")  # fmt: skip
    if (box.x < 5 or box.x + box.w > PAGE_W_MM - 5 or box.y < HEADER_MM
            or box.y + box.h > PAGE_H_MM - FOOTER_MM):  # fmt: skip
        raise _invalid(source, where,
                       f"欄が用紙からはみ出すか、上の{HEADER_MM:g}mm・下の{FOOTER_MM:g}mm(題名・受付番号の場所)にかかっています。",
                       f"the box leaves the page (A4, 5 mm margins) or enters the top {HEADER_MM:g} mm "
                       f"or bottom {FOOTER_MM:g} mm kept for the title, number and dates")  # fmt: skip
    return box


def _field(item: Any, i: int, source: str) -> Field:
    where = f"fields[{i}]"
    if not isinstance(item, dict):
        raise _invalid(source, where, "欄は「id:」「label:」「type:」の組で書きます。",
                       "a field must be a mapping")  # fmt: skip
    fid = item.get("id")
    if isinstance(fid, str):
        where = f"fields[{i}] ({fid})"
    unknown = set(item) - FIELD_KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise _invalid(source, where, f"知らない項目です: {names}。", f"unknown keys: {names}")
    if not isinstance(fid, str) or not FIELD_ID.match(fid):
        raise _invalid(source, f"{where}: id", "欄の id は英小文字ではじまり、英小文字・数字・「_」で30字までです。",
                       "id: a lower-case letter, then letters, digits or _, at most 30")  # fmt: skip
    label = _text(item.get("label"), source, f"{where}: label", 40)
    kind = item.get("type")
    if kind not in TYPES:
        raise _invalid(source, f"{where}: type", f"種類は {' / '.join(TYPES)} のどれかです。",
                       f"type must be one of {', '.join(TYPES)}")  # fmt: skip
    required = _flag(item.get("required"), source, f"{where}: required")
    staff_confirm = _flag(item.get("staff_confirm"), source, f"{where}: staff_confirm")
    line = _flag(item.get("line"), source, f"{where}: line")
    by = item.get("by", "resident")
    if by not in ("resident", "staff"):
        raise _invalid(source, f"{where}: by", "by は resident か staff です。",
                       "by must be resident or staff")  # fmt: skip
    prefill = item.get("prefill")
    if prefill is not None:
        if prefill not in PREFILL:
            raise _invalid(source, f"{where}: prefill", f"写せるのは {', '.join(PREFILL)} です。",
                           f"prefill must be one of {', '.join(PREFILL)}")  # fmt: skip
        if kind != PREFILL_TYPES.get(prefill, "text"):
            want = PREFILL_TYPES.get(prefill, "text")
            raise _invalid(source, f"{where}: prefill", f"{prefill} を写す欄の種類は {want} です。",
                           f"a field filled from {prefill} must be of type {want}")  # fmt: skip
        if by == "staff":
            raise _invalid(source, f"{where}: prefill", "窓口の係だけが書く欄(by: staff)には写せません。",
                           "a staff-only field cannot be filled from the record")  # fmt: skip
    raw_choices = item.get("choices")
    choices: tuple[str, ...] = ()
    if kind == "choice":
        if not isinstance(raw_choices, list) or not 2 <= len(raw_choices) <= MAX_CHOICES:
            raise _invalid(source, f"{where}: choices", f"選択肢を2〜{MAX_CHOICES}こ、一覧で書いてください。",
                           f"a choice field needs 2 to {MAX_CHOICES} choices")  # fmt: skip
        choices = tuple(_text(c, source, f"{where}: choices[{j}]", CHOICE_MAX)
                        for j, c in enumerate(raw_choices, 1))  # fmt: skip
        if len(set(choices)) != len(choices):
            raise _invalid(
                source, f"{where}: choices", "同じ選択肢が2回あります。", "duplicate choices"
            )
    elif raw_choices is not None:
        raise _invalid(source, f"{where}: choices", "選択肢は type: choice の欄にだけ書きます。",
                       "choices belong to choice fields only")  # fmt: skip
    lo, hi = (
        _int(item.get("min"), source, f"{where}: min"),
        _int(item.get("max"), source, f"{where}: max"),
    )
    if kind == "number":
        lo = 0 if lo is None else lo
        hi = 99 if hi is None else hi
        if lo > hi:
            raise _invalid(source, f"{where}: min", "min は max 以下にしてください。", "min > max")
    elif lo is not None or hi is not None:
        raise _invalid(source, f"{where}: min", "min と max は type: number の欄にだけ書きます。",
                       "min and max belong to number fields only")  # fmt: skip
    max_length = _int(item.get("max_length"), source, f"{where}: max_length")
    if kind == "text":
        max_length = TEXT_DEFAULT if max_length is None else max_length
        if not 1 <= max_length <= TEXT_LIMIT:
            raise _invalid(source, f"{where}: max_length", f"max_length は1〜{TEXT_LIMIT}です。",
                           f"max_length must be 1 to {TEXT_LIMIT}")  # fmt: skip
    elif max_length is not None:
        raise _invalid(source, f"{where}: max_length", "max_length は type: text の欄にだけ書きます。",
                       "max_length belongs to text fields only")  # fmt: skip
    if line:
        if kind not in ("choice", "number", "check"):
            raise _invalid(source, f"{where}: line", "LINEで聞けるのは choice / number / check の欄です(ボタンで答えます)。",
                           "only choice, number and check fields are asked in LINE (buttons)")  # fmt: skip
        if by == "staff" or prefill:
            raise _invalid(source, f"{where}: line", "LINEで聞くのは、ご本人が答える欄で、登録から写さない欄です。",
                           "a field asked in LINE is the resident's and not filled from the record")  # fmt: skip
        slots = LINE_BUTTONS if required else LINE_BUTTONS - 1  # + 「とばす」 when not required
        if kind == "choice" and len(choices) > slots:
            raise _invalid(source, f"{where}: choices", f"LINEで聞く欄の選択肢は{slots}こまでです(ボタンは「やめる」を入れて5つまで)。",
                           f"a field asked in LINE has at most {slots} choices (five buttons with 「やめる」)")  # fmt: skip
    hint = _text(item.get("hint"), source, f"{where}: hint", 100, required=False)
    box = _box(item.get("pdf"), source, f"{where}: pdf")
    draft = Field(fid, label, str(kind), required, prefill, staff_confirm, str(by), line, choices,
                  lo, hi, max_length, None, hint, box)  # fmt: skip
    default: Value = None
    if item.get("default") is not None:
        try:
            default = check_value(draft, item["default"])
        except FormValueInvalid as e:
            raise _invalid(source, f"{where}: default", e.message_ja, e.message_en) from None
    return Field(fid, label, str(kind), required, prefill, staff_confirm, str(by), line, choices,
                 lo, hi, max_length, default, hint, box)  # fmt: skip


def version_of(doc: Mapping[str, Any]) -> str:
    """The hash of what a definition says (12 hex digits; comments and layout of the file
    aside), so an application says which version of its form it was made on."""
    canon = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode()).hexdigest()[:12]


def parse_form(text: str, source: str = "form.yaml") -> FormDef:
    """Check and read one form's YAML. Raises :class:`FormDefinitionInvalid` naming the
    file, the field and the key."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise _invalid(source, f"line {line}", f"YAMLとして読めません({line}行目)。",
                       f"not valid YAML: {e}") from None  # fmt: skip
    if not isinstance(doc, dict):
        raise _invalid(source, "file", "「id:」「title:」「fields:」を書いてください。",
                       "the file must be a mapping with id, title and fields")  # fmt: skip
    unknown = set(doc) - FORM_KEYS
    if unknown:
        names = ", ".join(sorted(map(str, unknown)))
        raise _invalid(source, "file", f"知らない項目です: {names}。", f"unknown keys: {names}")
    fid = doc.get("id")
    if not isinstance(fid, str) or not ID.match(fid) or fid in RESERVED_IDS:
        raise _invalid(source, "id", "id は英小文字ではじまり、英小文字・数字・「-」で40字までです(applications は使えません)。",
                       "id: a lower-case letter, then letters, digits or -, at most 40 (not 'applications')")  # fmt: skip
    title = _text(doc.get("title"), source, "title", 80)
    prefix = doc.get("number_prefix")
    if not isinstance(prefix, str) or not PREFIX.match(prefix):
        raise _invalid(source, "number_prefix", "受付番号の頭は英大文字1字です(A など)。",
                       "number_prefix must be one upper-case letter")  # fmt: skip
    description = _text(doc.get("description"), source, "description", 300, required=False)
    bring_raw = doc.get("bring", [])
    if not isinstance(bring_raw, list):
        raise _invalid(
            source, "bring", "持ちものは一覧(- で始まる行)で書きます。", "bring must be a list"
        )
    bring = tuple(_text(b, source, f"bring[{i}]", 80) for i, b in enumerate(bring_raw, 1))
    raw_fields = doc.get("fields")
    if not isinstance(raw_fields, list) or not 1 <= len(raw_fields) <= MAX_FIELDS:
        raise _invalid(source, "fields", f"欄を1〜{MAX_FIELDS}こ、一覧で書いてください。",
                       f"fields must be a list of 1 to {MAX_FIELDS} fields")  # fmt: skip
    fields: list[Field] = []
    for i, item in enumerate(raw_fields, 1):
        f = _field(item, i, source)
        if any(g.id == f.id for g in fields):
            raise _invalid(source, f"fields[{i}] ({f.id}): id", "同じ id の欄が2つあります。",
                           "duplicate field id")  # fmt: skip
        clash = next((g for g in fields if g.box.overlaps(f.box)), None)
        if clash is not None:
            raise _invalid(source, f"fields[{i}] ({f.id}): pdf", f"紙の上で「{clash.label}」の欄と重なっています。",
                           f"the box overlaps the field {clash.id} on the page")  # fmt: skip
        fields.append(f)
    return FormDef(fid, title, prefix, _flag(doc.get("sample"), source, "sample"),
                   _flag(doc.get("line"), source, "line"), description, bring, tuple(fields),
                   version_of(doc), source)  # fmt: skip


def _files(folder: Path) -> list[Path]:
    where = folder / FOLDER
    if not where.is_dir():
        return []
    return sorted(p for p in where.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def parse_file(path: Path) -> FormDef:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _invalid(path.name, "file", "ファイルを読めません(UTF-8 で保存してください)。",
                       f"cannot read the file: {e}") from None  # fmt: skip
    return parse_form(text, path.name)


def check_catalog(forms: Sequence[FormDef]) -> None:
    """Forms of one area: each id and each number prefix once."""
    for i, f in enumerate(forms):
        for g in forms[:i]:
            if g.id == f.id:
                raise _invalid(f.source, "id", f"id「{f.id}」は {g.source} にもあります。",
                               f"the id {f.id} is also in {g.source}")  # fmt: skip
            if g.number_prefix == f.number_prefix:
                raise _invalid(f.source, "number_prefix", f"受付番号の頭「{f.number_prefix}」は {g.source} でも使っています。",
                               f"the number prefix {f.number_prefix} is also used by {g.source}")  # fmt: skip


def load_folder(folder: Path) -> tuple[FormDef, ...]:
    """Every form of an area folder, strictly: the first mistake raises (for checks)."""
    forms = tuple(parse_file(p) for p in _files(folder))
    check_catalog(forms)
    return forms


@dataclass(frozen=True, slots=True)
class Catalog:
    """The forms in use, in file-name order."""

    forms: tuple[FormDef, ...]

    def get(self, form_id: str) -> FormDef:
        for f in self.forms:
            if f.id == form_id:
                return f
        raise FormNotFound("その申請書はありません。", f"No form {form_id}.", form_id=form_id)

    def find(self, form_id: str) -> FormDef | None:
        return next((f for f in self.forms if f.id == form_id), None)


_last_good: dict[Path, FormDef] = {}
_lock = threading.Lock()


@lru_cache(maxsize=64)
def _load(path: Path, _mtime_ns: int, _size: int) -> FormDef:
    return parse_file(path)


def catalog(folder: Path) -> Catalog:
    """The area's forms, read again whenever staff save a file. A file saved with a mistake
    is logged and its last good version stays in use (a new file with a mistake is left
    out); a second file with the id or number prefix of an earlier one is left out too."""
    kept: list[FormDef] = []
    for path in _files(folder):
        stat = path.stat()
        try:
            form = _load(path, stat.st_mtime_ns, stat.st_size)
        except FormDefinitionInvalid as e:
            with _lock:
                good = _last_good.get(path)
            log.warning(
                "form file invalid%s: %s", ", the last good one stays in use" if good else "", e
            )
            if good is None:
                continue
            form = good
        else:
            with _lock:
                _last_good[path] = form
        try:
            check_catalog([*kept, form])
        except FormDefinitionInvalid as e:
            log.warning("form file left out: %s", e)
            continue
        kept.append(form)
    return Catalog(tuple(kept))


# -- values ---------------------------------------------------------------------------------------


def _bad(field: Field, ja: str, en: str) -> FormValueInvalid:
    return FormValueInvalid(f"「{field.label}」: {ja}", f"{field.id}: {en}", field=field.id)


def check_value(field: Field, value: Any) -> Value:
    """The value as stored, or 422 ``form_value_invalid`` saying what is expected. ``None``
    or an empty text clears the field (whether it is required is checked on completion)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field.type == "text":
        if not isinstance(value, str):
            raise _bad(field, "文字で書いてください。", "a text")
        text = " ".join(value.split()) if "\n" not in value else value.strip()
        assert field.max_length is not None
        if len(text) > field.max_length:
            raise _bad(field, f"{field.max_length}文字までにしてください({len(text)}文字あります)。",
                       f"at most {field.max_length} characters ({len(text)} given)")  # fmt: skip
        return text
    if field.type == "choice":
        if not isinstance(value, str) or value not in field.choices:
            raise _bad(field, f"次から一つ選んでください: {'、'.join(field.choices)}。",
                       f"one of {list(field.choices)}")  # fmt: skip
        return value
    if field.type == "number":
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            digits = unicodedata.normalize("NFKC", value).strip()
            number = int(digits) if re.fullmatch(r"-?\d{1,9}", digits) else None
        assert field.min is not None
        assert field.max is not None
        if number is None or not field.min <= number <= field.max:
            raise _bad(field, f"{field.min}から{field.max}までの数で書いてください。",
                       f"an integer from {field.min} to {field.max}")  # fmt: skip
        return number
    if field.type == "date":
        try:
            return date.fromisoformat(unicodedata.normalize("NFKC", str(value)).strip()).isoformat()
        except ValueError:
            raise _bad(field, "日付を 2026-12-02 のように書いてください。",
                       "a date as YYYY-MM-DD") from None  # fmt: skip
    if not isinstance(value, bool):
        raise _bad(field, "はい(true)か、いいえ(false)です。", "true or false")
    return value


def check_values(form: FormDef, values: Mapping[str, Any], by_staff: bool) -> dict[str, Value]:
    """Checked values; fields staff write (``by: staff``) only from staff (422
    ``form_field_staff_only``), an unknown field 422 ``form_value_invalid``."""
    out: dict[str, Value] = {}
    for fid, raw in values.items():
        field = form.field(fid)
        if field.by == "staff" and not by_staff:
            raise FormFieldStaffOnly(f"「{field.label}」は、窓口の係が書きます。",
                                     f"{field.id} is written by staff at the counter.",
                                     field=field.id)  # fmt: skip
        out[fid] = check_value(field, raw)
    return out


def record_values(form: FormDef, resident: rm.Resident) -> dict[str, Value]:
    """What the resident's record says for the form's pre-filled fields (empty ones left
    out). Only called with the resident's consent."""
    attrs: dict[str, Value] = {"name": resident.name, "kana": resident.kana,
                               "address": resident.address, "phone": resident.phone,
                               "birth_year": resident.birth_year}  # fmt: skip
    out: dict[str, Value] = {}
    for f in form.prefill_fields:
        assert f.prefill is not None
        try:
            value = check_value(f, attrs[f.prefill])
        except FormValueInvalid:  # the record does not fit the field (too long): left to staff
            continue
        if value is not None:
            out[f.id] = value
    return out


def missing(form: FormDef, values: Mapping[str, Any]) -> list[str]:
    """Required fields without a value (a required check field must be ticked)."""
    return [f.id for f in form.fields if f.required and values.get(f.id) in (None, "", False)]


def unconfirmed(form: FormDef, values: Mapping[str, Any], confirmed: Iterable[str]) -> list[str]:
    """Fields staff must confirm at the counter that have a value and are not ticked."""
    done = set(confirmed)
    return [f.id for f in form.fields
            if f.staff_confirm and values.get(f.id) is not None and f.id not in done]  # fmt: skip


# -- numbers ----------------------------------------------------------------------------------------


def take_number(session: Session, name: str) -> int:
    """The next value of a named counter, under a row lock held until the transaction ends:
    a number is never handed out twice (a transaction rolled back gives its number back)."""
    query = (select(TownCounter).where(TownCounter.name == name).with_for_update()
             .execution_options(populate_existing=True))  # fmt: skip
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(TownCounter(name=name, value=0))
        except IntegrityError:  # another transaction made it first (and has committed)
            pass
        row = session.scalar(query)
        assert row is not None
    row.value += 1
    session.flush()
    return row.value


def next_number(session: Session, form: FormDef, now: datetime, tz: tzinfo) -> str:
    """「A26-0001」: the form's prefix, the year (in the town's time), a count per year."""
    year = now.astimezone(tz).year
    n = take_number(session, f"form:{form.number_prefix}:{year}")
    return f"{form.number_prefix}{year % 100:02d}-{n:04d}"


def plain_number(text: str) -> str:
    """A number as typed, for finding it: width, case, spaces and hyphens aside."""
    t = unicodedata.normalize("NFKC", text).upper()
    return "".join(ch for ch in t if ch.isalnum())


# -- applications ----------------------------------------------------------------------------------


def _resident(session: Session, actor: Actor, resident_id: str) -> rm.Resident:
    r = people.get_resident(session, actor, resident_id)
    if r.closed_at is not None:
        raise ResidentClosed("退会された方の申請は作れません。", "This resident's account is closed.",
                             resident_id=resident_id)  # fmt: skip
    return r


def create(
    session: Session, actor: Actor, form: FormDef, resident_id: str, values: Mapping[str, Any],
    prefill: bool, channel: str, now: datetime, tz: tzinfo,
) -> FormApplication:  # fmt: skip
    """An application on ``form`` for a resident: by the resident themselves (a
    pre-application, ``pre_applied``) or by staff at the counter (``in_review``). The
    form's defaults, then ``values``; with ``prefill`` (the resident agreed) the record
    fills the pre-filled fields not given. Audited (the pre-filling apart, with who
    recorded the consent)."""
    if actor.is_staff:
        people.require_staff(actor, *STAFF)
    elif actor.id != resident_id:
        raise Forbidden("ご自身の申請だけができます。", "Residents apply for themselves only.")
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    resident = _resident(session, actor, resident_id)
    given = {k: v for k, v in check_values(form, values, actor.is_staff).items() if v is not None}
    filled: dict[str, Value] = {f.id: f.default for f in form.fields if f.default is not None}
    filled.update(given)
    prefilled: list[str] = []
    if prefill:
        from_record = {k: v for k, v in record_values(form, resident).items() if k not in given}
        filled.update(from_record)
        prefilled = [f.id for f in form.fields if f.id in from_record]
    row = FormApplication(
        id=new_id("F"), form_id=form.id, form_version=form.version,
        number=next_number(session, form, now, tz), resident_id=resident.id,
        status="in_review" if actor.is_staff else "pre_applied",
        values={f.id: filled[f.id] for f in form.fields if f.id in filled},
        prefilled=prefilled, prefill_consent_at=now if prefill else None, confirmed=[],
        channel=channel, created_by=actor.id, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    people.audit(session, actor, "town.form.create", resident_id=resident.id, application=row.id,
                 form=form.id, number=row.number, channel=channel)  # fmt: skip
    if prefill:
        people.audit(session, actor, "town.form.prefill", resident_id=resident.id,
                     application=row.id, consent=True, fields=prefilled)  # fmt: skip
    return row


def get(session: Session, application_id: str) -> FormApplication:
    row = session.get(FormApplication, application_id[:24])
    if row is None:
        raise ApplicationNotFound("その申請は見つかりません。", f"No application {application_id}.",
                                  application_id=application_id)  # fmt: skip
    return row


def read(session: Session, actor: Actor, application_id: str) -> FormApplication:
    """An application, for staff or for its own resident (404 for anyone else)."""
    if actor.is_staff:
        people.require_staff(actor, *STAFF)
    row = get(session, application_id)
    if not actor.is_staff and row.resident_id != actor.id:
        raise ApplicationNotFound("その申請は見つかりません。", f"No application {application_id}.",
                                  application_id=application_id)  # fmt: skip
    return row


def _open(row: FormApplication) -> None:
    if row.status not in OPEN:
        state = "完了" if row.status == "completed" else "取り消し"
        raise ApplicationClosed(f"この申請({row.number})は{state}になっています。もう変えられません。",
                                f"Application {row.number} is {row.status}; it no longer changes.",
                                status=row.status)  # fmt: skip


def update(
    session: Session, actor: Actor, catalog: Catalog, application_id: str,
    now: datetime, values: Mapping[str, Any] | None = None,
    confirm: Mapping[str, bool] | None = None, prefill: bool = False,
) -> FormApplication:  # fmt: skip
    """Staff at the counter change values, tick (or untick) the fields they confirmed,
    and, with ``prefill`` once the resident agreed there, fill the empty pre-filled fields
    from the record. A value changed loses its tick and its 「登録から」 mark. A
    pre-application becomes ``in_review``. 409 ``form_application_closed`` once completed
    or cancelled. Audited with the fields changed (not their values)."""
    people.require_staff(actor, *STAFF)
    row = get(session, application_id)
    _open(row)
    form = catalog.get(row.form_id)
    current: dict[str, Any] = dict(row.values)
    prefilled = list(row.prefilled)
    confirmed = set(row.confirmed)
    changed: list[str] = []
    for fid, value in check_values(form, values or {}, by_staff=True).items():
        if current.get(fid) == value:
            continue
        changed.append(fid)
        if value is None:
            current.pop(fid, None)
        else:
            current[fid] = value
        prefilled = [p for p in prefilled if p != fid]
        confirmed.discard(fid)
    filled: list[str] = []
    consented = prefill and row.prefill_consent_at is None
    if consented:
        resident = _resident(session, actor, row.resident_id)
        for fid, value in record_values(form, resident).items():
            if current.get(fid) is None:
                current[fid] = value
                filled.append(fid)
        prefilled += filled
        row.prefill_consent_at = now
    ticked, unticked = [], []
    for fid, on in (confirm or {}).items():
        field = form.field(fid)
        if not field.staff_confirm:
            raise FormValueInvalid(f"「{field.label}」は、確認の印を付ける欄ではありません。",
                                   f"{fid} is not a field staff confirm.", field=fid)  # fmt: skip
        if on and current.get(fid) is None:
            raise FormValueInvalid(f"「{field.label}」が空です。書いてから確認してください。",
                                   f"{fid} is empty: fill it before confirming.", field=fid)  # fmt: skip
        if on and fid not in confirmed:
            confirmed.add(fid)
            ticked.append(fid)
        elif not on and fid in confirmed:
            confirmed.discard(fid)
            unticked.append(fid)
    row.values = {f.id: current[f.id] for f in form.fields if f.id in current}
    row.prefilled = [f.id for f in form.fields if f.id in prefilled]
    row.confirmed = [f.id for f in form.fields if f.id in confirmed]
    row.updated_at = now
    before = row.status
    row.status = "in_review"
    session.flush()
    people.audit(session, actor, "town.form.update", resident_id=row.resident_id,
                 application=row.id, number=row.number, changed=changed, confirmed=ticked,
                 unconfirmed=unticked, status_before=before)  # fmt: skip
    if consented:
        people.audit(session, actor, "town.form.prefill", resident_id=row.resident_id,
                     application=row.id, consent=True, fields=filled)  # fmt: skip
    return row


def complete(
    session: Session, actor: Actor, catalog: Catalog, application_id: str, now: datetime
) -> FormApplication:
    """Staff finish the application: every required field has a value and every field to
    confirm is ticked, else 409 ``form_incomplete`` with the ``missing`` and
    ``unconfirmed`` field ids (and their labels). Completing again changes nothing."""
    people.require_staff(actor, *STAFF)
    row = get(session, application_id)
    if row.status == "completed":
        return row
    _open(row)
    form = catalog.get(row.form_id)
    left, unticked = missing(form, row.values), unconfirmed(form, row.values, row.confirmed)
    if left or unticked:
        labels = [form.field(f).label for f in left]
        checks = [form.field(f).label for f in unticked]
        parts_ja = ([f"まだ書いていない欄: {'、'.join(labels)}"] if labels else []) + (
            [f"確認の印がない欄: {'、'.join(checks)}"] if checks else [])  # fmt: skip
        raise FormIncomplete("完了にできません。" + "。".join(parts_ja) + "。",
                             f"Not complete: missing {left}, not confirmed {unticked}.",
                             missing=left, unconfirmed=unticked)  # fmt: skip
    row.status, row.completed_at, row.completed_by, row.updated_at = "completed", now, actor.id, now
    session.flush()
    people.audit(session, actor, "town.form.complete", resident_id=row.resident_id,
                 application=row.id, number=row.number, form=row.form_id)  # fmt: skip
    return row


def cancel(session: Session, actor: Actor, application_id: str, now: datetime) -> FormApplication:
    """Cancel: staff any open application, the resident their own while it is still a
    pre-application (at the counter, staff do it). Cancelling again changes nothing; a
    completed application 409 ``form_application_closed``."""
    row = read(session, actor, application_id)
    if row.status == "cancelled":
        return row
    _open(row)
    if not actor.is_staff and row.status != "pre_applied":
        raise ApplicationClosed("この申請は窓口で手続き中です。取り消しは窓口の係にお伝えください。",
                                "This application is being handled at the counter; ask staff there.",
                                status=row.status)  # fmt: skip
    row.status, row.updated_at = "cancelled", now
    session.flush()
    people.audit(session, actor, "town.form.cancel", resident_id=row.resident_id,
                 application=row.id, number=row.number)  # fmt: skip
    return row


def listing(
    session: Session, actor: Actor, tz: tzinfo, number: str | None = None,
    status: str | None = None, day: date | None = None, resident_id: str | None = None,
    limit: int = 100,
) -> list[FormApplication]:  # fmt: skip
    """Applications for staff, newest first: by 受付番号 (as typed: 「a26 1」 finds
    「A26-0001」… any part), status, the day made (the town's day) or resident. Audited."""
    people.require_staff(actor, *STAFF)
    q = select(FormApplication)
    if number:
        plain = plain_number(number)
        if not plain:
            raise InvalidInput("受付番号を入れてください。", "Enter a number to search for.")
        q = q.where(func.replace(FormApplication.number, "-", "").contains(plain, autoescape=True))
    if status:
        if status not in STATUSES:
            raise InvalidInput(f"状態は {'、'.join(STATUSES)} のどれかです。",
                               f"status must be one of {', '.join(STATUSES)}.")  # fmt: skip
        q = q.where(FormApplication.status == status)
    if day is not None:
        start = datetime.combine(day, time(0), tz)
        q = q.where(FormApplication.created_at >= start,
                    FormApplication.created_at < start + timedelta(days=1))  # fmt: skip
    if resident_id:
        q = q.where(FormApplication.resident_id == resident_id)
    rows = list(session.scalars(q.order_by(FormApplication.created_at.desc(),
                                           FormApplication.number.desc()).limit(limit)))  # fmt: skip
    people.audit(session, actor, "town.form.list", number=number, status=status,
                 day=day.isoformat() if day else None, resident=resident_id, found=len(rows))  # fmt: skip
    return rows


def mine(session: Session, actor: Actor) -> list[FormApplication]:
    """The resident's own applications, newest first."""
    if actor.kind != "resident":
        raise Forbidden("住民の方のログインで開いてください。",
                        "This is for residents: sign in with a resident's token.")  # fmt: skip
    return list(session.scalars(select(FormApplication).where(FormApplication.resident_id == actor.id)
                                .order_by(FormApplication.created_at.desc()).limit(50)))  # fmt: skip


def names_of(session: Session, resident_ids: Iterable[str]) -> dict[str, str]:
    ids = set(resident_ids)
    if not ids:
        return {}
    rows = session.execute(select(rm.Resident.id, rm.Resident.name).where(rm.Resident.id.in_(ids)))
    return {row.id: row.name for row in rows}


def audit_print(session: Session, actor: Actor, row: FormApplication) -> None:
    people.audit(session, actor, "town.form.print", resident_id=row.resident_id,
                 application=row.id, number=row.number)  # fmt: skip
