"""The FAQ bot's core: the town's question-and-answer file, a retriever, tickets and misses.

The town keeps its questions and answers in one file (``areas/<area>/faq.yaml``, or a CSV
with the same columns). Each entry has an id, a question, a few other ways to ask it and
an answer; an answer may name facts of the bus (``{weekday_hours}``, ``{fare_adult}``,
``{phone}`` ...) that the caller fills from the live configuration (``facts``), so an
answer never disagrees with the service and this package never reads the bus's config.

A question is answered with the entry whose phrasings are closest to it, if its score
(0..1) reaches the method's threshold; otherwise there is no answer, the question is
recorded as a *miss* for staff, and the resident may hand it to staff as a *ticket*
(「担当者につなぐ」). The retrieval method and its threshold were chosen by measurement on
a held-out set of phrasings written the way residents type (``drt bench faq``,
``benchmarks/faq/kurate-heldout.yaml``, docs/benchmarks.md "Faq").
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from rapidfuzz import fuzz
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import DrtError, InvalidInput, NotFound
from common.ids import new_id
from common.japanese import fold, hiragana
from residents.service import Actor, audit
from routing.readings import sudachi
from town.models import FaqMiss, FaqTicket

log = logging.getLogger(__name__)

FILE_NAMES = ("faq.yaml", "faq.yml", "faq.csv")  # looked for in this order in the area folder
#: The facts an answer may name; the caller fills them (``core.guide.faq_facts``).
PLACEHOLDERS = frozenset({
    "service", "town", "phone", "town_phone", "hours", "weekday_hours", "weekend_hours",
    "closed_days", "fares", "fare_adult", "fare_child", "fare_disability", "fare_preschool",
    "how_to_book", "book_ahead_days", "cancel_before_min", "no_show_limit",
    "no_show_window_days", "no_show_wait_min", "wheelchair_vehicles",
})  # fmt: skip
ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FIELD = re.compile(r"\{([^{}]*)\}")
KEYS = {"id", "question", "alternates", "answer", "category"}
MAX_QUESTION = 200  # characters of a phrasing in the file, and of a question asked
MAX_ANSWER = 1000  # characters of an answer (LINE allows 5,000 in a text; residents read less)
MAX_TICKET = 500  # characters of a ticket's question (the column)
MAX_NOTE = 1000
MAX_MISSES_PER_DAY = 500  # a public endpoint records misses: at most this many a day
MISSING_FACT = "(係にお問い合わせください)"


class FaqFileInvalid(DrtError):
    """The question-and-answer file is not as it should be (names the file, entry and key)."""

    code = "faq_file_invalid"
    http_status = 422


class FaqUnavailable(DrtError):
    """The area has no question-and-answer file (or only a broken one)."""

    code = "faq_unavailable"
    http_status = 503


class TicketNotFound(NotFound):
    code = "faq_ticket_not_found"


# -- the file --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One question and its answer; ``phrasings`` are the question first, then the others."""

    id: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    category: str = ""

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.question, *self.alternates)


def _invalid(source: str, where: str, ja: str, en: str) -> FaqFileInvalid:
    return FaqFileInvalid(f"{source} の {where}: {ja}", f"{source}, {where}: {en}",
                          file=source, where=where)  # fmt: skip


def parse_yaml(text: str, source: str = "faq.yaml") -> tuple[Entry, ...]:
    """Check and read the YAML file: ``entries:`` a list of {id, question, alternates,
    answer, category}. Raises :class:`FaqFileInvalid` naming the entry and the key."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"{mark.line + 1}行目" if mark is not None else "どこか"
        raise _invalid(source, f"line {mark.line + 1 if mark else '?'}",
                       f"YAMLとして読めません({line})。", f"not valid YAML: {e}") from None  # fmt: skip
    if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
        raise _invalid(source, "entries", "「entries:」の下に質問の一覧を書いてください。",
                       "the file must be a mapping with a list under 'entries'")  # fmt: skip
    return _entries(doc["entries"], source)


def parse_csv(text: str, source: str = "faq.csv") -> tuple[Entry, ...]:
    """Check and read the CSV file: columns id, question, alternates (separated by 「|」),
    answer, category (optional); the same checks as the YAML file."""
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    header = set(rows[0]) if rows else set()
    if not {"id", "question", "answer"} <= header:
        raise _invalid(source, "line 1", "見出しの行に id, question, answer が必要です。",
                       "the header must name id, question and answer")  # fmt: skip
    raw = [
        {
            "id": r.get("id") or "",
            "question": r.get("question") or "",
            "alternates": [a for a in (r.get("alternates") or "").split("|") if a.strip()],
            "answer": (r.get("answer") or "").replace("\\n", "\n"),
            "category": r.get("category") or "",
        }
        for r in rows
    ]
    return _entries(raw, source)


def _entries(items: list[Any], source: str) -> tuple[Entry, ...]:
    out: list[Entry] = []
    seen: dict[str, str] = {}  # folded phrasing -> the entry it belongs to
    for i, item in enumerate(items, start=1):
        where = f"entry {i}"
        if not isinstance(item, dict):
            raise _invalid(source, where, "質問は「id:」「question:」「answer:」の組で書きます。",
                           "an entry must be a mapping")  # fmt: skip
        eid = item.get("id")
        if isinstance(eid, str):
            where = f"entry {i} ({eid})"
        unknown = set(item) - KEYS
        if unknown:
            raise _invalid(source, where, f"知らない項目です: {', '.join(sorted(map(str, unknown)))}。",
                           f"unknown keys: {', '.join(sorted(map(str, unknown)))}")  # fmt: skip
        if not isinstance(eid, str) or not ID.match(eid):
            raise _invalid(source, f"{where}: id", "id は英小文字・数字・「-」で40字までです。",
                           "id: lower-case letters, digits, - or _, at most 40")  # fmt: skip
        if any(e.id == eid for e in out):
            raise _invalid(source, f"{where}: id", "同じ id が2回あります。", "duplicate id")
        question = _text(item.get("question"), source, f"{where}: question", MAX_QUESTION)
        alternates_raw = item.get("alternates", [])
        if not isinstance(alternates_raw, list):
            raise _invalid(source, f"{where}: alternates", "言いかえは一覧(- で始まる行)で書きます。",
                           "alternates must be a list of strings")  # fmt: skip
        alternates = tuple(_text(a, source, f"{where}: alternates[{j}]", MAX_QUESTION)
                           for j, a in enumerate(alternates_raw, start=1))  # fmt: skip
        answer = _text(item.get("answer"), source, f"{where}: answer", MAX_ANSWER)
        _check_fields(answer, source, f"{where}: answer")
        category = item.get("category", "") or ""
        if not isinstance(category, str) or len(category) > 40:
            raise _invalid(source, f"{where}: category", "分類は40字までの文字です。",
                           "category must be a string of at most 40 characters")  # fmt: skip
        for phrasing in (question, *alternates):
            key = fold(phrasing)
            if key in seen:
                raise _invalid(source, where, f"「{phrasing}」は {seen[key]} にもあります(どちらか一つに)。",
                               f"the phrasing {phrasing!r} is also in {seen[key]}")  # fmt: skip
            seen[key] = eid
        out.append(Entry(eid, question, alternates, answer, category.strip()))
    if not out:
        raise _invalid(source, "entries", "質問が一つもありません。", "no entries")
    return tuple(out)


def _text(value: Any, source: str, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _invalid(
            source, where, "文字を書いてください(空です)。", "must be a non-empty string"
        )
    text = value.strip()
    if len(text) > limit:
        raise _invalid(source, where, f"{limit}字までにしてください({len(text)}字あります)。",
                       f"at most {limit} characters (it has {len(text)})")  # fmt: skip
    return text


def _check_fields(answer: str, source: str, where: str) -> None:
    for name in FIELD.findall(answer):
        if name not in PLACEHOLDERS:
            raise _invalid(source, where, f"{{{name}}} は使えません。使えるのは: {', '.join(sorted(PLACEHOLDERS))}。",
                           f"unknown placeholder {{{name}}}; known: {', '.join(sorted(PLACEHOLDERS))}")  # fmt: skip
    if "{" in FIELD.sub("", answer) or "}" in FIELD.sub("", answer):
        raise _invalid(source, where, "「{」と「}」は {phone} のような組でだけ使えます。",
                       "braces only around a placeholder, e.g. {phone}")  # fmt: skip


def parse_file(path: Path) -> tuple[Entry, ...]:
    """The entries of a YAML or CSV file (by its suffix)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _invalid(path.name, "file", "ファイルを読めません(UTF-8 で保存してください)。",
                       f"cannot read the file: {e}") from None  # fmt: skip
    if path.suffix.lower() == ".csv":
        return parse_csv(text, path.name)
    return parse_yaml(text, path.name)


def fill(answer: str, facts: Mapping[str, str]) -> str:
    """The answer with its placeholders filled from ``facts`` (a fact the caller did not
    give reads 「(係にお問い合わせください)」, never a brace)."""
    return FIELD.sub(lambda m: facts.get(m.group(1), MISSING_FACT), answer)


# -- retrieval ---------------------------------------------------------------------------------


# Split mode A (the shortest units), so 「予約取り消し」 meets 「予約を取り消す」.
_FUNCTION_POS = ("助詞", "助動詞", "補助記号", "空白", "記号")


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()[:MAX_QUESTION]


def content_words(text: str) -> list[str]:
    """The words that carry meaning (particles, auxiliaries and symbols left out), each as
    its dictionary form (乗れ → 乗る, いくら → 幾ら), folded."""
    out = []
    for m in sudachi("A").tokenize(_clean(text)):
        if m.part_of_speech()[0] not in _FUNCTION_POS:
            word = fold(m.normalized_form())
            if word:
                out.append(word)
    return out


def reading(text: str) -> str:
    """The whole text as it is read, in hiragana, symbols left out (料金 → りょうきん; kana
    as typed), so a question typed in kana meets one written in kanji."""
    parts = []
    for m in sudachi("A").tokenize(_clean(text)):
        if m.part_of_speech()[0] in ("補助記号", "空白", "記号"):
            continue
        surface = m.surface()
        r = m.reading_form()
        parts.append(surface if not r or r == "キゴウ" else r)
    return fold(hiragana("".join(parts)))


def kana_bigrams(text: str) -> list[str]:
    """Overlapping pairs of characters of the reading (りょうきん → りょ, ょう, うき, きん):
    a misspelt or oddly split word still shares most of its pairs."""
    r = reading(text)
    return [r[i : i + 2] for i in range(len(r) - 1)] or ([r] if r else [])


class Retriever(Protocol):
    """Scores every entry for a question: 0 (nothing in common) .. 1 (the same)."""

    def scores(self, question: str) -> list[tuple[Entry, float]]: ...


class BM25:
    """Okapi BM25 over an entry's phrasings taken together as one document, terms from
    ``terms`` (words, or kana pairs). The score is normalised by the most a question's
    terms could score (each term's idf times k1 + 1), so it lies in 0..1 whatever the
    question's length, and a question of words the file does not know scores low."""

    def __init__(self, entries: Sequence[Entry], terms: Callable[[str], list[str]],
                 k1: float = 1.2, b: float = 0.75) -> None:  # fmt: skip
        self.entries, self.terms, self.k1, self.b = tuple(entries), terms, k1, b
        self.docs = [Counter(t for p in e.phrasings for t in terms(p)) for e in self.entries]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / max(1, len(self.docs))
        n = len(self.docs)
        df = Counter(t for d in self.docs for t in d)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)

    def scores(self, question: str) -> list[tuple[Entry, float]]:
        query = self.terms(question)
        if not query:
            return [(e, 0.0) for e in self.entries]
        best = sum(self.idf.get(t, self.unknown_idf) * (self.k1 + 1) for t in query)
        out = []
        for e, doc, length in zip(self.entries, self.docs, self.lengths, strict=True):
            s = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / self.avg)
            for t in query:
                tf = doc.get(t, 0)
                if tf:
                    s += self.idf[t] * tf * (self.k1 + 1) / (tf + norm)
            out.append((e, s / best))
        return out


class Fuzzy:
    """Character similarity (rapidfuzz ``WRatio``, 0..100 scaled to 0..1) of the question
    to each phrasing, the best phrasing of an entry counting; ``key`` turns a text into what
    is compared (folded text, or its reading)."""

    def __init__(self, entries: Sequence[Entry], key: Callable[[str], str]) -> None:
        self.entries, self.key = tuple(entries), key
        self.keys = [[key(p) for p in e.phrasings] for e in self.entries]

    def scores(self, question: str) -> list[tuple[Entry, float]]:
        q = self.key(question)
        if not q:
            return [(e, 0.0) for e in self.entries]
        return [(e, max(fuzz.WRatio(q, k) for k in keys) / 100)
                for e, keys in zip(self.entries, self.keys, strict=True)]  # fmt: skip


class Blend:
    """The mean of several retrievers' scores."""

    def __init__(self, *parts: Retriever) -> None:
        self.parts = parts

    def scores(self, question: str) -> list[tuple[Entry, float]]:
        each = [p.scores(question) for p in self.parts]
        return [
            (rows[0][0], sum(r[1] for r in rows) / len(rows)) for rows in zip(*each, strict=True)
        ]


def _fold_clean(text: str) -> str:
    return fold(_clean(text))


#: The methods ``drt bench faq`` measures (name -> builder). The shipped default is the
#: one with the best overall accuracy on the held-out set, at its measured threshold.
METHODS: dict[str, Callable[[Sequence[Entry]], Retriever]] = {
    "bm25-words": lambda es: BM25(es, content_words),
    "bm25-kana-pairs": lambda es: BM25(es, kana_bigrams),
    "fuzzy-chars": lambda es: Fuzzy(es, _fold_clean),
    "fuzzy-kana": lambda es: Fuzzy(es, reading),
    "bm25-words+kana-pairs": lambda es: Blend(BM25(es, content_words), BM25(es, kana_bigrams)),
    "bm25-words+kana-pairs+fuzzy-kana": lambda es: Blend(
        BM25(es, content_words), BM25(es, kana_bigrams), Fuzzy(es, reading)
    ),
}
#: Each method's threshold: the one with the best overall accuracy (right answers plus right
#: refusals) on the held-out set, by ``drt bench faq``; a question scoring below is not
#: answered. Chosen on the set it is measured on, so the bench also reports a two-fold figure.
THRESHOLDS: dict[str, float] = {
    "bm25-words": 0.11,
    "bm25-kana-pairs": 0.15,
    "fuzzy-chars": 0.44,
    "fuzzy-kana": 0.52,
    "bm25-words+kana-pairs": 0.13,
    "bm25-words+kana-pairs+fuzzy-kana": 0.25,
}
DEFAULT_METHOD = "bm25-words+kana-pairs"
SURE_MARGIN = 0.10  # an answer scoring less than threshold + this also offers staff at once


@dataclass(frozen=True, slots=True)
class Answer:
    entry: Entry
    score: float
    text: str  # the answer, facts filled in
    sure: bool  # well above the threshold (else staff hand-over is suggested with it)


class Faq:
    """The town's entries with a retriever: ``answer(question, facts)``."""

    def __init__(self, entries: Sequence[Entry], method: str = DEFAULT_METHOD,
                 threshold: float | None = None) -> None:  # fmt: skip
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        self.entries = tuple(entries)
        self.method = method
        self.threshold = THRESHOLDS[method] if threshold is None else threshold
        self.retriever = METHODS[method](self.entries)

    def ranked(self, question: str) -> list[tuple[Entry, float]]:
        """Every entry with its score, best first (ties: file order)."""
        if not _clean(question):
            return [(e, 0.0) for e in self.entries]
        rows = self.retriever.scores(question)
        return sorted(rows, key=lambda r: -r[1])

    def answer(self, question: str, facts: Mapping[str, str]) -> Answer | None:
        """The best entry for ``question`` with its answer filled from ``facts``, or None
        when no entry scores at least the threshold."""
        entry, score = self.ranked(question)[0]
        if score < self.threshold:
            return None
        return Answer(entry, round(score, 4), fill(entry.answer, facts),
                      score >= self.threshold + SURE_MARGIN)  # fmt: skip


def area_file(folder: Path) -> Path | None:
    """The question-and-answer file of an area folder, or None."""
    return next((folder / n for n in FILE_NAMES if (folder / n).is_file()), None)


_last_good: dict[Path, Faq] = {}
_lock = threading.Lock()


def for_area(folder: Path) -> Faq:
    """The area's FAQ, read again whenever staff save the file. A file saved with a mistake
    is logged and the last good one stays in use (the bot keeps answering); with no good
    file at all, :class:`FaqUnavailable`."""
    path = area_file(folder)
    if path is None:
        raise FaqUnavailable(
            "よくある質問のファイルがありません(faq.yaml)。",
            f"No question-and-answer file (faq.yaml) in {folder.name}.",
        )
    stat = path.stat()
    try:
        faq = _load(path, stat.st_mtime_ns, stat.st_size)
    except FaqFileInvalid as e:
        with _lock:
            good = _last_good.get(path)
        if good is None:
            raise FaqUnavailable(e.message_ja, e.message_en, **e.details) from None
        log.warning("faq file invalid, the last good one stays in use: %s", e)
        return good
    with _lock:
        _last_good[path] = faq
    return faq


@lru_cache(maxsize=8)
def _load(path: Path, _mtime_ns: int, _size: int) -> Faq:
    return Faq(parse_file(path))


# -- misses: questions with no answer, listed for staff ---------------------------------------------

_DIGITS = re.compile(r"\d{4,}")


def clean_question(text: str, limit: int) -> str:
    """A question as stored: NFKC, spaces squeezed, runs of four or more digits masked (a
    phone number typed into the chat is not kept), at most ``limit`` characters."""
    t = " ".join(unicodedata.normalize("NFKC", text).split())
    return _DIGITS.sub(lambda m: "*" * len(m.group()), t)[:limit]


def record_miss(session: Session, question: str, channel: str, now: datetime) -> bool:
    """Note a question the bot could not answer (does not commit). The same text (folded:
    width, kana and spaces aside) is noted at most once in 24 hours, so a list of misses
    counts the days it was asked, not how often one person retried; a text of digits only
    (a phone number or a code) is not noted; at most ``MAX_MISSES_PER_DAY`` a day. True
    when noted."""
    text = clean_question(question, MAX_QUESTION)
    if not fold(text).strip("*") or fold(text).replace("*", "").isdigit():
        return False
    since = now - timedelta(days=1)
    recent = session.scalars(select(FaqMiss.question).where(FaqMiss.asked_at > since)).all()
    if len(recent) >= MAX_MISSES_PER_DAY or any(fold(q) == fold(text) for q in recent):
        return False
    session.add(FaqMiss(question=text, channel=channel[:16], asked_at=now))
    session.flush()
    return True


@dataclass(frozen=True, slots=True)
class MissGroup:
    question: str
    count: int  # on how many days (24-hour spells) it was asked
    first_at: datetime
    last_at: datetime
    channels: tuple[str, ...]


def list_misses(
    session: Session, since: datetime | None = None, limit: int = 200
) -> list[MissGroup]:
    """Unanswered questions, the same text (folded) together, most asked first."""
    q = select(FaqMiss).order_by(FaqMiss.asked_at)
    if since is not None:
        q = q.where(FaqMiss.asked_at >= since)
    groups: dict[str, list[FaqMiss]] = {}
    for row in session.scalars(q):
        groups.setdefault(fold(row.question), []).append(row)
    out = [MissGroup(rows[-1].question, len(rows), rows[0].asked_at, rows[-1].asked_at,
                     tuple(sorted({r.channel for r in rows})))
           for rows in groups.values()]  # fmt: skip
    out.sort(key=lambda g: (-g.count, -g.last_at.timestamp()))
    return out[:limit]


def count_misses(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(FaqMiss)) or 0


# -- tickets: questions handed to staff --------------------------------------------------------------

CHANNELS = ("line", "app", "phone", "web")


def create_ticket(
    session: Session,
    question: str,
    channel: str,
    now: datetime,
    *,
    resident_id: str | None = None,
    line_user_id: str | None = None,
    by: Actor | None = None,
) -> FaqTicket:
    """A question handed to staff, open until they close it (does not commit). ``by``: the
    staff member who filed it on a resident's behalf (audited)."""
    text = " ".join(unicodedata.normalize("NFKC", question).split())[:MAX_TICKET]
    if not text:
        raise InvalidInput("質問を書いてください。", "The question is empty.", field="question")
    if channel not in CHANNELS:
        raise InvalidInput(f"channel は {', '.join(CHANNELS)} のどれかです。",
                           f"channel must be one of {', '.join(CHANNELS)}.", field="channel")  # fmt: skip
    ticket = FaqTicket(id=new_id("Q"), question=text, resident_id=resident_id,
                       line_user_id=line_user_id, channel=channel, status="open",
                       created_at=now, note="")  # fmt: skip
    session.add(ticket)
    session.flush()
    if by is not None:
        audit(session, by, "faq_ticket_create", resident_id=resident_id, ticket=ticket.id)
    return ticket


def list_tickets(
    session: Session, status: str | None = "open", limit: int = 200
) -> list[FaqTicket]:
    """Tickets, oldest first (the one waiting longest on top); ``status`` open, closed or
    None for both."""
    q = select(FaqTicket).order_by(FaqTicket.created_at, FaqTicket.id).limit(limit)
    if status is not None:
        q = q.where(FaqTicket.status == status)
    return list(session.scalars(q))


def close_ticket(
    session: Session, actor: Actor, ticket_id: str, note: str, now: datetime
) -> FaqTicket:
    """Close a ticket with staff's note (audited; does not commit). Closing a closed ticket
    changes nothing and returns it as it is (a retried click is safe)."""
    ticket = session.get(FaqTicket, ticket_id, with_for_update=True)
    if ticket is None:
        raise TicketNotFound("その問い合わせは見つかりません。", f"No ticket {ticket_id}.",
                             ticket_id=ticket_id)  # fmt: skip
    if ticket.status == "closed":
        return ticket
    ticket.status, ticket.closed_at, ticket.closed_by = "closed", now, actor.id
    ticket.note = note.strip()[:MAX_NOTE]
    session.flush()
    audit(session, actor, "faq_ticket_close", resident_id=ticket.resident_id, ticket=ticket.id)
    return ticket
