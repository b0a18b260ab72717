"""The town's garbage days in the LINE chat: anyone may ask, linked or not (the sample calendar)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.line_channel.conftest import Line, data_of, quick_replies, texts
from town import calendars

pytestmark = pytest.mark.services
SAMPLE = Path(__file__).resolve().parents[2] / "areas" / "kurate" / "garbage-sample"


def _import(line: Line) -> None:
    with line.db.sessionmaker()() as session:
        calendars.import_calendar(session, SAMPLE, by="test", label="sample")
        session.commit()


def test_before_any_calendar_the_chat_says_so(line: Line) -> None:
    said = texts(line.say("U-garbage-0", "ごみの日"))
    assert "まだありません" in said


def test_what_kind_of_garbage_by_name_or_reading(line: Line) -> None:
    _import(line)
    said = texts(line.say("U-garbage-1", "ペットボトルは何ごみ?"))
    assert "ペットボトル: 資源ごみ" in said
    assert "キャップとラベルを外し" in said  # how to put it out
    said = texts(line.say("U-garbage-1", "かんでんちってなにごみ"))
    assert "乾電池: 燃やさないごみ" in said
    said = texts(line.say("U-garbage-1", "ぬいぐるみの宇宙船は何ごみ"))
    assert "見つかりませんでした" in said


def test_the_week_of_an_area_typed_or_chosen(line: Line) -> None:
    _import(line)
    # 2026-12-02 (Wednesday) in the test clock: 中山's next week, by hand from the sample
    said = texts(line.say("U-garbage-2", "ごみ 中山"))
    assert "中山のごみの日" in said
    assert "12月3日(木): 燃やすごみ" in said
    assert "12月4日(金): 資源ごみ" in said
    assert "12月7日(月): 燃やすごみ" in said
    assert "12月9日" not in said  # a week: up to the 8th
    asked = line.say("U-garbage-2", "ごみの日")  # not linked: no address, so which area?
    buttons = [a for a in quick_replies(asked[-1]) if a["type"] == "postback"]
    assert "どの地区" in texts(asked)
    pick = next(a for a in buttons if a["label"] == "新延")
    chosen = texts(line.tap("U-garbage-2", pick["data"], **{}))
    assert "新延のごみの日" in chosen
    assert data_of(pick)["a"] == "garbage"


def test_a_linked_resident_gets_the_area_of_their_address(line: Line) -> None:
    _import(line)
    line.link("U-garbage-3")  # 鞍手町大字中山 1
    said = texts(line.say("U-garbage-3", "ごみ"))
    assert "中山のごみの日" in said
