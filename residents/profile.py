"""What a resident's record says about where they live and their age, for reports and for
the town's segments (one definition for both)."""

from __future__ import annotations

import re
from collections.abc import Iterable

DISTRICT = re.compile(r"大字\s*([^\s\d0-9０-９-]+)")
OTHER = "その他"
#: (lowest age, label): the planner's report and the town's segments use the same bands.
AGE_BANDS = ((0, "64歳以下"), (65, "65〜74歳"), (75, "75〜84歳"), (85, "85歳以上"))


def district(address: str, known: Iterable[str] = ()) -> str:
    """The 大字 of an address (「鞍手町大字中山 1」 → 「中山」); without the word 大字, the
    longest of ``known`` the address names after the town (「鞍手町上木月12」 → 「上木月」);
    else 「その他」."""
    found = DISTRICT.search(address)
    if found:
        return found.group(1)
    rest = address.split("町", 1)[-1]
    return next((k for k in sorted(known, key=len, reverse=True) if rest.startswith(k)), OTHER)


def age_band(birth_year: int, year: int) -> str:
    """The band of the age reached in ``year`` (the register holds the birth year only)."""
    age = year - birth_year
    return next(label for lo, label in reversed(AGE_BANDS) if age >= lo)
