"""When a rider means, from what they type on LINE: 「明日の9時」「来週の月曜 午後3時」
「12月3日 10:30」「あさって 9時半に着きたい」「今すぐ」.

One pure function, :func:`parse_when`, on the local time now. Text is normalised once (NFKC:
full-width digits and letters; kanji numerals up to 59; spaces and polite endings dropped).
A date alone or a time alone is an answer too: the conversation then asks for the rest, or
takes today. Anything it cannot read is ``None``, and the caller offers the date picker
again: never a dead end.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

Mode = Literal["asap", "depart_at", "arrive_by"]

NOW_WORDS = ("今すぐ", "いますぐ", "すぐ", "今から", "いまから", "至急", "なるべく早く", "早く")
WEEKDAYS = "月火水木金土日"
RELATIVE_DAYS = {"今日": 0, "きょう": 0, "本日": 0, "明日": 1, "あした": 1, "あす": 1,
                 "明後日": 2, "あさって": 2, "しあさって": 3}  # fmt: skip
_KANJI = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+")
_ARRIVE = re.compile(r"(までに|まで)?(着きたい|着く|つきたい|到着|着)")
_DEPART = re.compile(r"(に|から)?(出たい|出発|でたい|乗りたい|のりたい|出る)")
_FILLER = re.compile(
    r"(ごろ|頃|くらい|ぐらい|に|で|の|を|です|でお願いします|お願いします|おねがいします|がいい|希望)"
)
_MD = re.compile(r"(\d{1,2})月(\d{1,2})日")
_SLASH = re.compile(r"(?<![\d:])(\d{1,2})/(\d{1,2})(?![\d:])")
_DAY_ONLY = re.compile(r"(?<![\d月/])(\d{1,2})日")
_WEEK = re.compile(r"(今週|来週|再来週|次)?の?([月火水木金土日])曜日?")
_HHMM = re.compile(r"(午前|午後|朝|夕方|夜|昼)?(\d{1,2}):(\d{2})")
_CLOCK = re.compile(r"(午前|午後|朝|夕方|夜|昼)?(\d{1,2})時(?:(\d{1,2})分|(半))?")
_NOON = re.compile(r"正午|お昼")
_PUNCTUATION = re.compile(r"[、。,.!?~〜ー]")


@dataclass(frozen=True, slots=True)
class When:
    """What was read: a day and/or a time of day, and whether it is a departure or an
    arrival (「着きたい」) or as soon as possible."""

    mode: Mode
    day: date | None = None
    at: time | None = None

    def on(self, now: datetime) -> datetime | None:
        """The moment meant, with today for a missing day; None without a time of day."""
        if self.at is None:
            return None
        return datetime.combine(self.day or now.date(), self.at, now.tzinfo)


def _kanji_number(match: re.Match[str]) -> str:
    """十二 → 12, 三十 → 30, 二十五 → 25, 九 → 9 (up to 99)."""
    s = match.group(0)
    if "十" not in s:
        return "".join(str(_KANJI[c]) for c in s)
    tens, _, ones = s.partition("十")
    value = (_KANJI[tens] if tens else 1) * 10 + (_KANJI[ones] if ones else 0)
    return str(value)


def normalise(text: str) -> str:
    """NFKC (全角 → half-width), kanji numerals as digits, no spaces; 時 for ：, ・."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = _KANJI_NUMBER.sub(_kanji_number, t)
    t = re.sub(r"(?<=\d)\s+(?=\d)", "の", t)  # 「12/5 9時」: two numbers stay apart
    t = re.sub(r"\s+", "", t)
    return t.replace("時間", "時").replace("：", ":")


def _hour(prefix: str | None, hour: int) -> int | None:
    """The hour of the day: 午後3時 → 15; a bare 1 to 6 is the afternoon (the bus does not
    run at 3 in the morning: 「3時」 means 15:00), 午前/朝 keep it in the morning."""
    if (
        (prefix is None and 1 <= hour <= 6)
        or (prefix in ("午後", "夕方", "夜") and hour < 12)
        or (prefix == "昼" and hour < 6)
    ):
        hour += 12
    elif prefix in ("午前", "朝") and hour == 12:
        hour = 0
    return hour if 0 <= hour <= 23 else None


def _day(t: str, today: date) -> tuple[date | None, str]:
    """The day named in ``t`` (and ``t`` without it), or None."""
    for word, offset in sorted(RELATIVE_DAYS.items(), key=lambda kv: -len(kv[0])):
        if word in t:
            return today + timedelta(days=offset), t.replace(word, "", 1)
    if m := _MD.search(t) or _SLASH.search(t):
        month, dom = int(m.group(1)), int(m.group(2))
        year = today.year + (1 if month < today.month else 0)  # December → January: next year
        try:
            return date(year, month, dom), t[: m.start()] + t[m.end() :]
        except ValueError:
            return None, t
    if m := _WEEK.search(t):
        which, weekday = m.group(1), WEEKDAYS.index(m.group(2))
        ahead = (weekday - today.weekday()) % 7
        if which == "来週" or (which == "次" and ahead == 0):
            start = today - timedelta(days=today.weekday()) + timedelta(days=7)
            found = (
                start + timedelta(days=weekday) if which == "来週" else today + timedelta(days=7)
            )
        elif which == "再来週":
            found = today - timedelta(days=today.weekday()) + timedelta(days=14 + weekday)
        else:  # 今週の / plain: the next such day from today (today included)
            found = today + timedelta(days=ahead)
        return found, t[: m.start()] + t[m.end() :]
    if m := _DAY_ONLY.search(t):
        dom = int(m.group(1))
        year, month = today.year, today.month
        if dom < today.day:  # 3日 on the 28th: next month's
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        try:
            return date(year, month, dom), t[: m.start()] + t[m.end() :]
        except ValueError:
            return None, t
    return None, t


def _time(t: str) -> tuple[time | None, str, bool]:
    """The time of day in ``t``, ``t`` without it, and whether a time was there but wrong."""
    if m := _HHMM.search(t):
        hour, minute = _hour(m.group(1), int(m.group(2))), int(m.group(3))
    elif m := _CLOCK.search(t):
        minute = 30 if m.group(4) else int(m.group(3) or 0)
        hour = _hour(m.group(1), int(m.group(2)))
    elif m := _NOON.search(t):
        return time(12, 0), t[: m.start()] + t[m.end() :], False
    else:
        return None, t, False
    rest = t[: m.start()] + t[m.end() :]
    if hour is None or not 0 <= minute <= 59:
        return None, rest, True
    return time(hour, minute), rest, False


def parse_when(text: str, now: datetime) -> When | None:
    """What the rider meant (see the module docstring), or None."""
    t = normalise(text)
    if not t:
        return None
    if any(t.startswith(w) for w in NOW_WORDS) and not re.search(r"\d", t):
        return When("asap")
    mode: Mode = "depart_at"
    if m := _ARRIVE.search(t):
        mode, t = "arrive_by", t[: m.start()] + t[m.end() :]
    elif m := _DEPART.search(t):
        t = t[: m.start()] + t[m.end() :]
    day, t = _day(t, now.date())
    at, t, wrong = _time(t)
    if wrong or (day is None and at is None):
        return None
    if _PUNCTUATION.sub("", _FILLER.sub("", t)):
        return None  # something left we did not read: better to ask than to guess
    return When(mode, day, at)
