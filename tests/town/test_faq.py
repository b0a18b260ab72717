"""The FAQ bot's core (town/faq.py): the shipped question-and-answer file and the held-out
set, retrieval (kana typed for kanji, refusals), the file's checks with errors that name the
entry and key, reloading when staff save the file, misses (deduplicated, digits masked) and
tickets (closing is idempotent and audited)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import InvalidInput
from common.japanese import fold
from residents.models import AuditEntry
from residents.service import Actor
from server.migrate import upgrade
from tests.harness import IsolatedDatabase
from town import faq as qa

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "areas" / "kurate" / "faq.yaml"
HELDOUT = ROOT / "benchmarks" / "faq" / "kurate-heldout.yaml"
FACTS = {name: f"<{name}>" for name in qa.PLACEHOLDERS}
T0 = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
STAFF = Actor("staff", "S-op", "operator")


@pytest.fixture(scope="module")
def bot() -> qa.Faq:
    return qa.Faq(qa.parse_file(FILE))


def _cases() -> list[dict[str, str]]:
    cases: list[dict[str, str]] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["cases"]
    return cases


# -- the shipped file and the held-out set ------------------------------------------------------


def test_the_shipped_file_covers_the_bus_and_the_town() -> None:
    entries = qa.parse_file(FILE)
    assert 30 <= len(entries) <= 40
    ids = {e.id for e in entries}
    for wanted in ("bus-hours", "bus-fare", "bus-book-line", "bus-book-phone", "bus-cancel",
                   "bus-wheelchair", "bus-no-show", "bus-register", "town-garbage-days",
                   "town-stop-notices", "town-hall-phone"):  # fmt: skip
        assert wanted in ids
    assert all(e.alternates for e in entries)
    text = FILE.read_text(encoding="utf-8")
    assert "町の担当者が確かめるまでは" in text.split("entries:")[0]  # the header says so


def test_every_answer_is_filled_without_a_brace_left() -> None:
    for e in qa.parse_file(FILE):
        filled = qa.fill(e.answer, FACTS)
        assert "{" not in filled, e.id
        assert "}" not in filled, e.id
    hours = next(e for e in qa.parse_file(FILE) if e.id == "bus-hours")
    assert "<hours>" in qa.fill(hours.answer, FACTS)
    assert qa.fill("電話: {phone}", {}) == f"電話: {qa.MISSING_FACT}"


def test_the_heldout_set_is_big_enough_and_names_real_entries() -> None:
    cases = _cases()
    ids = {e.id for e in qa.parse_file(FILE)}
    assert len(cases) >= 60
    assert sum(1 for c in cases if c["expect"] == "none") >= 10
    assert {c["expect"] for c in cases} - {"none"} <= ids
    assert len({fold(c["q"]) for c in cases}) == len(cases)  # no case twice


def test_no_heldout_phrasing_is_a_phrasing_of_the_file() -> None:
    phrasings = {fold(p) for e in qa.parse_file(FILE) for p in e.phrasings}
    copies = [c["q"] for c in _cases() if fold(c["q"]) in phrasings]
    assert copies == []


# -- retrieval ----------------------------------------------------------------------------------


def test_a_question_typed_in_kana_meets_the_entry_written_in_kanji(bot: qa.Faq) -> None:
    found = bot.answer("くるまいすでのれますか", FACTS)
    assert found is not None
    assert found.entry.id == "bus-wheelchair"
    assert "<wheelchair_vehicles>" in found.text
    fare = bot.answer("バスのりょうきんはいくら?", FACTS)
    assert fare is not None
    assert fare.entry.id == "bus-fare"


def test_a_phrasing_of_the_file_itself_scores_sure(bot: qa.Faq) -> None:
    for e in bot.entries:
        found = bot.answer(e.question, FACTS)
        assert found is not None, e.id
        assert found.entry.id == e.id
        assert found.sure


def test_questions_about_other_things_get_no_answer(bot: qa.Faq) -> None:
    for q in ("今日の晩ごはんは何がいいかな", "競馬の予想", "ｘｙｚ", "   ", "。。。"):
        assert bot.answer(q, FACTS) is None, q


def test_every_method_ranks_and_scores_between_zero_and_one() -> None:
    entries = qa.parse_file(FILE)
    for method in qa.METHODS:
        bot = qa.Faq(entries, method)
        ranked = bot.ranked("予約をとりけしたい")
        assert len(ranked) == len(entries)
        assert all(0.0 <= s <= 1.0 + 1e-9 for _, s in ranked), method
        assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert qa.DEFAULT_METHOD in qa.METHODS
    assert set(qa.THRESHOLDS) == set(qa.METHODS)
    with pytest.raises(ValueError, match="unknown method"):
        qa.Faq(entries, "grep")


def test_the_default_is_the_best_measured_method(bot: qa.Faq) -> None:
    """The shipped default and threshold against the held-out set, as `drt bench faq`
    counts: no other method is right more often at its own shipped threshold."""

    def right(b: qa.Faq) -> int:
        n = 0
        for c in _cases():
            found = b.answer(c["q"], FACTS)
            got = found.entry.id if found else "none"
            n += got == c["expect"]
        return n

    entries = qa.parse_file(FILE)
    ours = right(bot)
    assert all(right(qa.Faq(entries, m)) <= ours for m in qa.METHODS)


# -- the file's checks ---------------------------------------------------------------------------

GOOD = """entries:
  - id: a
    question: バスは何時から
    alternates: [朝は何時]
    answer: "{hours}です"
"""


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("entries: 3\n", "entries", "entries"),
        ("entries:\n  - [x]\n", "entry 1", "mapping"),
        ("entries:\n  - {id: A B, question: q, answer: a}\n", "entry 1", "id"),
        (GOOD + "  - {id: a, question: べつ, answer: x}\n", "entry 2 (a): id", "duplicate id"),
        (GOOD + "  - {id: b, question: 朝は何時, answer: x}\n", "entry 2 (b)", "also in a"),
        ("entries:\n  - {id: a, question: q, answer: '{fare}'}\n", "entry 1 (a): answer", "{fare}"),
        ("entries:\n  - {id: a, question: q, answer: 'a { b'}\n", "entry 1 (a): answer", "braces"),
        ("entries:\n  - {id: a, question: q, answer: ''}\n", "entry 1 (a): answer", "non-empty"),
        ("entries:\n  - {id: a, question: q, answer: x, foo: 1}\n", "entry 1 (a)", "foo"),
        ("entries:\n  - {id: a, question: q, answer: x, alternates: hi}\n", "alternates", "list"),
        ("entries:\n  - {id: a, question: " + "長" * 201 + ", answer: x}\n", "question", "200"),
        ("entries: []\n", "entries", "no entries"),
        ("entries:\n  - id: a\n   question: [\n", "line", "YAML"),
    ],
)
def test_a_mistake_in_the_file_is_refused_naming_where(text: str, where: str, words: str) -> None:
    with pytest.raises(qa.FaqFileInvalid) as e:
        qa.parse_yaml(text, "faq.yaml")
    assert where in e.value.message_en
    assert words in e.value.message_en
    assert e.value.message_ja.startswith("faq.yaml の ")
    assert e.value.code == "faq_file_invalid"


def test_a_csv_file_reads_as_the_yaml(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(
        "id,category,question,alternates,answer\n"
        "a,bus,バスは何時から,朝は何時|夜は何時まで,{hours}です\\nお休み: {closed_days}\n",
        encoding="utf-8",
    )
    (entry,) = qa.parse_file(path)
    assert entry == qa.Entry("a", "バスは何時から", ("朝は何時", "夜は何時まで"),
                             "{hours}です\nお休み: {closed_days}", "bus")  # fmt: skip
    path.write_text("id,question\na,q\n", encoding="utf-8")
    with pytest.raises(qa.FaqFileInvalid, match="header"):
        qa.parse_file(path)


def test_the_area_file_is_read_again_when_saved_and_a_bad_save_keeps_the_last(
    tmp_path: Path,
) -> None:
    with pytest.raises(qa.FaqUnavailable):
        qa.for_area(tmp_path)
    path = tmp_path / "faq.yaml"
    path.write_text(GOOD, encoding="utf-8")
    first = qa.for_area(tmp_path)
    assert [e.id for e in first.entries] == ["a"]
    path.write_text(GOOD.replace("id: a", "id: b") + "\n", encoding="utf-8")
    assert [e.id for e in qa.for_area(tmp_path).entries] == ["b"]
    path.write_text(GOOD.replace("{hours}", "{nope}") + "\n\n", encoding="utf-8")
    assert [e.id for e in qa.for_area(tmp_path).entries] == ["b"]  # still answering
    other = tmp_path / "other"
    other.mkdir()
    (other / "faq.yaml").write_text("entries: 1\n", encoding="utf-8")
    with pytest.raises(qa.FaqUnavailable) as e:  # no good version ever: unavailable
        qa.for_area(other)
    assert e.value.code == "faq_unavailable"


# -- misses and tickets (database) --------------------------------------------------------------


@pytest.fixture
def session(db_schema: IsolatedDatabase) -> Iterator[Session]:
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as s:
        yield s


@pytest.mark.services
def test_a_miss_is_noted_once_a_day_and_listed_with_its_count(session: Session) -> None:
    assert qa.record_miss(session, "温泉の場所", "line", T0)
    assert not qa.record_miss(session, "温泉の場所 ", "app", T0 + timedelta(hours=3))
    assert not qa.record_miss(session, "温泉の場所", "line", T0 + timedelta(hours=23))
    assert qa.record_miss(session, "温泉の場所", "app", T0 + timedelta(hours=25))
    assert qa.record_miss(session, "花火大会はいつ", "line", T0)
    groups = qa.list_misses(session)
    assert [(g.question, g.count, g.channels) for g in groups] == [
        ("温泉の場所", 2, ("app", "line")),
        ("花火大会はいつ", 1, ("line",)),
    ]
    assert groups[0].first_at == T0
    assert groups[0].last_at == T0 + timedelta(hours=25)


@pytest.mark.services
def test_a_miss_keeps_no_phone_number_and_no_long_text(session: Session) -> None:
    assert not qa.record_miss(session, "090-1234-5678", "line", T0)
    assert not qa.record_miss(session, "123456", "line", T0)
    assert qa.record_miss(session, "09012345678に電話して", "line", T0)
    assert qa.record_miss(session, "あ" * 400, "line", T0)
    stored = sorted(g.question for g in qa.list_misses(session))
    assert stored == ["***********に電話して", "あ" * qa.MAX_QUESTION]
    assert qa.count_misses(session) == 2


@pytest.mark.services
def test_tickets_open_and_close_once_audited(session: Session) -> None:
    with pytest.raises(InvalidInput):
        qa.create_ticket(session, "   ", "line", T0)
    with pytest.raises(InvalidInput):
        qa.create_ticket(session, "質問", "fax", T0)
    first = qa.create_ticket(session, "車いすを2台 乗せたい", "line", T0, line_user_id="U1")
    second = qa.create_ticket(session, "お金の払い方", "phone", T0 + timedelta(minutes=5),
                              resident_id="R1", by=STAFF)  # fmt: skip
    assert [t.id for t in qa.list_tickets(session)] == [first.id, second.id]
    closed = qa.close_ticket(session, STAFF, first.id, "電話で答えました", T0 + timedelta(hours=1))
    assert (closed.status, closed.closed_by, closed.note) == ("closed", "S-op", "電話で答えました")
    again = qa.close_ticket(session, Actor("staff", "S-other", "admin"), first.id, "別",
                            T0 + timedelta(hours=2))  # fmt: skip
    assert (again.closed_by, again.note, again.closed_at) == ("S-op", "電話で答えました",
                                                              T0 + timedelta(hours=1))  # fmt: skip
    assert [t.id for t in qa.list_tickets(session)] == [second.id]
    assert [t.id for t in qa.list_tickets(session, "closed")] == [first.id]
    assert len(qa.list_tickets(session, None)) == 2
    actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["faq_ticket_create", "faq_ticket_close"]
    with pytest.raises(qa.TicketNotFound):
        qa.close_ticket(session, STAFF, "Qnosuch", "", T0)
