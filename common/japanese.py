"""One normalisation for searching Japanese text (names, readings, districts), the same for
LINE, the console and the API: NFKC (全角 letters and digits to half-width, half-width カナ to
full-width), katakana as hiragana (フルカド and ふるかど match), lower case, and no spaces or
separators (「古門 公民館」「古門・公民館」 match 「古門公民館」)."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s・、,，.。/／()（）「」\-‐－]+")


def hiragana(text: str) -> str:
    """Katakana as hiragana (フルモン → ふるもん); everything else as it is."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def katakana(text: str) -> str:
    """Hiragana as katakana (ふるもん → フルモン), as readings are stored."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def fold(text: str) -> str:
    t = hiragana(unicodedata.normalize("NFKC", text).lower())
    return _SEPARATORS.sub("", t)


def words(text: str) -> list[str]:
    """The folded words of a query (split at spaces and separators)."""
    t = unicodedata.normalize("NFKC", text)
    return [w for w in (fold(x) for x in _SEPARATORS.split(t)) if w]
