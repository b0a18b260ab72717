"""The convenience-store payment barcode of a 納付書: its 44 digits and their GS1-128 symbol
(pure: no I/O, no clock).

The digits follow GS1 Japan's 「GS1-128シンボルによる標準料金代理収納ガイドライン」 (the
Distribution Systems Research Institute, 流通システム開発センター):

====  ======  ===================================================================
from  digits  what
====  ======  ===================================================================
1     2       application identifier ``91`` (a company-internal AI, fixed)
3     6       biller code (請求書発行企業コード: the 7-digit company prefix without its
              leading ``4``, or ``9`` + an old 5-digit one)
9     21      free field (自由使用欄: the biller's own number, zero-padded)
30    1       reissue flag (再発行区分: how many times the slip was reissued, 0–9)
31    6       due date YYMMDD (支払期限日)
37    1       stamp flag (印紙フラグ: 1 when a revenue stamp is needed on the receipt)
38    6       amount in yen (支払金額, zero-padded)
44    1       check digit
====  ======  ===================================================================

The check digit is modulus 10, weights 3 and 1, over the 43 digits before it, **the AI
"91" included**: the rightmost of the 43 (the amount's last digit) has weight 3, the one
left of it 1, and so on alternately to the AI's "9" (weight 3, being the 43rd from the
right); the check digit is 10 minus the sum's last digit (0 when that is 0). See
docs/town.md for where this was confirmed.

The symbol is GS1-128: Code 128 with FNC1 right after the start character; the 44 digits
are 22 pairs in code set C, so the symbol is Start C, FNC1, 22 pair values, the mod-103
symbol check character and Stop. :func:`symbol_widths` gives the bar and space widths in
modules for the PDF to draw.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from common.errors import InvalidInput

AI = "91"
LENGTH = 44
AMOUNT_MAX_YEN = 999_999  # six digits
START_C, FNC1, STOP = 105, 102, 106

# Code 128 patterns: widths of bar, space, bar, space, bar, space in modules (11 in all),
# by code value 0–105; Stop (106) has a seventh element, its final 2-module bar.
PATTERNS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)  # fmt: skip


class BarcodeInvalid(InvalidInput):
    code = "barcode_invalid"


def _bad(field: str, ja: str, en: str) -> BarcodeInvalid:
    return BarcodeInvalid(ja, en, field=field)


def digits_of(text: str) -> str:
    """Half-width digits (a file from a Japanese system may have full-width ones)."""
    return unicodedata.normalize("NFKC", text).strip()


def check_digit(first43: str) -> int:
    """The modulus-10 check digit of the 43 digits before it (weights 3, 1, … from the right:
    the rightmost digit weighs 3), the AI "91" included."""
    if len(first43) != LENGTH - 1 or not first43.isascii() or not first43.isdigit():
        raise _bad("digits", "チェックデジットは、前の43けたの数字から計算します。",
                   f"The check digit is computed from 43 digits (got {len(first43)}).")  # fmt: skip
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first43)))
    return (10 - total % 10) % 10


def _digits(field: str, value: str, n: int, ja: str) -> str:
    v = digits_of(value)
    if len(v) != n or not v.isascii() or not v.isdigit():
        raise _bad(field, f"{ja}は{n}けたの数字にしてください(「{value}」)。",
                   f"{field} must be {n} digits (got {value!r}).")  # fmt: skip
    return v


@dataclass(frozen=True, slots=True)
class SlipCode:
    """What the 44 digits say, checked on creation (422 ``barcode_invalid`` naming the
    field): ``amount_yen`` 1–999,999; ``due`` in 2000–2099 (the code has a 2-digit year)."""

    biller_code: str
    free_field: str
    reissue: int
    due: date
    stamp: int
    amount_yen: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "biller_code",
                           _digits("biller", self.biller_code, 6, "収納企業コード"))  # fmt: skip
        object.__setattr__(self, "free_field",
                           _digits("free", self.free_field, 21, "自由使用欄"))  # fmt: skip
        if isinstance(self.reissue, bool) or not 0 <= self.reissue <= 9:
            raise _bad("reissue", "再発行区分は0から9の数字にしてください。",
                       f"reissue must be 0-9 (got {self.reissue!r}).")  # fmt: skip
        if isinstance(self.stamp, bool) or self.stamp not in (0, 1):
            raise _bad("stamp", "印紙フラグは0(印紙なし)か1(印紙あり)にしてください。",
                       f"stamp must be 0 or 1 (got {self.stamp!r}).")  # fmt: skip
        if not 2000 <= self.due.year <= 2099:
            raise _bad("due", "納期限は2000年から2099年のあいだにしてください。",
                       f"due must be in 2000-2099 (got {self.due.isoformat()}).")  # fmt: skip
        if isinstance(self.amount_yen, bool) or not 1 <= self.amount_yen <= AMOUNT_MAX_YEN:
            raise _bad("amount", f"金額は1円から{AMOUNT_MAX_YEN:,}円までにしてください。",
                       f"amount must be 1-{AMOUNT_MAX_YEN} yen (got {self.amount_yen!r}).")  # fmt: skip

    @property
    def first43(self) -> str:
        return (f"{AI}{self.biller_code}{self.free_field}{self.reissue}"
                f"{self.due:%y%m%d}{self.stamp}{self.amount_yen:06d}")  # fmt: skip

    @property
    def digits(self) -> str:
        """The 44 digits the barcode carries."""
        head = self.first43
        return head + str(check_digit(head))

    @property
    def key(self) -> tuple[str, str, int]:
        """What identifies a slip: the biller, the free field and the reissue."""
        return self.biller_code, self.free_field, self.reissue


def clean(text: str) -> str:
    """The digits of a barcode as written in a file: an ``EAN`` prefix, spaces, hyphens and
    parentheses (as in 「(91)912345-…」) left out."""
    v = digits_of(text)
    if v[:3].upper() == "EAN":
        v = v[3:]
    return "".join(ch for ch in v if ch not in " ()-")


def parse(text: str) -> SlipCode:
    """The fields of 44 digits (``91``, the check digit and the date checked): 422
    ``barcode_invalid`` saying what is wrong."""
    v = clean(text)
    if len(v) != LENGTH or not v.isascii() or not v.isdigit():
        raise _bad("barcode", f"バーコードの数字は{LENGTH}けたです(「{text}」)。",
                   f"A slip barcode has {LENGTH} digits (got {text!r}).")  # fmt: skip
    if not v.startswith(AI):
        raise _bad("barcode", f"バーコードの数字は「{AI}」で始まります(「{text}」)。",
                   f"A slip barcode starts with AI {AI} (got {text!r}).")  # fmt: skip
    want = check_digit(v[:43])
    if int(v[43]) != want:
        raise _bad("barcode", f"チェックデジットが合いません(最後の数字は{want}のはずです)。"
                   "数字を読み直してください。",
                   f"Wrong check digit: {v[43]}, expected {want}.")  # fmt: skip
    try:
        due = date(2000 + int(v[30:32]), int(v[32:34]), int(v[34:36]))
    except ValueError:
        raise _bad("barcode", f"バーコードの納期限「{v[30:36]}」は日付ではありません。",
                   f"The due date {v[30:36]} is not a date.") from None  # fmt: skip
    return SlipCode(v[2:8], v[8:29], int(v[29]), due, int(v[36]), int(v[37:43]))


def human_readable(digits: str) -> tuple[str, str]:
    """The two lines printed under the bars: the AI, the biller and the free field; then the
    reissue flag, the due date, the stamp flag, the amount and the check digit."""
    d = clean(digits)
    return f"({d[:2]}){d[2:8]}-{d[8:29]}", f"{d[29]}-{d[30:36]}-{d[36]}-{d[37:43]}-{d[43]}"


def code128_values(digits: str) -> list[int]:
    """The symbol's code values: Start C, FNC1, the digit pairs (set C), the symbol check
    character (mod 103: the start's value plus each later value times its position) and
    Stop."""
    d = clean(digits)
    if len(d) != LENGTH or not d.isascii() or not d.isdigit():
        raise _bad("barcode", f"バーコードの数字は{LENGTH}けたです。",
                   f"A slip barcode has {LENGTH} digits (got {len(d)}).")  # fmt: skip
    values = [START_C, FNC1, *(int(d[i : i + 2]) for i in range(0, LENGTH, 2))]
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return [*values, check, STOP]


def symbol_widths(digits: str) -> list[int]:
    """The widths in modules of the symbol's bars and spaces, from the first bar (the start
    character's) to the last (the stop's), alternating bar, space, bar …: 288 modules for
    44 digits. The quiet zones (10 modules each side at least) are the drawer's."""
    return [int(w) for v in code128_values(digits) for w in PATTERNS[v]]
