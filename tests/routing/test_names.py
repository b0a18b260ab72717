"""Names people know (routing/names.py) and their readings (routing/readings.py), on the
shipped meeting points and on the rules themselves."""

from __future__ import annotations

import json
import re
import threading
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drt.cli import app
from routing.config import AreaConfig
from routing.names import SHORT_NAME_MAX, district_label, facility_name, landmark, short_name
from routing.readings import NAME_WORDS, Reader, same_reading, true_reading
from routing.stops import MeetingPoint, MeetingPointSet, StopError

ROOT = Path(__file__).resolve().parents[2]


def test_no_shipped_name_gives_a_distance_and_every_short_name_fits(
    stops: MeetingPointSet,
) -> None:
    for p in stops.points:
        assert not re.search(r"約|\d+\s*m\b|ｍ", p.name), p.name  # 「…の北 約600m」 was 98 names
        assert p.short_name is not None, p
        assert 1 <= len(p.short_name) <= SHORT_NAME_MAX, p
        assert "…" not in p.short_name, p  # made by abbreviating, never by cutting
        assert not p.name.startswith("大字"), p.name  # residents say 「古門」
    shorts = [p.short_name for p in stops.points]
    assert len(set(shorts)) == len(shorts)  # buttons tell the points apart too
    names = {p.name for p in stops.points}
    assert "鞍手町立病院" in names
    assert "鞍手町病院事業鞍手町立病院" not in names
    assert "宮田消防署鞍手出張所" in names


def test_every_shipped_point_has_a_reading_marked_machine_until_staff_confirm(
    stops: MeetingPointSet,
) -> None:
    for p in stops.points:
        assert p.kana, p
        assert p.kana_source == "machine", p
        assert re.fullmatch(r"[ァ-ヶー・()0-9A-Za-z ]+", p.kana), (
            p.kana
        )  # katakana, like residents'
    kana = {p.name: p.kana for p in stops.points}
    assert kana["鞍手町役場"] == "クラテマチヤクバ"
    assert kana["剣第二保育所"] == "ツルギダイニホイクショ"
    # 小牧 is おまき (Japan Post), not the dictionary's こまき
    assert next(v for k, v in kana.items() if k.startswith("小牧・")).startswith("オマキ・")


def test_the_measured_ground_truth_covers_every_shipped_name(stops: MeetingPointSet) -> None:
    truth = tomllib.loads((ROOT / "benchmarks/readings/kurate.toml").read_text(encoding="utf-8"))
    words = {**truth["district"], **truth["words"]}
    unknown = truth["unknown"]["words"]
    read = [p for p in stops.points if not any(u in p.name for u in unknown)]
    assert len(read) >= 170
    assert all(true_reading(p.name, words) for p in read)


def test_facility_names_and_landmarks() -> None:
    aliases = {"鞍手町病院事業鞍手町立病院": "鞍手町立病院"}
    assert facility_name("鞍手町病院事業鞍手町立病院", aliases) == "鞍手町立病院"
    assert facility_name("直方・鞍手広域消防署", {}, ["直方・鞍手広域"]) == "消防署"
    assert (
        facility_name("直方・鞍手広域", {}, ["直方・鞍手広域"]) == "直方・鞍手広域"
    )  # never empty
    assert landmark("町立剣北小学校") == "剣北小学校"
    assert landmark("県立鞍手高等学校鞍手分校") == "鞍手高等学校鞍手分校"
    assert district_label("大字古門") == "古門"
    assert district_label("弥生一丁目") == "弥生一丁目"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("鞍手町役場", "鞍手町役場"),
        ("県立鞍手高等学校鞍手分校", "県立鞍手高等学校鞍手分校"),  # 12: fits as it is
        ("猪倉・鞍手町歴史民俗資料館の北西(南)", "猪倉・鞍手町資料館の北西(南)"),
        ("木月・鞍手高等学校鞍手分校の南(北東)", "鞍手高校鞍手分校の南(北東)"),  # 17 → after 大字
        ("中山・直方警察署中山交番の南西(南)", "直方警察署中山交番の南西(南)"),
        ("あいうえおかきくけこさしすせそたちつてと", "あいうえおかきくけこさしすせそ…"),
    ],
)
def test_short_names_abbreviate_before_they_cut(name: str, short: str) -> None:
    assert short_name(name) == short
    assert len(short_name(name)) <= SHORT_NAME_MAX


def test_a_point_refuses_a_short_name_that_does_not_fit() -> None:
    with pytest.raises(StopError):
        MeetingPoint("KUR-001", "鞍手町役場", "town_hall", 33.79, 130.67, short_name="x" * 17)
    with pytest.raises(StopError):
        MeetingPoint("KUR-001", "鞍手町役場", "town_hall", 33.79, 130.67, kana_source="guess")
    p = MeetingPoint("KUR-001", "中山・直方警察署中山交番の南西(南)", "coverage", 33.79, 130.67)
    assert p.label == "直方警察署中山交番の南西(南)"  # made from the name when none is stored


def test_the_reader_takes_the_towns_words_then_its_own_then_the_library() -> None:
    seen: list[str] = []

    def library(text: str) -> str:
        seen.append(text)
        return "〈" + text + "〉"

    reader = Reader({"小牧": "おまき", "古月": "フルツキ"}, library)
    assert reader.hiragana("小牧・古月郵便局の北西(2)") == "おまき・ふるつき〈郵便局の〉ほくせい(2)"
    assert seen == ["郵便局の"]  # only what the area and the name template do not know
    assert reader.kana("小牧") == "オマキ"
    assert NAME_WORDS["沿い"] == "ぞい"


def test_the_shipped_library_reads_common_words() -> None:
    reader = Reader({})
    assert reader.hiragana("郵便局") == "ゆうびんきょく"
    assert reader.kana("小学校の西(1)") == "ショウガッコウノニシ(1)"


def test_readings_from_many_threads_at_once() -> None:
    """The API reads names in a thread pool: one shared SudachiPy tokenizer refused a second
    thread ("Tokenizer is already in use")."""
    reader = Reader({})
    expected = reader.hiragana("鞍手町立病院の郵便局と新延小学校")
    found: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            found.extend(reader.hiragana("鞍手町立病院の郵便局と新延小学校") for _ in range(200))
        except BaseException as exc:  # collected, then asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert found == [expected] * 1600


def test_ground_truth_helpers() -> None:
    words = {"古門": "ふるもん", "北": "きた"}
    assert true_reading("古門(北・1)", words) == "ふるもん(きた・1)"
    assert true_reading("古門・郵便局", words) is None
    assert same_reading("フルモン(キタ・1)", "ふるもん きた1")
    assert not same_reading("こもん", "ふるもん")


def test_stops_list_json_carries_name_short_name_and_kana(area_cfg: AreaConfig) -> None:
    result = CliRunner().invoke(
        app, ["--area", str(area_cfg.source), "stops", "list", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    features = json.loads(result.output)["features"]
    assert len(features) >= 150
    for f in features:
        props = f["properties"]
        assert props["name"]
        assert props["kana"]
        assert props["kana_source"] == "machine"
        assert 1 <= len(props["short_name"]) <= SHORT_NAME_MAX
