"""Forms nobody handwrites (town/forms.py): the area's definitions load and validate, a bad
definition is refused naming the file, field and key, the record fills a form only with the
resident's consent, numbers are never given twice (eight applications made at once), and the
counter's rules: complete refused until required fields are written and confirmed fields
ticked, a changed value loses its tick, a finished application no longer changes.

Resident R: 鞍手 太郎 (クラテ タロウ), 鞍手町大字中山 1, 09012345678, born 1946.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import DrtError, Forbidden, NotFound
from residents import models as rm
from residents.service import Actor
from server.migrate import upgrade
from tests.harness import IsolatedDatabase
from town import forms as fm
from town.models import FormApplication

pytestmark = pytest.mark.services
ROOT = Path(__file__).resolve().parents[2]
AREA = ROOT / "areas" / "kurate"
JST = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)  # 10:00 in Kurate
OP = Actor("staff", "S-op", "operator")
R = Actor("resident", "R1", "resident")
CHOSEN = {"certificate": "住民票の写し", "copies": 2, "purpose": "相続・登記"}

MINIMAL: dict[str, Any] = {
    "id": "sample",
    "title": "見本の申請書",
    "number_prefix": "Z",
    "fields": [
        {"id": "name", "label": "氏名", "type": "text", "required": True, "prefill": "name",
         "staff_confirm": True, "pdf": {"x": 15, "y": 40, "w": 100}},
        {"id": "kind", "label": "種類", "type": "choice", "choices": ["一", "二"], "line": True,
         "pdf": {"x": 15, "y": 60, "w": 100}},
    ],
}  # fmt: skip


def form_text(**over: Any) -> str:
    return yaml.safe_dump({**MINIMAL, **over}, allow_unicode=True)


def with_field(index: int, **over: Any) -> str:
    fields = [dict(f) for f in MINIMAL["fields"]]
    fields[index].update(over)
    for k in [k for k, v in fields[index].items() if v is None]:
        del fields[index][k]
    return form_text(fields=fields)


@pytest.fixture(scope="module")
def forms() -> fm.Catalog:
    return fm.Catalog(fm.load_folder(AREA))


@pytest.fixture
def session(db_schema: IsolatedDatabase) -> Iterator[Session]:
    upgrade(db_schema.engine)
    with db_schema.sessionmaker()() as s:
        s.add(rm.Resident(id="R1", name="鞍手 太郎", kana="クラテ タロウ", phone="09012345678",
                          address="鞍手町大字中山 1", birth_year=1946, eligibility="resident",
                          consent_at=NOW, created_at=NOW))  # fmt: skip
        s.commit()
        yield s


def audit_actions(session: Session) -> list[tuple[str, dict[str, Any]]]:
    rows = session.scalars(select(rm.AuditEntry).where(rm.AuditEntry.action.like("town.form.%"))
                           .order_by(rm.AuditEntry.id)).all()  # fmt: skip
    return [(r.action, r.details) for r in rows]


# -- definitions ---------------------------------------------------------------------------------


def test_the_area_s_forms_load_as_samples_with_what_they_need(forms: fm.Catalog) -> None:
    assert [f.id for f in forms.forms] == ["certificate", "license-return"]
    cert = forms.get("certificate")
    assert cert.sample  # the town replaces them with its own
    assert cert.number_prefix == "A"
    assert [f.prefill for f in cert.prefill_fields] == ["kana", "name", "birth_year", "phone",
                                                         "address"]  # fmt: skip
    assert {f.id for f in cert.fields if f.staff_confirm} == {"name", "birth_year", "address"}
    assert [f.id for f in cert.line_fields] == ["certificate", "scope", "copies", "purpose"]
    for f in cert.line_fields:  # with 「やめる」 (and 「とばす」), five buttons at most
        assert len(f.line_options()) + (0 if f.required else 1) <= 4
    assert [v for _, v in cert.field("copies").line_options()] == [1, 2, 3, 4]
    assert cert.field("id_document").by == "staff"
    assert cert.field("requester").default == "本人"
    other = forms.get("license-return")
    assert other.number_prefix == "B"
    assert other.field("certificate_seen").type == "check"
    assert other.field("returned_on").type == "date"
    with pytest.raises(NotFound):
        forms.get("nosuch")


def test_the_version_is_what_the_file_says_not_its_comments() -> None:
    v1 = fm.parse_form(form_text()).version
    assert fm.parse_form("# a comment\n" + form_text()).version == v1
    assert fm.parse_form(form_text(title="別の名前")).version != v1
    assert len(v1) == 12


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("id: [", "line"),
        ("- a list", "file"),
        (form_text(colour="red"), "file"),
        (form_text(id="applications"), "id"),
        (form_text(id="Bad Id"), "id"),
        (form_text(number_prefix="AB"), "number_prefix"),
        (form_text(fields=[]), "fields"),
        (with_field(1, type="radio"), "fields[2] (kind): type"),
        (with_field(1, choices=["一"]), "fields[2] (kind): choices"),
        (with_field(1, choices=["一", "一"]), "fields[2] (kind): choices"),
        (with_field(1, choices=["一", "二", "三", "四", "五"]), "fields[2] (kind): choices"),  # LINE: 5 > 3
        (with_field(1, line=None, choices=[str(i) for i in range(13)]), "fields[2] (kind): choices"),
        (with_field(1, type="text", choices=None), "fields[2] (kind): line"),  # text is not asked in LINE
        (with_field(0, prefill="income"), "fields[1] (name): prefill"),
        (with_field(0, prefill="birth_year"), "fields[1] (name): prefill"),  # a number, not text
        (with_field(0, by="staff"), "fields[1] (name): prefill"),
        (with_field(0, by="clerk"), "fields[1] (name): by"),
        (with_field(0, max_length=0), "fields[1] (name): max_length"),
        (with_field(0, required="yes"), "fields[1] (name): required"),
        (with_field(1, default="三"), "fields[2] (kind): default"),
        (with_field(1, id="name"), "fields[2] (name): id"),
        (with_field(1, pdf={"x": 150, "y": 60, "w": 100}), "fields[2] (kind): pdf"),  # off the page
        (with_field(1, pdf={"x": 15, "y": 10, "w": 100}), "fields[2] (kind): pdf"),  # the header
        (with_field(1, pdf={"x": 15, "y": 50, "w": 100}), "fields[2] (kind): pdf"),  # overlaps 氏名
        (with_field(1, pdf={"x": 15, "y": 60}), "fields[2] (kind): pdf"),
        (with_field(1, min=1), "fields[2] (kind): min"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_naming_where(text: str, where: str) -> None:
    with pytest.raises(fm.FormDefinitionInvalid) as e:
        fm.parse_form(text, "sample.yaml")
    assert e.value.details["file"] == "sample.yaml"
    assert e.value.details["where"].startswith(where), e.value.details
    assert e.value.message_ja.startswith("sample.yaml の ")
    assert e.value.http_status == 422


def test_two_forms_with_one_id_or_prefix_are_refused_and_a_broken_file_keeps_the_last_good(
    tmp_path: Path,
) -> None:
    (tmp_path / "forms").mkdir()
    first = tmp_path / "forms" / "a.yaml"
    first.write_text(form_text(), encoding="utf-8")
    second = tmp_path / "forms" / "b.yaml"
    second.write_text(form_text(id="other"), encoding="utf-8")  # the same prefix Z
    with pytest.raises(fm.FormDefinitionInvalid) as e:
        fm.load_folder(tmp_path)
    assert e.value.details == {"file": "b.yaml", "where": "number_prefix"}
    assert [f.id for f in fm.catalog(tmp_path).forms] == ["sample"]  # b.yaml left out
    second.write_text(form_text(id="other", number_prefix="Y"), encoding="utf-8")
    assert [f.id for f in fm.catalog(tmp_path).forms] == ["sample", "other"]
    first.write_text(form_text(title="直した題名"), encoding="utf-8")
    assert fm.catalog(tmp_path).get("sample").title == "直した題名"  # read again when saved
    first.write_text("id: [broken", encoding="utf-8")
    assert fm.catalog(tmp_path).get("sample").title == "直した題名"  # the last good one
    (tmp_path / "forms" / "c.yaml").write_text("id: [new and broken", encoding="utf-8")
    assert [f.id for f in fm.catalog(tmp_path).forms] == ["sample", "other"]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("copies", 3, 3), ("copies", "３", 3), ("copies", None, None), ("name", "  鞍手  太郎 ", "鞍手 太郎"),
        ("certificate", "印鑑登録証明書", "印鑑登録証明書"), ("name", "", None),
    ],
)  # fmt: skip
def test_values_are_stored_as_checked(
    forms: fm.Catalog, field: str, value: Any, stored: Any
) -> None:
    assert fm.check_value(forms.get("certificate").field(field), value) == stored


@pytest.mark.parametrize(
    ("form", "field", "value"),
    [
        ("certificate", "copies", 0), ("certificate", "copies", 11), ("certificate", "copies", True),
        ("certificate", "copies", "二"), ("certificate", "certificate", "戸籍謄本"),
        ("certificate", "name", 5), ("certificate", "name", "長" * 81),
        ("license-return", "returned_on", "12月1日"), ("license-return", "certificate_seen", "はい"),
    ],
)  # fmt: skip
def test_bad_values_say_what_is_expected(
    forms: fm.Catalog, form: str, field: str, value: Any
) -> None:
    f = forms.get(form).field(field)
    with pytest.raises(fm.FormValueInvalid) as e:
        fm.check_value(f, value)
    assert e.value.message_ja.startswith(f"「{f.label}」: ")
    assert e.value.details == {"field": field}


# -- consent ---------------------------------------------------------------------------------------


def test_the_record_fills_a_form_only_with_consent(session: Session, forms: fm.Catalog) -> None:
    cert = forms.get("certificate")
    without = fm.create(session, R, cert, "R1", CHOSEN, False, "app", NOW, JST)
    assert without.values == {"requester": "本人", **CHOSEN}  # a default, and the answers
    assert without.prefilled == []
    assert without.prefill_consent_at is None
    assert without.status == "pre_applied"
    given = {**CHOSEN, "phone": "0949-42-0000"}  # what the resident wrote is kept
    agreed = fm.create(session, R, cert, "R1", given, True, "line", NOW, JST)
    assert agreed.values["name"] == "鞍手 太郎"
    assert agreed.values["kana"] == "クラテ タロウ"
    assert agreed.values["address"] == "鞍手町大字中山 1"
    assert agreed.values["birth_year"] == 1946
    assert agreed.values["phone"] == "0949-42-0000"
    assert agreed.prefilled == ["kana", "name", "birth_year", "address"]
    assert agreed.prefill_consent_at == NOW
    session.flush()
    actions = audit_actions(session)
    assert [a for a, _ in actions] == ["town.form.create", "town.form.create", "town.form.prefill"]
    assert actions[2][1] == {"application": agreed.id, "consent": True,
                             "fields": ["kana", "name", "birth_year", "address"]}  # fmt: skip
    assert "鞍手 太郎" not in str(actions)  # which fields, not what the record says


def test_staff_fill_from_the_record_when_the_resident_agrees_at_the_counter(
    session: Session, forms: fm.Catalog
) -> None:
    row = fm.create(session, R, forms.get("certificate"), "R1", {"name": "鞍手 太朗"}, False,
                    "app", NOW, JST)  # fmt: skip
    later = NOW + timedelta(days=1)
    fm.update(session, OP, forms, row.id, later, prefill=True)
    assert row.values["name"] == "鞍手 太朗"  # written by hand: not replaced
    assert row.values["address"] == "鞍手町大字中山 1"
    assert row.prefilled == ["kana", "birth_year", "phone", "address"]
    assert row.prefill_consent_at == later
    assert row.status == "in_review"
    session.flush()
    assert audit_actions(session)[-1][0] == "town.form.prefill"


def test_a_resident_applies_for_themselves_only_and_does_not_write_staff_fields(
    session: Session, forms: fm.Catalog
) -> None:
    cert = forms.get("certificate")
    with pytest.raises(Forbidden):
        fm.create(session, R, cert, "R2", {}, True, "app", NOW, JST)
    with pytest.raises(fm.FormFieldStaffOnly):
        fm.create(session, R, cert, "R1", {"id_document": "運転免許証"}, False, "app", NOW, JST)
    with pytest.raises(fm.FormValueInvalid):
        fm.create(session, R, cert, "R1", {"shoe_size": 25}, False, "app", NOW, JST)
    row = fm.create(session, OP, cert, "R1", {"id_document": "運転免許証"}, False, "counter", NOW,
                    JST)  # fmt: skip
    assert row.status == "in_review"  # made at the counter


# -- numbers -----------------------------------------------------------------------------------------


def test_numbers_count_per_form_and_year_in_the_town_s_time(
    session: Session, forms: fm.Catalog
) -> None:
    cert, other = forms.get("certificate"), forms.get("license-return")
    made = [fm.create(session, R, f, "R1", {}, False, "app", t, JST).number for f, t in [
        (cert, NOW), (cert, NOW), (other, NOW),
        (cert, datetime(2026, 12, 31, 14, 59, tzinfo=UTC)),  # 23:59 on 31 December in Kurate
        (cert, datetime(2026, 12, 31, 15, 0, tzinfo=UTC)),  # 0:00 on 1 January
    ]]  # fmt: skip
    assert made == ["A26-0001", "A26-0002", "B26-0001", "A26-0003", "A27-0001"]


def test_applications_made_at_once_never_share_a_number(
    db_schema: IsolatedDatabase, session: Session, forms: fm.Catalog
) -> None:
    """Eight sessions at once (each its own transaction); the counter's row lock orders them."""
    cert = forms.get("certificate")
    make = db_schema.sessionmaker()
    start = threading.Barrier(8)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def apply() -> None:
        try:
            with make() as s:
                start.wait(10)
                row = fm.create(s, R, cert, "R1", {}, False, "app", NOW, JST)
                s.commit()
                numbers.append(row.number)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(numbers) == [f"A26-{n:04d}" for n in range(1, 9)]


def test_a_number_is_found_as_typed(session: Session, forms: fm.Catalog) -> None:
    rows = [fm.create(session, R, forms.get("certificate"), "R1", {}, False, "app", NOW, JST)
            for _ in range(2)]  # fmt: skip
    for typed in ("A26-0002", "a26-0002", "ａ２６−０００２", "a26 0002", "0002"):
        assert [r.number for r in fm.listing(session, OP, JST, number=typed)] == ["A26-0002"]
    assert len(fm.listing(session, OP, JST, day=NOW.astimezone(JST).date())) == 2
    assert fm.listing(session, OP, JST, day=(NOW + timedelta(days=1)).date()) == []
    assert [r.id for r in fm.listing(session, OP, JST, status="pre_applied")] == [
        rows[1].id, rows[0].id]  # fmt: skip
    with pytest.raises(DrtError):
        fm.listing(session, OP, JST, status="lost")
    with pytest.raises(Forbidden):
        fm.listing(session, R, JST)


# -- at the counter -------------------------------------------------------------------------------------


def test_complete_waits_for_required_fields_and_staff_ticks(
    session: Session, forms: fm.Catalog
) -> None:
    row = fm.create(session, R, forms.get("certificate"), "R1", CHOSEN, True, "line", NOW, JST)
    with pytest.raises(fm.FormIncomplete) as e:
        fm.complete(session, OP, forms, row.id, NOW)
    assert e.value.details == {"missing": ["id_document"],
                               "unconfirmed": ["name", "birth_year", "address"]}  # fmt: skip
    assert "本人確認書類(窓口記入)" in e.value.message_ja
    with pytest.raises(fm.FormValueInvalid):  # an empty field cannot be confirmed
        fm.update(session, OP, forms, row.id, NOW, confirm={"relationship": True})
    fm.update(session, OP, forms, row.id, NOW, values={"id_document": "マイナンバーカード"},
              confirm={"name": True, "birth_year": True, "address": True})  # fmt: skip
    assert row.confirmed == ["name", "birth_year", "address"]
    fm.update(session, OP, forms, row.id, NOW, values={"address": "鞍手町大字中山 2"})
    assert row.confirmed == ["name", "birth_year"]  # changed: to be checked again
    assert "address" not in row.prefilled  # and no longer the record's
    with pytest.raises(fm.FormIncomplete) as e:
        fm.complete(session, OP, forms, row.id, NOW)
    assert e.value.details == {"missing": [], "unconfirmed": ["address"]}
    fm.update(session, OP, forms, row.id, NOW, confirm={"address": True})
    done = fm.complete(session, OP, forms, row.id, NOW + timedelta(minutes=5))
    assert (done.status, done.completed_by) == ("completed", "S-op")
    assert fm.complete(session, OP, forms, row.id, NOW + timedelta(hours=1)).completed_at == (
        NOW + timedelta(minutes=5))  # fmt: skip
    with pytest.raises(fm.ApplicationClosed):
        fm.update(session, OP, forms, row.id, NOW, values={"copies": 1})
    with pytest.raises(fm.ApplicationClosed):
        fm.cancel(session, OP, row.id, NOW)
    with pytest.raises(Forbidden):
        fm.complete(session, R, forms, row.id, NOW)
    session.flush()
    assert [a for a, _ in audit_actions(session)] == [
        "town.form.create", "town.form.prefill", "town.form.update", "town.form.update",
        "town.form.update", "town.form.complete"]  # fmt: skip


def test_a_resident_cancels_a_pre_application_but_not_one_at_the_counter(
    session: Session, forms: fm.Catalog
) -> None:
    cert = forms.get("certificate")
    mine = fm.create(session, R, cert, "R1", {}, False, "app", NOW, JST)
    assert fm.cancel(session, R, mine.id, NOW).status == "cancelled"
    assert fm.cancel(session, R, mine.id, NOW).status == "cancelled"  # again: the same
    at_counter = fm.create(session, R, cert, "R1", {}, False, "app", NOW, JST)
    fm.update(session, OP, forms, at_counter.id, NOW, values={"copies": 3})
    with pytest.raises(fm.ApplicationClosed):
        fm.cancel(session, R, at_counter.id, NOW)
    assert fm.cancel(session, OP, at_counter.id, NOW).status == "cancelled"
    other = Actor("resident", "R2", "resident")
    with pytest.raises(NotFound):
        fm.cancel(session, other, mine.id, NOW)
    assert session.scalars(select(FormApplication.status)).all() == ["cancelled", "cancelled"]
