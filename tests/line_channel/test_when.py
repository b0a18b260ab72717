"""What a rider types for "when", read as they mean it (issue 17: 「明日の9時」 was a dead end).
The clock: Thursday 3 December 2026, 10:00 in Kurate."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from line_channel.when import When, parse_when
from tests.booking.conftest import JST

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=JST)  # a Thursday
TODAY, TOMORROW, AFTER = date(2026, 12, 3), date(2026, 12, 4), date(2026, 12, 5)
D, A = "depart_at", "arrive_by"

PHRASES: list[tuple[str, When | None]] = [
    # a time alone: today
    ("10時30分", When(D, None, time(10, 30))),
    ("10:30", When(D, None, time(10, 30))),
    ("１０：３０", When(D, None, time(10, 30))),
    ("10時半", When(D, None, time(10, 30))),
    ("9時半", When(D, None, time(9, 30))),
    ("午後3時", When(D, None, time(15, 0))),
    ("午後２時半", When(D, None, time(14, 30))),
    ("午前11時", When(D, None, time(11, 0))),
    ("3時", When(D, None, time(15, 0))),  # the bus does not run at 3 in the morning
    ("朝8時", When(D, None, time(8, 0))),
    ("夕方5時", When(D, None, time(17, 0))),
    ("夜6時", When(D, None, time(18, 0))),
    ("11時ごろ", When(D, None, time(11, 0))),
    ("11時頃", When(D, None, time(11, 0))),
    ("十一時", When(D, None, time(11, 0))),
    ("十時三十分", When(D, None, time(10, 30))),
    ("正午", When(D, None, time(12, 0))),
    ("14時15分に出たい", When(D, None, time(14, 15))),
    ("11時でお願いします", When(D, None, time(11, 0))),
    # a day and a time
    ("明日の9時", When(D, TOMORROW, time(9, 0))),
    ("明日9時", When(D, TOMORROW, time(9, 0))),
    ("あした の 9時", When(D, TOMORROW, time(9, 0))),
    ("あすの朝9時", When(D, TOMORROW, time(9, 0))),
    ("明日の午後2時", When(D, TOMORROW, time(14, 0))),
    ("今日の午後3時", When(D, TODAY, time(15, 0))),
    ("きょう11時", When(D, TODAY, time(11, 0))),
    ("あさって10時", When(D, AFTER, time(10, 0))),
    ("明後日の午前10時半", When(D, AFTER, time(10, 30))),
    ("しあさっての9時", When(D, date(2026, 12, 6), time(9, 0))),
    ("12月5日 10:30", When(D, AFTER, time(10, 30))),
    ("１２月５日午後１時", When(D, AFTER, time(13, 0))),
    ("12/5 9時", When(D, AFTER, time(9, 0))),
    ("5日の9時", When(D, AFTER, time(9, 0))),
    ("来週の月曜 10時", When(D, date(2026, 12, 7), time(10, 0))),
    ("来週月曜日の午後2時", When(D, date(2026, 12, 7), time(14, 0))),
    ("月曜の10時", When(D, date(2026, 12, 7), time(10, 0))),
    ("土曜日 9時半", When(D, AFTER, time(9, 30))),
    ("今週の金曜 11時", When(D, TOMORROW, time(11, 0))),
    ("次の木曜 10時", When(D, date(2026, 12, 10), time(10, 0))),  # not today: the next one
    ("木曜 15時", When(D, TODAY, time(15, 0))),
    ("1月5日 9時", When(D, date(2027, 1, 5), time(9, 0))),  # in December: next year's
    # arriving by
    ("10時に着きたい", When(A, None, time(10, 0))),
    ("10時までに着きたい", When(A, None, time(10, 0))),
    ("明日の9時までに着きたい", When(A, TOMORROW, time(9, 0))),
    ("午後2時着", When(A, None, time(14, 0))),
    ("明日 9時半 到着", When(A, TOMORROW, time(9, 30))),
    # a day alone: the time is asked next
    ("明日", When(D, TOMORROW, None)),
    ("あさって", When(D, AFTER, None)),
    ("12月5日", When(D, AFTER, None)),
    ("来週の月曜", When(D, date(2026, 12, 7), None)),
    # as soon as possible
    ("今すぐ", When("asap")),
    ("すぐ", When("asap")),
    ("いますぐ", When("asap")),
    ("なるべく早く", When("asap")),
    # not understood: asked again with the pickers, never guessed
    ("そのうち", None),
    ("病院まで", None),
    ("25時", None),
    ("10時61分", None),
    ("2月30日 9時", None),
    ("明日の9時に病院", None),
    ("", None),
]


@pytest.mark.parametrize(("typed", "meant"), PHRASES, ids=[p for p, _ in PHRASES])
def test_what_a_rider_types_is_read_as_meant(typed: str, meant: When | None) -> None:
    assert parse_when(typed, NOW) == meant


def test_at_least_fifty_phrases_are_checked() -> None:
    assert len(PHRASES) >= 50


def test_a_time_alone_is_today_and_a_day_alone_has_no_moment_yet() -> None:
    got = parse_when("10時30分", NOW)
    assert got is not None
    assert got.on(NOW) == datetime(2026, 12, 3, 10, 30, tzinfo=JST)
    day = parse_when("明日", NOW)
    assert day is not None
    assert day.on(NOW) is None
