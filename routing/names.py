"""Names people know: a meeting point's full name, its short name for buttons, its district.

Pure text rules, no I/O. A facility keeps its own name, cleaned of the organisation that runs
it (OpenStreetMap has 「鞍手町病院事業鞍手町立病院」; residents say 「鞍手町立病院」): the area's
``[stops.name_aliases]`` and ``name_drop_prefixes``. A point at a junction is named by its 大字
and the landmark or road it is on, never by a distance. The short name (at most
``SHORT_NAME_MAX`` characters, what a LINE button shows uncut) is made by abbreviating words
residents abbreviate themselves (小学校 → 小, 高等学校 → 高校), never by cutting a word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: LINE shows a quick-reply label of up to 20 characters; our buttons put 「1. 」 in front.
SHORT_NAME_MAX = 16

#: Who runs a public facility, written before its name in official data.
_OPERATOR_PREFIX = re.compile(r"^(?:[県町市村]立|国立|私立)")

#: Abbreviations residents use themselves, applied one at a time until a name fits.
_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    ("高等学校", "高校"),
    ("歴史民俗資料館", "資料館"),
    ("小学校", "小"),
    ("中学校", "中"),
)
#: Also cut when a name still does not fit: the district prefix of a coverage point.
_SEPARATOR = "・"


def district_label(district: str) -> str:
    """「大字古門」 → 「古門」: residents name a 大字 without the word 大字."""
    return district.removeprefix("大字").strip() or district


def facility_name(
    official: str, aliases: Mapping[str, str], drop_prefixes: Sequence[str] = ()
) -> str:
    """The name residents know for a facility (its full name, as the meeting point's name)."""
    name = official.strip().replace("\u3000", " ")
    if name in aliases:
        return aliases[name]
    for prefix in drop_prefixes:
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :].strip()
    return name


def landmark(name: str) -> str:
    """A facility as a landmark inside another point's name: without 町立/県立."""
    bare = _OPERATOR_PREFIX.sub("", name)
    return bare or name


def short_name(name: str, limit: int = SHORT_NAME_MAX) -> str:
    """At most ``limit`` characters: the name, else abbreviated word by word, else the part
    after the district, else cut with 「…」 (only for a name staff typed that is all one word).
    """
    if len(name) <= limit:
        return name
    text = name.removeprefix("大字")
    for long, short in _ABBREVIATIONS:
        if len(text) <= limit:
            return text
        text = text.replace(long, short)
    if len(text) <= limit:
        return text
    text = _OPERATOR_PREFIX.sub("", text)
    if len(text) <= limit:
        return text
    if _SEPARATOR in text:
        rest = text.split(_SEPARATOR, 1)[1]
        if len(rest) <= limit:
            return rest
    return text[: limit - 1] + "…"
