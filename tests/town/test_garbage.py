"""Garbage days in the 5374 format (town/garbage.py): real-format cells against dates worked
out by hand on a paper calendar, centre closures, the errors a town's staff can meet, the
export round trip, "what kind of garbage is this?", and the shipped SAMPLE calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from town.garbage import (
    Calendar,
    GarbageAreaUnknown,
    GarbageCalendarInvalid,
    Schedule,
    Target,
    export_calendar,
    find_targets,
    load_calendar,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "areas" / "kurate" / "garbage-sample"
KURATE_AREAS = {
    "猪倉", "小牧", "上木月", "木月", "中山", "永谷", "新北",
    "新延", "長谷", "古門", "室木", "八尋", "弥生",
}  # fmt: skip

D = date


def write_folder(
    folder: Path,
    area_days: str,
    *,
    center: str = "名称,休止開始日,休止終了日\n",
    remarks: str = "ID,注意事項\n1,テストの注意\n2,もう一つの注意\n",
    target: str = "type,name,notice,furigana\n",
    description: str = "label,sublabel,description,styles,bgcolor\n",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in [
        ("area_days.csv", area_days),
        ("center.csv", center),
        ("remarks.csv", remarks),
        ("target.csv", target),
        ("description.csv", description),
    ]:
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def one_cell(folder: Path, cell: str) -> Calendar:
    return load_calendar(write_folder(folder, f"地名,センター,燃やすごみ\nテスト地区,,{cell}\n"))


# Each expected list was read off a printed calendar (2026-04 .. 2027-03), not computed.
CELLS = [
    ("月", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 4), D(2027, 1, 11), D(2027, 1, 18), D(2027, 1, 25)]),
    ("月 木", D(2027, 1, 1), D(2027, 1, 15), [D(2027, 1, 4), D(2027, 1, 7), D(2027, 1, 11), D(2027, 1, 14)]),
    ("土", D(2027, 2, 1), D(2027, 2, 28), [D(2027, 2, 6), D(2027, 2, 13), D(2027, 2, 20), D(2027, 2, 27)]),
    ("日", D(2027, 3, 1), D(2027, 3, 31), [D(2027, 3, 7), D(2027, 3, 14), D(2027, 3, 21), D(2027, 3, 28)]),
    ("火2", D(2027, 1, 1), D(2027, 3, 31), [D(2027, 1, 12), D(2027, 2, 9), D(2027, 3, 9)]),
    ("火2 火4", D(2027, 1, 1), D(2027, 3, 31),
     [D(2027, 1, 12), D(2027, 1, 26), D(2027, 2, 9), D(2027, 2, 23), D(2027, 3, 9), D(2027, 3, 23)]),
    ("火5", D(2027, 1, 1), D(2027, 3, 31), [D(2027, 3, 30)]),  # January and February have 4
    ("日1 日4", D(2027, 2, 1), D(2027, 3, 31), [D(2027, 2, 7), D(2027, 2, 28), D(2027, 3, 7), D(2027, 3, 28)]),
    ("木2", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 14)]),
    ("月1", D(2026, 6, 1), D(2026, 7, 31), [D(2026, 6, 1), D(2026, 7, 6)]),
    ("金5", D(2027, 1, 1), D(2027, 3, 31), [D(2027, 1, 29)]),
    ("木4", D(2026, 11, 1), D(2026, 12, 31), [D(2026, 11, 26), D(2026, 12, 24)]),
    ("水1:4 6", D(2026, 4, 1), D(2026, 7, 31), [D(2026, 4, 1), D(2026, 6, 3)]),
    ("火2 金4:4 6 8 10 12 2", D(2026, 12, 1), D(2027, 3, 31),
     [D(2026, 12, 8), D(2026, 12, 25), D(2027, 2, 9), D(2027, 2, 26)]),
    ("20270115", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 15)]),
    ("20270115 20270301", D(2027, 1, 1), D(2027, 2, 28), [D(2027, 1, 15)]),
    ("月 20270106", D(2027, 1, 1), D(2027, 1, 10), [D(2027, 1, 4), D(2027, 1, 6)]),
    ("月1 20270104", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 4)]),  # the same day once
    # The months after the colon restrict the whole cell, irregular dates included.
    ("金 20270201:1", D(2027, 1, 1), D(2027, 2, 28),
     [D(2027, 1, 1), D(2027, 1, 8), D(2027, 1, 15), D(2027, 1, 22), D(2027, 1, 29)]),
    ("木 *1", D(2027, 2, 1), D(2027, 2, 28), [D(2027, 2, 4), D(2027, 2, 11), D(2027, 2, 18), D(2027, 2, 25)]),
    ("＊１ 水", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 6), D(2027, 1, 13), D(2027, 1, 20), D(2027, 1, 27)]),
    ("月　木", D(2027, 1, 1), D(2027, 1, 15), [D(2027, 1, 4), D(2027, 1, 7), D(2027, 1, 11), D(2027, 1, 14)]),
    ("火２", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 12)]),
    ("水１：４　６", D(2026, 4, 1), D(2026, 7, 31), [D(2026, 4, 1), D(2026, 6, 3)]),
    ("２０２７０１１５", D(2027, 1, 1), D(2027, 1, 31), [D(2027, 1, 15)]),
    ("  金  ", D(2027, 2, 1), D(2027, 2, 28), [D(2027, 2, 5), D(2027, 2, 12), D(2027, 2, 19), D(2027, 2, 26)]),
    ("", D(2027, 1, 1), D(2027, 1, 31), []),
    ("-", D(2027, 1, 1), D(2027, 1, 31), []),
    ("なし", D(2027, 1, 1), D(2027, 1, 31), []),
]  # fmt: skip


@pytest.mark.parametrize(("cell", "start", "end", "expected"), CELLS)
def test_a_real_format_cell_gives_exactly_the_days_on_the_paper_calendar(
    tmp_path: Path, cell: str, start: date, end: date, expected: list[date]
) -> None:
    cal = one_cell(tmp_path, cell)
    assert cal.days("テスト地区", start, end) == [(d, "燃やすごみ") for d in expected]


def test_the_range_is_inclusive_at_both_ends_and_empty_when_reversed(tmp_path: Path) -> None:
    cal = one_cell(tmp_path, "月")
    assert cal.days("テスト地区", D(2027, 1, 4), D(2027, 1, 4)) == [(D(2027, 1, 4), "燃やすごみ")]
    assert cal.days("テスト地区", D(2027, 1, 4), D(2027, 1, 11)) == [
        (D(2027, 1, 4), "燃やすごみ"),
        (D(2027, 1, 11), "燃やすごみ"),
    ]
    assert cal.days("テスト地区", D(2027, 1, 5), D(2027, 1, 10)) == []
    assert cal.days("テスト地区", D(2027, 1, 11), D(2027, 1, 4)) == []


def test_a_cell_is_parsed_into_its_parts(tmp_path: Path) -> None:
    cal = one_cell(tmp_path, "月 火2 20270115 *1:4 6")
    assert cal.areas[0].schedules == (
        Schedule(
            weekly=(0,), nth=((1, 2),), dates=(D(2027, 1, 15),), remarks=("1",), months=(4, 6)
        ),
    )
    assert cal.areas[0].schedules[0].cell() == "月 火2 20270115 *1:4 6"


def test_days_of_several_categories_come_by_date_then_in_the_headers_order(
    tmp_path: Path,
) -> None:
    folder = write_folder(
        tmp_path, "地名,センター,資源ごみ,燃やすごみ,粗大ごみ\n東,,月,月 水,20270105 20270104\n"
    )
    cal = load_calendar(folder)
    assert cal.categories == ("資源ごみ", "燃やすごみ", "粗大ごみ")
    assert cal.days("東", D(2027, 1, 4), D(2027, 1, 6)) == [
        (D(2027, 1, 4), "資源ごみ"),
        (D(2027, 1, 4), "燃やすごみ"),
        (D(2027, 1, 4), "粗大ごみ"),
        (D(2027, 1, 5), "粗大ごみ"),
        (D(2027, 1, 6), "燃やすごみ"),
    ]


def test_remarks_referred_to_by_a_cell_are_the_areas_notes(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, "地名,センター,燃やすごみ,粗大ごみ\n東,,月 *2,*1\n西,,月,\n")
    cal = load_calendar(folder)
    assert cal.notes("東") == [("燃やすごみ", "もう一つの注意"), ("粗大ごみ", "テストの注意")]
    assert cal.notes("西") == []
    assert cal.days("東", D(2027, 1, 4), D(2027, 1, 4)) == [(D(2027, 1, 4), "燃やすごみ")]


def test_a_centre_closure_cancels_every_collection_from_its_first_to_its_last_day(
    tmp_path: Path,
) -> None:
    folder = write_folder(
        tmp_path,
        "地名,センター,燃やすごみ,粗大ごみ\n"
        "東,東部センター,月 火 金,20270105 20270106\n"
        "西,西部センター,月 火 金,\n"
        "南,,月 火 金,\n",
        center="名称,休止開始日,休止終了日\n"
        "東部センター,2027/1/1,2027-01-05\n"
        "東部センター,2027/01/12,2027/01/12\n",
    )
    cal = load_calendar(folder)
    assert cal.days("東", D(2027, 1, 1), D(2027, 1, 15)) == [
        # 1/1 (Fri), 1/4 (Mon), 1/5 (Tue, and 粗大ごみ) closed; 1/6 粗大ごみ is after the closure
        (D(2027, 1, 6), "粗大ごみ"),
        (D(2027, 1, 8), "燃やすごみ"),
        (D(2027, 1, 11), "燃やすごみ"),
        # 1/12 (Tue) closed by the second row
        (D(2027, 1, 15), "燃やすごみ"),
    ]
    unaffected = [
        (D(2027, 1, 1), "燃やすごみ"), (D(2027, 1, 4), "燃やすごみ"),
        (D(2027, 1, 5), "燃やすごみ"), (D(2027, 1, 8), "燃やすごみ"),
        (D(2027, 1, 11), "燃やすごみ"), (D(2027, 1, 12), "燃やすごみ"),
        (D(2027, 1, 15), "燃やすごみ"),
    ]  # fmt: skip
    assert cal.days("西", D(2027, 1, 1), D(2027, 1, 15)) == unaffected  # no closure of its own
    assert cal.days("南", D(2027, 1, 1), D(2027, 1, 15)) == unaffected  # no centre at all


def test_a_bom_crlf_quoted_and_ragged_folder_reads_like_a_clean_one(tmp_path: Path) -> None:
    clean = write_folder(
        tmp_path / "clean",
        "地名,センター,燃やすごみ,資源ごみ\n赤坂1丁目,東部,月 木,水2\n",
        center="名称,休止開始日,休止終了日\n東部,2026/12/30,2027/01/03\n",
        remarks="ID,注意事項\n",
        target='type,name,notice,furigana\n燃やすごみ,生ごみ,"水を切る, よく",なまごみ\n',
    )
    messy = tmp_path / "messy"
    messy.mkdir()
    files = {
        "area_days.csv": "\ufeff地名,センター,燃やすごみ,資源ごみ,\r\n\r\n赤坂1丁目 , 東部 ,月\u3000木,水２\r\n,,,\r\n",
        "center.csv": "\ufeff名称,休止開始日,休止終了日\r\n東部,２０２６/12/30,2027-1-3\r\n",
        "remarks.csv": "",
        "target.csv": '\ufefftype,name,notice,furigana\r\n燃やすごみ,生ごみ\t,"水を切る, よく",なまごみ\u3000\r\n',
        "description.csv": "",
    }
    for name, text in files.items():
        (messy / name).write_bytes(text.encode("utf-8"))
    assert load_calendar(messy) == load_calendar(clean)
    assert load_calendar(messy).targets == (
        Target("燃やすごみ", "生ごみ", "水を切る, よく", "なまごみ"),
    )


def test_an_unknown_area_is_a_404_naming_the_close_names(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, "地名,センター,燃やすごみ\n上木月,,月\n木月,,火\n古門,,水\n")
    cal = load_calendar(folder)
    with pytest.raises(GarbageAreaUnknown) as caught:
        cal.days("上木付", D(2027, 1, 1), D(2027, 1, 31))
    error = caught.value
    assert error.code == "garbage_area_unknown"
    assert error.http_status == 404
    assert error.details["area"] == "上木付"
    assert error.details["suggestions"][0] == "上木月"
    assert "古門" not in error.details["suggestions"]
    assert "上木付" in error.message_ja
    assert "上木月" in error.message_ja
    assert "上木付" in error.message_en
    assert "上木月" in error.message_en
    with pytest.raises(GarbageAreaUnknown):
        cal.notes("鞍手")


def test_an_area_is_found_whatever_the_width_of_its_digits(tmp_path: Path) -> None:
    cal = load_calendar(write_folder(tmp_path, "地名,センター,燃やすごみ\n赤坂１丁目,,月\n"))
    assert cal.area("赤坂1丁目").name == "赤坂１丁目"  # kept as written, found either way
    assert cal.days("赤坂1丁目", D(2027, 1, 4), D(2027, 1, 4)) == [(D(2027, 1, 4), "燃やすごみ")]


BAD_CELLS = [
    ("火6", "1〜5", "1 to 5"),
    ("金:13", "1〜12", "1 to 12"),
    ("金1:4::6", "1〜12", "1 to 12"),
    ("金1:", "コロン", "colon"),
    (":4 6", "収集日がありません", "no days"),
    ("2027-01-15", "20270115", "YYYYMMDD"),
    ("20270230", "日付はありません", "not a date"),
    ("月曜", "曜日(月 火 水 木 金 土 日)", "weekdays (月 火 水 木 金 土 日)"),
    ("Mon", "曜日(月 火 水 木 金 土 日)", "weekdays (月 火 水 木 金 土 日)"),
    ("*9", "remarks.csv にありません", "not in remarks.csv"),
]


@pytest.mark.parametrize(("cell", "reason_ja", "reason_en"), BAD_CELLS)
def test_a_malformed_cell_is_a_422_naming_file_line_column_and_cell(
    tmp_path: Path, cell: str, reason_ja: str, reason_en: str
) -> None:
    folder = write_folder(
        tmp_path, f"地名,センター,燃やすごみ,燃やさないごみ\n東,,月 木,水2\n西,,火 金,{cell}\n"
    )
    with pytest.raises(GarbageCalendarInvalid) as caught:
        load_calendar(folder)
    error = caught.value
    assert error.code == "garbage_calendar_invalid"
    assert error.http_status == 422
    assert error.details == {
        "file": "area_days.csv",
        "line": 3,
        "column": 4,
        "header": "燃やさないごみ",
        "cell": cell,
    }
    assert "area_days.csv の 3 行目 4 列目(燃やさないごみ)" in error.message_ja
    assert f"「{cell}」" in error.message_ja
    assert reason_ja in error.message_ja
    assert "area_days.csv line 3, column 4 (燃やさないごみ)" in error.message_en
    assert repr(cell) in error.message_en
    assert reason_en in error.message_en


def test_the_line_is_where_the_record_starts_after_a_quoted_multiline_cell(
    tmp_path: Path,
) -> None:
    folder = write_folder(tmp_path, '地名,センター,燃やすごみ\n"東\n",,月\n西,,火6\n')
    with pytest.raises(GarbageCalendarInvalid) as caught:
        load_calendar(folder)
    assert caught.value.details["line"] == 4


@pytest.mark.parametrize(
    ("files", "file", "line", "column", "says"),
    [
        ({"area_days.csv": "地名,センター,燃やすごみ\n東,,月\n東,,火\n"}, "area_days.csv", 3, 1, "2 行目と同じ"),
        ({"area_days.csv": "地名,センター,燃やすごみ\n,,月\n"}, "area_days.csv", 2, 1, "地名が空"),
        ({"area_days.csv": "地名,センター\n東,\n"}, "area_days.csv", 1, None, "ごみの種類の列"),
        ({"area_days.csv": "地名,センター,燃やすごみ,燃やすごみ\n東,,月,火\n"}, "area_days.csv", 1, 4, "重なって"),
        ({"area_days.csv": "地名,センター,燃やすごみ\n東,,月,火\n"}, "area_days.csv", 2, 4, "列が多すぎます"),
        ({"area_days.csv": "地名,センター,燃やすごみ\n"}, "area_days.csv", None, None, "地区の行"),
        ({"center.csv": "名称,休止開始日,休止終了日\n東部,2026/13/01,2027/01/03\n"}, "center.csv", 2, 2, "2026/12/30"),
        ({"center.csv": "名称,休止開始日,休止終了日\n東部,2027/01/03,2026/12/30\n"}, "center.csv", 2, 3, "より前"),
        ({"center.csv": "名称,休止開始日,休止終了日\n,2026/12/30,2027/01/03\n"}, "center.csv", 2, 1, "名称が空"),
        ({"remarks.csv": "ID,注意事項\n1,a\n1,b\n"}, "remarks.csv", 3, 1, "2 行目と同じ"),
        ({"target.csv": "type,name,notice,furigana\n燃やすごみ,,,\n"}, "target.csv", 2, 2, "name が空"),
        ({"target.csv": "種類,品目\n燃やすごみ,生ごみ\n"}, "target.csv", 1, None, "type・name"),
        ({"description.csv": "label,bgcolor\n,#fff\n"}, "description.csv", 2, 1, "label が空"),
    ],
)  # fmt: skip
def test_a_mistake_in_any_file_is_a_422_naming_where_it_is(
    tmp_path: Path,
    files: dict[str, str],
    file: str,
    line: int | None,
    column: int | None,
    says: str,
) -> None:
    folder = write_folder(tmp_path, "地名,センター,燃やすごみ\n東,東部,月\n")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    with pytest.raises(GarbageCalendarInvalid) as caught:
        load_calendar(folder)
    error = caught.value
    assert (error.details["file"], error.details["line"], error.details["column"]) == (
        file,
        line,
        column,
    )
    assert file in error.message_ja
    assert file in error.message_en
    assert says in error.message_ja
    if line is not None:
        assert f"{line} 行目" in error.message_ja
        assert f"line {line}" in error.message_en


def test_a_missing_file_and_a_shift_jis_file_are_named(tmp_path: Path) -> None:
    folder = write_folder(tmp_path, "地名,センター,燃やすごみ\n東,,月\n")
    (folder / "target.csv").unlink()
    with pytest.raises(GarbageCalendarInvalid) as missing:
        load_calendar(folder)
    assert missing.value.details["file"] == "target.csv"
    assert "target.csv" in missing.value.message_ja
    assert "missing" in missing.value.message_en

    (folder / "target.csv").write_text("type,name,notice,furigana\n", encoding="utf-8")
    (folder / "area_days.csv").write_bytes("地名,センター,燃やすごみ\n東,,月\n".encode("shift_jis"))
    with pytest.raises(GarbageCalendarInvalid) as sjis:
        load_calendar(folder)
    assert (sjis.value.details["file"], sjis.value.details["line"]) == ("area_days.csv", 1)
    assert "Shift_JIS" in sjis.value.message_ja


def test_the_sample_exports_and_loads_back_equal(tmp_path: Path) -> None:
    cal = load_calendar(SAMPLE)
    export_calendar(cal, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "area_days.csv", "center.csv", "description.csv", "remarks.csv", "target.csv",
    ]  # fmt: skip
    again = load_calendar(tmp_path / "out")
    assert again == cal
    export_calendar(again, tmp_path / "twice")
    for name in ("area_days.csv", "center.csv", "description.csv", "remarks.csv", "target.csv"):
        assert (tmp_path / "twice" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()
    assert "上木月,東部センター,月 木 *1,水4,金2 金4:5 7 9 11 1 3," in (
        tmp_path / "out" / "area_days.csv"
    ).read_text(encoding="utf-8")


def test_an_export_of_full_width_quoted_and_empty_cells_loads_back_equal(tmp_path: Path) -> None:
    cal = load_calendar(
        write_folder(
            tmp_path / "in",
            "地名,センター,燃やすごみ,粗大ごみ\n"
            '"赤坂１丁目, 北",東部,月　木：４,-\n西,,,なし\n南,,＊１ 火２ ２０２７０１１５,\n',
            center="名称,休止開始日,休止終了日\n東部,2026/12/30,2027-1-3\n",
            target='type,name,notice,furigana\n燃やすごみ,生ごみ,"水を切る,\n よく",なまごみ\n',
            description='label,sublabel,description,styles,bgcolor\n燃やすごみ,,"袋, 赤",,#ea3b13\n',
        )
    )
    export_calendar(cal, tmp_path / "out")
    assert load_calendar(tmp_path / "out") == cal
    assert cal.areas[0].name == "赤坂１丁目, 北"
    assert cal.areas[1].schedules == (Schedule(), Schedule())


def test_find_targets_by_kanji_by_reading_in_either_kana_and_misspelt() -> None:
    cal = load_calendar(SAMPLE)
    assert find_targets(cal, "新聞")[0].name == "新聞紙"
    assert find_targets(cal, "乾電池")[0] == Target(
        "燃やさないごみ", "乾電池", "透明の袋に分けて出す", "かんでんち"
    )
    assert find_targets(cal, "かんでんち")[0].name == "乾電池"
    assert find_targets(cal, "カンデンチ")[0].name == "乾電池"
    assert find_targets(cal, "ｹｲｺｳﾄｳ")[0].name == "蛍光灯"  # half-width katakana
    assert find_targets(cal, "ぺとぼとる")[0].name == "ペットボトル"  # a letter left out
    assert find_targets(cal, "フライパソ")[0].name == "フライパン"  # ン read as ソ
    assert find_targets(cal, "古いフライパンを捨てたい")[0].name == "フライパン"
    assert [t.name for t in find_targets(cal, "ペット ボトル")] == ["ペットボトル"]
    assert find_targets(cal, "ふらいぱん")[0].category == "燃やさないごみ"
    assert find_targets(cal, "なまごみ")[0].category == "燃やすごみ"
    assert find_targets(cal, "しんぶんし")[0].category == "資源ごみ"
    assert find_targets(cal, "じてんしゃ")[0].category == "粗大ごみ"
    assert find_targets(cal, "エアコン") == []
    assert find_targets(cal, "  ") == []


def test_find_targets_ranks_exact_then_contained_then_close_and_keeps_ten(tmp_path: Path) -> None:
    rows = "".join(f"燃やさないごみ,電池{i:02d},,でんち\n" for i in range(20))
    folder = write_folder(
        tmp_path,
        "地名,センター,燃やさないごみ\n東,,水\n",
        target="type,name,notice,furigana\n"
        "燃やさないごみ,水銀電池,,すいぎんでんち\n" + rows + "燃やさないごみ,電池,,でんち\n",
    )
    cal = load_calendar(folder)
    found = find_targets(cal, "電池")
    assert found[0].name == "電池"  # the same name first, though it is the last row
    # then names containing it, the shorter first and then in the file's order, ten in all
    assert [t.name for t in found[1:]] == ["水銀電池"] + [f"電池{i:02d}" for i in range(8)]
    by_reading = find_targets(cal, "でんち")  # 21 readings are the same: 水銀電池 comes after
    assert [t.name for t in by_reading] == [f"電池{i:02d}" for i in range(10)]
    assert [t.name for t in find_targets(cal, "水銀")] == ["水銀電池"]
    assert len(find_targets(cal, "でんち", limit=3)) == 3


def test_the_sample_loads_and_every_kurate_area_has_days_in_december_2026() -> None:
    cal = load_calendar(SAMPLE)
    assert {a.name for a in cal.areas} == KURATE_AREAS
    assert cal.categories == ("燃やすごみ", "燃やさないごみ", "資源ごみ", "粗大ごみ")
    assert {c.name for c in cal.centers} == {a.center for a in cal.areas}
    for area in cal.areas:
        december = cal.days(area.name, D(2026, 12, 1), D(2026, 12, 31))
        burnable = [d for d, c in december if c == "燃やすごみ"]
        assert len(burnable) >= 7, area.name  # twice a week, less the closure
        assert {c for _, c in december} >= {"燃やすごみ", "燃やさないごみ"}, area.name
        # the New Year closure of every centre
        assert cal.days(area.name, D(2026, 12, 30), D(2027, 1, 3)) == [], area.name
        assert cal.days(area.name, D(2026, 12, 28), D(2027, 1, 9)) != [], area.name
    assert cal.days("中山", D(2026, 12, 28), D(2027, 1, 8)) == [
        (D(2026, 12, 28), "燃やすごみ"),  # 12/31 (Thu) is closed
        (D(2027, 1, 4), "燃やすごみ"),
        (D(2027, 1, 7), "燃やすごみ"),
    ]
    assert cal.days("中山", D(2026, 12, 1), D(2026, 12, 31)) == [
        (D(2026, 12, 3), "燃やすごみ"),
        (D(2026, 12, 4), "資源ごみ"),  # 金1 in an even month
        (D(2026, 12, 7), "燃やすごみ"),
        (D(2026, 12, 9), "燃やさないごみ"),  # 水2
        (D(2026, 12, 10), "燃やすごみ"),
        (D(2026, 12, 14), "燃やすごみ"),
        (D(2026, 12, 17), "燃やすごみ"),
        (D(2026, 12, 18), "資源ごみ"),  # 金3
        (D(2026, 12, 21), "燃やすごみ"),
        (D(2026, 12, 24), "燃やすごみ"),
        (D(2026, 12, 28), "燃やすごみ"),
    ]
    assert cal.days("中山", D(2026, 11, 18), D(2026, 11, 18)) == [(D(2026, 11, 18), "粗大ごみ")]
    assert cal.notes("上木月") == [("燃やすごみ", cal.remarks[0].text)]


def test_the_sample_has_about_forty_items_with_readings_and_says_it_is_a_sample() -> None:
    cal = load_calendar(SAMPLE)
    assert len(cal.targets) >= 40
    assert all(t.reading and t.category in cal.categories for t in cal.targets)
    names = {t.name for t in cal.targets}
    assert {"ペットボトル", "新聞紙", "乾電池", "蛍光灯", "生ごみ", "フライパン"} <= names
    assert [d.label for d in cal.descriptions] == list(cal.categories)
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert "サンプル" in readme
    assert "SAMPLE" in readme
    assert "実際のごみ収集日ではありません" in readme
    assert "NOT Kurate's real" in readme
    assert "drt town garbage import DIR" in readme
