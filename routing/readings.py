"""Readings (kana) of meeting-point names, made by machine until staff confirm them.

A name is read in three layers, longest match first:

1. the town's own words from the area file (``[stops.readings]``: the 大字 as Japan Post
   reads them, 小牧 = おまき, and local names such as 古月 = ふるつき, which no dictionary
   knows);
2. the words our own names are made of (``NAME_WORDS``: 沿い, 付近, the compass points);
3. everything else through a Japanese reading library.

The library was chosen by measurement on Kurate's 180 names against a written ground truth
(`drt bench readings`, docs/benchmarks.md "Readings"): SudachiPy with its core dictionary
(Apache-2.0). Readings are stored in katakana, as residents' readings are.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from common.japanese import hiragana, katakana

#: The words routing/placement.py builds names from, with their readings (hiragana).
NAME_WORDS: dict[str, str] = {
    "沿い": "ぞい",
    "付近": "ふきん",
    "北東": "ほくとう",
    "北西": "ほくせい",
    "南東": "なんとう",
    "南西": "なんせい",
    "北": "きた",
    "南": "みなみ",
    "東": "ひがし",
    "西": "にし",
    "一丁目": "いっちょうめ",
    "二丁目": "にちょうめ",
    "三丁目": "さんちょうめ",
    "四丁目": "よんちょうめ",
    "五丁目": "ごちょうめ",
}

#: Kept as written: separators, brackets, digits, Latin letters and spaces.
_AS_IS = re.compile(r"[\s・()（）\[\]「」、。,.\-0-9０-９A-Za-zＡ-Ｚａ-ｚ]")

Backend = Callable[[str], str]


@cache
def _dictionary() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core")  # the costly part (~0.6 s): once per process


_threads = threading.local()


def sudachi(mode: str = "C") -> Any:
    """This thread's tokenizer in split mode ``mode`` (``A``: the shortest units, ``C``: the
    longest): a SudachiPy tokenizer refuses to be used by two threads at once (the API's
    endpoints run in a thread pool); the dictionary is shared by all."""
    tokenizers: dict[str, Any] = _threads.__dict__.setdefault("tokenizers", {})
    if mode not in tokenizers:
        from sudachipy import SplitMode

        tokenizers[mode] = _dictionary().tokenizer(mode=getattr(SplitMode, mode))
    return tokenizers[mode]


def sudachi_reading(text: str) -> str:
    """SudachiPy (core dictionary, split mode C): each token's reading, symbols as written."""
    out: list[str] = []
    for m in sudachi().tokenize(text):
        surface = m.surface()
        symbol = m.part_of_speech()[0] in ("補助記号", "記号", "空白")
        out.append(surface if symbol or _AS_IS.fullmatch(surface) else m.reading_form())
    return hiragana("".join(out))


class Reader:
    """Reads names: the area's words, then ``NAME_WORDS``, then the library (``backend``)."""

    def __init__(self, local: Mapping[str, str], backend: Backend = sudachi_reading) -> None:
        self.words = {**NAME_WORDS, **{k: hiragana(v) for k, v in local.items()}}
        self._keys = sorted(self.words, key=len, reverse=True)
        self.backend = backend

    def hiragana(self, name: str) -> str:
        text = unicodedata.normalize("NFKC", name)
        out: list[str] = []
        gap = ""
        i = 0
        while i < len(text):
            word = next((k for k in self._keys if text.startswith(k, i)), None)
            if word is None and _AS_IS.fullmatch(text[i]):
                word = text[i]
            if word is None:
                gap += text[i]
                i += 1
                continue
            if gap:
                out.append(self.backend(gap))
                gap = ""
            out.append(self.words.get(word, word))
            i += len(word)
        if gap:
            out.append(self.backend(gap))
        return hiragana("".join(out))

    def kana(self, name: str) -> str:
        """The reading as stored (katakana, like residents' readings)."""
        return katakana(self.hiragana(name))


def true_reading(name: str, words: Mapping[str, str]) -> str | None:
    """A name read word by word from a ground-truth table (longest word first, separators and
    digits as written); None if some part of the name is in no word of the table."""
    keys = sorted(words, key=len, reverse=True)
    text = unicodedata.normalize("NFKC", name)
    out: list[str] = []
    i = 0
    while i < len(text):
        word = next((k for k in keys if text.startswith(k, i)), None)
        if word is not None:
            out.append(words[word])
            i += len(word)
        elif _AS_IS.fullmatch(text[i]):
            out.append(text[i])
            i += 1
        else:
            return None
    return hiragana("".join(out))


def same_reading(a: str, b: str) -> bool:
    """Equal once both are hiragana without separators, brackets or spaces."""

    def bare(s: str) -> str:
        return re.sub(r"[\s・()（）]", "", hiragana(unicodedata.normalize("NFKC", s)))

    return bare(a) == bare(b)
