"""The 納付書's barcode digits and files, pure (no database): the check digit against worked
examples done by hand, the 44-digit layout, the GS1-128 symbol's code values and widths,
bad input refused with a code naming the field, the slips and payments files read and
refused whole, and when a reminder is due.

Worked examples (the check digit covers the 43 digits before it, the AI "91" included;
from the right, the first digit weighs 3, the next 1, and so on; with 43 digits, the 1st,
3rd … 43rd digits from the left weigh 3):

A. 91 912345 012345678901234567890 1 010331 0 123000 (a biller 912345, free field
   012345678901234567890, reissue 1, due 2001-03-31, no stamp, 123,000 yen; these digits
   are the example published with a public slip program, whose check digit it gives as 3)::

     digits  9 1 9 1 2 3 4 5 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 0 1 0 3 3 1 0 1 2 3 0 0 0
     weight  3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3 1 3
     weight-3 digits: 9+9+2+4+0+2+4+6+8+0+2+4+6+8+0+0+0+3+0+2+0+0 = 69
     weight-1 digits: 1+1+3+5+1+3+5+7+9+1+3+5+7+9+1+1+3+1+1+3+0 = 70
     3 × 69 + 70 = 277; 10 − 7 = 3  → check digit 3
   Without the AI the sum would lose 3 × 9 + 1 × 1 = 28: 249, check digit 1. The published
   3 is what tells the two readings apart.

B. 91 942386 178953917853935692730 1 030731 1 031290 (the same program's second example,
   also given as 3)::

     weight-3 digits: 9+9+2+8+1+8+5+9+7+5+9+5+9+7+0+0+0+3+1+3+2+0 = 102
     weight-1 digits: 1+4+3+6+7+9+3+1+8+3+3+6+2+3+1+3+7+1+0+1+9 = 81
     3 × 102 + 81 = 387; 10 − 7 = 3  → check digit 3

C. 91 000000 000000000000000000000 0 261225 0 012300 (due 2026-12-25, 12,300 yen): the
   non-zero digits are 9 (pos 1, ×3), 1 (2, ×1), 2 6 1 2 2 5 (31–36: ×3 ×1 ×3 ×1 ×3 ×1),
   1 2 3 (39–41: ×3 ×1 ×3)::

     3 × (9 + 2 + 1 + 2 + 1 + 3) + (1 + 6 + 2 + 5 + 2) = 54 + 16 = 70; last digit 0
     → check digit 0 (not 10)
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from town import gs1
from town import slips as sl

JST = ZoneInfo("Asia/Tokyo")
A = "9191234501234567890123456789010103310123000"
B = "9194238617895391785393569273010307311031290"
C = "9100000000000000000000000000002612250012300"


def test_the_check_digit_of_the_worked_examples() -> None:
    assert (gs1.check_digit(A), gs1.check_digit(B), gs1.check_digit(C)) == (3, 3, 0)
    assert gs1.check_digit("00" + A[2:]) == 1  # the AI left out (weights unchanged): 1, not 3


@given(st.text("0123456789", min_size=43, max_size=43), st.integers(0, 42), st.integers(1, 9))
def test_any_single_changed_digit_changes_the_check_digit(digits: str, at: int, by: int) -> None:
    changed = digits[:at] + str((int(digits[at]) + by) % 10) + digits[at + 1 :]
    assert gs1.check_digit(changed) != gs1.check_digit(digits)


def test_a_changed_amount_or_due_date_changes_the_check_digit() -> None:
    base = gs1.SlipCode("912345", "012345678901234567890", 1, date(2001, 3, 31), 0, 123000)
    assert base.digits == A + "3"
    for other in (
        gs1.SlipCode("912345", "012345678901234567890", 1, date(2001, 3, 31), 0, 123001),
        gs1.SlipCode("912345", "012345678901234567890", 1, date(2001, 4, 1), 0, 123000),
        gs1.SlipCode("912345", "012345678901234567890", 2, date(2001, 3, 31), 0, 123000),
    ):
        assert other.digits[-1] != base.digits[-1]


def test_the_44_digits_are_laid_out_as_the_guideline_says() -> None:
    code = gs1.SlipCode("912345", "012345678901234567890", 1, date(2001, 3, 31), 0, 123000)
    d = code.digits
    assert len(d) == 44
    fields = (d[0:2], d[2:8], d[8:29], d[29], d[30:36], d[36], d[37:43], d[43])
    assert fields == ("91", "912345", "012345678901234567890", "1", "010331", "0", "123000", "3")
    assert gs1.parse(d) == code
    assert gs1.parse(f"EAN{d}") == code  # as collection agents' files write it
    assert gs1.parse("(91)912345-012345678901234567890-1-010331-0-123000-3") == code
    assert gs1.human_readable(d) == ("(91)912345-012345678901234567890", "1-010331-0-123000-3")
    full_width = "９１２３４５"  # a Japanese system's full-width digits
    assert gs1.SlipCode(full_width, "0" * 21, 0, date(2026, 12, 25), 0, 1).biller_code == "912345"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        (("91234", "0" * 21, 0, date(2026, 12, 25), 0, 100), "biller"),
        (("912345", "0" * 20, 0, date(2026, 12, 25), 0, 100), "free"),
        (("912345", "0" * 20 + "x", 0, date(2026, 12, 25), 0, 100), "free"),
        (("912345", "0" * 21, 10, date(2026, 12, 25), 0, 100), "reissue"),
        (("912345", "0" * 21, 0, date(2100, 1, 1), 0, 100), "due"),
        (("912345", "0" * 21, 0, date(2026, 12, 25), 2, 100), "stamp"),
        (("912345", "0" * 21, 0, date(2026, 12, 25), 0, 0), "amount"),
        (("912345", "0" * 21, 0, date(2026, 12, 25), 0, 1_000_000), "amount"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(fields: tuple, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(gs1.BarcodeInvalid) as e:
        gs1.SlipCode(*fields)
    assert e.value.code == "barcode_invalid"
    assert e.value.details["field"] == field
    assert e.value.message_ja
    assert e.value.message_en


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (A + "4", "チェックデジット"),  # the wrong check digit
        ("92" + A[2:] + "3", "「91」"),  # not AI 91
        (A, "44けた"),  # 43 digits
        ("9191234501234567890123456789010102300123000" + "0", "日付"),  # 1 Feb 30th
    ],
)
def test_bad_barcodes_are_refused(text: str, says: str) -> None:
    if says == "日付":
        text = text[:43] + str(gs1.check_digit(text[:43]))
    with pytest.raises(gs1.BarcodeInvalid) as e:
        gs1.parse(text)
    assert says in e.value.message_ja


def test_the_symbol_is_start_c_fnc1_pairs_check_and_stop() -> None:
    digits = A + "3"
    values = gs1.code128_values(digits)
    pairs = [int(digits[i : i + 2]) for i in range(0, 44, 2)]
    assert values[:2] == [105, 102]
    assert values[2:24] == pairs
    assert values[-1] == 106
    # by hand: 105 + 1×102 + Σ (i+2)×pair_i, mod 103
    assert values[24] == (105 + 102 + sum((i + 2) * p for i, p in enumerate(pairs))) % 103
    widths = gs1.symbol_widths(digits)
    assert sum(widths) == 26 * 11 + 2  # 25 characters of 11 modules, Stop of 13
    assert len(widths) == 25 * 6 + 7


def test_the_code128_patterns_match_reportlabs_table() -> None:
    """An independent copy of the Code 128 patterns (ReportLab's: capitals are bars,
    lower case spaces, A/a one module … D/d four)."""
    from reportlab.graphics.barcode.code128 import _patterns

    theirs = ["".join(str(ord(ch.lower()) - 96) for ch in _patterns[v]) for v in range(107)]
    assert list(gs1.PATTERNS) == theirs
    assert all(sum(map(int, p)) == 11 for p in gs1.PATTERNS[:106])


# -- files -------------------------------------------------------------------------------

HEADER = "resident_id,subject,fiscal_year,period,payer_name,biller_code,free_field,reissue,due,stamp,amount,elqr_payload"


def _row(free: str = "0" * 21, **over: str) -> str:
    cells = {"resident_id": "", "subject": "軽自動車税(種別割)", "fiscal_year": "2026",
             "period": "全期", "payer_name": "鞍手 太郎", "biller_code": "912345",
             "free_field": free, "reissue": "0", "due": "2026-12-25", "stamp": "0",
             "amount": "12300", "elqr_payload": "EL-SAMPLE-1", **over}  # fmt: skip
    return ",".join(cells[c] for c in HEADER.split(","))


def test_a_slips_file_is_read() -> None:
    text = "\ufeff" + "\n".join([HEADER, _row(), _row("1" * 21, amount="\"1,200\"", due="20270131",
                                                  reissue="", stamp="", elqr_payload="")])  # fmt: skip
    first, second = sl.parse_slips(text)
    assert first.code.digits == gs1.SlipCode("912345", "0" * 21, 0, date(2026, 12, 25), 0,
                                             12300).digits  # fmt: skip
    assert (first.row, first.elqr_payload) == (2, "EL-SAMPLE-1")
    assert first.subject == "軽自動車税(種別割)"
    assert (second.code.amount_yen, second.code.due, second.elqr_payload) == (
        1200, date(2027, 1, 31), None)  # fmt: skip


def test_a_wrong_slips_file_is_refused_whole_with_every_problem() -> None:
    text = "\n".join([HEADER, _row(), _row("1" * 20), _row("2" * 21, due="12/25", amount="0"),
                      _row(), _row("3" * 21, elqr_payload="x" * (sl.ELQR_MAX + 1))])  # fmt: skip
    with pytest.raises(sl.SlipFileInvalid) as e:
        sl.parse_slips(text)
    found = [(p["row"], p["field"]) for p in e.value.details["problems"]]
    assert found == [(3, "free_field"), (4, "amount"), (4, "due"), (5, "free_field"),
                     (6, "elqr_payload")]  # fmt: skip
    assert e.value.details["count"] == 5
    assert "5か所" in e.value.message_ja
    with pytest.raises(sl.SlipFileInvalid) as missing:
        sl.parse_slips("subject,amount\n税,1\n")
    assert "biller_code" in missing.value.details["missing"]
    with pytest.raises(sl.SlipFileInvalid):
        sl.parse_slips(HEADER + "\n")  # no rows


def test_a_payments_file_is_read_and_a_bad_barcode_refuses_it() -> None:
    ok = sl.parse_payments(f"barcode,paid_on,amount\nEAN{A}3,2026-12-20,123000\n{C}0,20261221,\n")
    assert [(p.row, p.code.amount_yen, p.paid_on) for p in ok] == [
        (2, 123000, date(2026, 12, 20)), (3, 12300, date(2026, 12, 21))]  # fmt: skip
    with pytest.raises(sl.PaymentFileInvalid) as e:
        sl.parse_payments(f"barcode,paid_on,amount\n{A}4,2026-12-20,\n{A}3,someday,\n"
                          f"{A}3,2026-12-20,999\n")  # fmt: skip
    assert [(p["row"], p["field"]) for p in e.value.details["problems"]] == [
        (2, "barcode"), (3, "paid_on"), (4, "amount")]  # fmt: skip
    assert e.value.code == "payment_file_invalid"


# -- reminders ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "due"),
    [
        (datetime(2026, 12, 22, 10, 0, tzinfo=JST), True),  # 3 days before, from 10:00
        (datetime(2026, 12, 22, 9, 59, tzinfo=JST), False),  # not yet
        (datetime(2026, 12, 22, 20, 0, tzinfo=JST), False),  # not at night
        (
            datetime(2026, 12, 24, 19, 59, tzinfo=JST),
            True,
        ),  # the day before: still (a notifier down)
        (datetime(2026, 12, 25, 12, 0, tzinfo=JST), False),  # the due date itself: no more
        (datetime(2026, 12, 21, 12, 0, tzinfo=JST), False),  # 4 days before: too early
    ],
)
def test_the_reminder_window(local: datetime, due: bool) -> None:
    now = local.astimezone(UTC)  # the service's clock is UTC
    assert sl.in_window(date(2026, 12, 25), now, JST) is due


def test_the_same_slip_gives_the_same_pdf_and_a_paid_one_has_no_codes() -> None:
    from pypdf import PdfReader

    from town.slip_pdf import Sheet, render

    code = gs1.SlipCode("912345", "0" * 21, 0, date(2026, 12, 25), 0, 12300)
    sheet = Sheet("PS1", "鞍手町", "軽自動車税(種別割)", 2026, "全期", "鞍手 太郎", 12300,
                  date(2026, 12, 25), code.digits, 0, None, "0949-42-0000", True)  # fmt: skip
    assert render(sheet) == render(sheet)  # ReportLab's invariant mode: no time stamp, no id
    void = render(replace(sheet, void="この納付書は、支払い済みです。"))
    text = PdfReader(io.BytesIO(void)).pages[0].extract_text()
    assert "支払い済みです" in text
    assert "(91)912345" not in text  # no barcode, no digits under it
