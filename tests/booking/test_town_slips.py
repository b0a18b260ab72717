"""The payment slips' API (/v1/town/slips) on the running app: the slips file imported
(checked whole, the same file again changes nothing, a changed barcode refused), who sees
which slip, the PDF (its text, and its barcode and eL-QR code decoded back from the page
rendered at 300 dpi), the payments file (paid, already paid, unknown, mismatched; again:
nothing changes), the barcode digits for staff, and the `drt town slip` commands on the
sample files.

Slips (biller 912345, due Friday 25 December 2026): A's 軽自動車税 of 12,300 yen with an
eL-QR payload; a slip of nobody's (not linked) of 4,000 yen; B has none.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from typer.testing import CliRunner

from drt.cli import app
from residents import models as rm
from tests.booking.conftest import Svc
from town import gs1
from town.models import PaymentSlip

pytestmark = pytest.mark.services
BASE = "/v1/town/slips"
SAMPLE = Path(__file__).resolve().parents[2] / "areas" / "kurate" / "slips-sample"
COLUMNS = ("resident_id", "subject", "fiscal_year", "period", "payer_name", "biller_code",
           "free_field", "reissue", "due", "stamp", "amount", "elqr_payload")  # fmt: skip
PAYLOAD = "ELQR-TEST-0123456789-ABCDEFGHIJ"  # a placeholder: the real format is not public


def slip(resident: str = "", free: str = "1" * 21, **over: Any) -> dict[str, Any]:
    return {"resident_id": resident, "subject": "軽自動車税(種別割)", "fiscal_year": 2026,
            "period": "全期", "payer_name": "鞍手 太郎", "biller_code": "912345",
            "free_field": free, "reissue": 0, "due": "2026-12-25", "stamp": 0, "amount": 12300,
            "elqr_payload": PAYLOAD, **over}  # fmt: skip


def csv_of(*rows: dict[str, Any]) -> str:
    lines = [",".join(COLUMNS)] + [",".join(str(r[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def digits(row: dict[str, Any]) -> str:
    from datetime import date

    return gs1.SlipCode(row["biller_code"], row["free_field"], int(row["reissue"]),
                        date.fromisoformat(row["due"]), int(row["stamp"]),
                        int(row["amount"])).digits  # fmt: skip


def post(svc: Svc, path: str, token: str | None, **kw: Any) -> Any:
    headers = svc.auth(token) if token else {}
    return svc.client.post(BASE + path, headers=headers, **kw)


def get(svc: Svc, path: str, token: str | None, **kw: Any) -> Any:
    headers = svc.auth(token) if token else {}
    return svc.client.get(BASE + path, headers=headers, **kw)


def imported(svc: Svc, *rows: dict[str, Any]) -> dict[str, Any]:
    r = post(svc, "/import", svc.operator_token, json={"csv": csv_of(*rows), "source": "t.csv"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def stored(svc: Svc) -> int:
    with svc.db.sessionmaker()() as s:
        return int(s.scalar(select(func.count()).select_from(PaymentSlip)) or 0)


def test_the_slips_file_is_checked_whole_and_importing_again_changes_nothing(svc: Svc) -> None:
    a, _ = svc.register("090-3000-0001")
    rows = (slip(a), slip(free="2" * 21, payer_name="町外 次郎", amount=4000, elqr_payload=""))
    first = imported(svc, *rows)
    assert (first["created"], first["updated"], first["unchanged"]) == (2, 0, 0)
    assert [s["row"] for s in first["slips"]] == [2, 3]
    again = imported(svc, *rows)
    assert (again["created"], again["unchanged"]) == (0, 2)
    assert [s["id"] for s in again["slips"]] == [s["id"] for s in first["slips"]]
    renamed = imported(svc, slip(a, payer_name="鞍手 太郎(本人)"))  # names may change
    assert renamed["updated"] == 1
    assert stored(svc) == 2

    # what the barcode says may not change under the same key: a reissue is a new slip
    r = post(svc, "/import", svc.operator_token, json={"csv": csv_of(slip(a, amount=12400))})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "slip_conflict")
    assert r.json()["error"]["details"]["conflicts"][0]["fields"] == ["amount"]
    reissued = imported(svc, slip(a, reissue=1, amount=12400, due="2027-01-15"))
    assert reissued["created"] == 1
    old = get(svc, f"/{first['slips'][0]['id']}", svc.operator_token).json()
    assert old["superseded"] is True  # shown as replaced; its PDF says so, without codes
    pdf = get(svc, f"/{old['id']}.pdf", svc.operator_token).content
    said = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\n", "")
    assert "作りなおしました(再発行)。新しい納付書で払ってください" in said

    # a wrong cell anywhere: nothing stored, every problem named by row
    bad = csv_of(slip(free="3" * 21), slip(free="4" * 20), slip(free="5" * 21, due="12月"),
                 slip("Rnosuchresident", free="6" * 21))  # fmt: skip
    r = post(svc, "/import", svc.operator_token, json={"csv": bad})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "slip_file_invalid")
    assert [(p["row"], p["field"]) for p in r.json()["error"]["details"]["problems"]] == [
        (3, "free_field"), (4, "due")]  # fmt: skip
    assert "直すところが2か所" in r.json()["error"]["message_ja"]
    unknown = post(svc, "/import", svc.operator_token,
                   json={"csv": csv_of(slip("Rnosuchresident", free="6" * 21))})  # fmt: skip
    assert unknown.json()["error"]["details"]["problems"][0]["field"] == "resident_id"
    gone, _ = svc.register("090-3000-0002")
    closed = svc.client.post(f"/v1/operator/residents/{gone}/close",
                             headers=svc.auth(svc.operator_token))  # fmt: skip
    assert closed.status_code == 200, closed.text
    r = post(svc, "/import", svc.operator_token, json={"csv": csv_of(slip(gone, free="6" * 21))})
    assert "登録をやめています" in r.json()["error"]["details"]["problems"][0]["message_ja"]
    assert stored(svc) == 3
    for token, want in ((None, 401), (svc.channel_token, 403)):
        assert post(svc, "/import", token, json={"csv": csv_of(slip())}).status_code == want
    with svc.db.sessionmaker()() as s:
        actions = s.scalars(select(rm.AuditEntry.action)
                            .where(rm.AuditEntry.action == "town.slip.import")).all()  # fmt: skip
    assert len(actions) == 4  # the imports that went through


def test_a_slip_is_for_staff_and_its_own_resident(svc: Svc) -> None:
    a, token_a = svc.register("090-3000-0011")
    _, token_b = svc.register("090-3000-0012")
    ids = [s["id"] for s in imported(svc, slip(a), slip(free="2" * 21))["slips"]]
    mine = get(svc, "/mine", token_a).json()
    assert [(s["id"], s["amount"], s["status"], s["barcode"]) for s in mine] == [
        (ids[0], 12300, "unpaid", digits(slip(a)))]  # fmt: skip
    assert "biller_code" not in mine[0]  # the resident's view
    assert get(svc, "/mine", token_b).json() == []
    assert get(svc, f"/{ids[0]}", token_a).json()["subject"] == "軽自動車税(種別割)"
    for path in (f"/{ids[0]}", f"/{ids[0]}.pdf", f"/{ids[1]}"):  # not theirs: as if none
        r = get(svc, path, token_b)
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found"), path
    assert get(svc, f"/{ids[1]}", token_a).status_code == 404  # nobody's slip
    staff = get(svc, f"/{ids[0]}", svc.operator_token).json()
    assert (staff["resident_id"], staff["biller_code"], staff["elqr"]) == (a, "912345", True)
    assert get(svc, f"/{ids[0]}", svc.channel_token).status_code == 403
    assert get(svc, "/mine", svc.operator_token).status_code == 403
    listed = get(svc, "", svc.operator_token, params={"status": "unpaid"}).json()
    assert {s["id"] for s in listed} == set(ids)
    assert get(svc, "", svc.operator_token, params={"resident_id": a}).json()[0]["id"] == ids[0]
    assert get(svc, "", svc.operator_token, params={"status": "owed"}).status_code == 422
    assert get(svc, "", token_a).status_code == 403
    with svc.db.sessionmaker()() as s:
        read = s.scalars(
            select(rm.AuditEntry).where(rm.AuditEntry.action == "town.slip.read")
        ).all()
    assert [(e.resident_id, e.details["slip_id"]) for e in read] == [(a, ids[0])]


def codes_on_page(pdf: bytes) -> dict[str, str]:
    """The codes on page 1, rendered at 300 dpi: {"Code128": text, "QRCode": text}."""
    import pypdfium2
    import zxingcpp

    page = pypdfium2.PdfDocument(pdf)[0]
    image = page.render(scale=300 / 72).to_pil().convert("L")
    out = {}
    for b in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.Plain):
        text = b.text
        if b.format == zxingcpp.BarcodeFormat.Code128:
            assert b.symbology_identifier == "]C1"  # FNC1 first: GS1-128
            text = text.removeprefix("]C1")
        out[str(b.format).split(".")[-1].replace(" ", "")] = text
    return out


def test_the_pdf_shows_the_slip_and_its_codes_decode_to_the_digits(svc: Svc) -> None:
    a, token_a = svc.register("090-3000-0021")
    big = slip(free="9" * 21, amount=350000, payer_name="鞍手 花子", elqr_payload="")
    ids = [s["id"] for s in imported(svc, slip(a), big)["slips"]]
    r = get(svc, f"/{ids[0]}.pdf", token_a)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    for said in ("鞍手 太郎 様", "軽自動車税(種別割)", "2026年度 全期", "12,300円",
                 "2026年12月25日(金)", "0949-42-0000"):  # fmt: skip
        assert said in text, said
    want = digits(slip(a))
    assert f"(91)912345-{'1' * 21}" in text  # the digits printed under the bars
    assert f"{want[29]}-261225-0-012300-{want[43]}" in text
    assert codes_on_page(r.content) == {"Code128": want, "QRCode": PAYLOAD}

    # above the stores' limit: no barcode, and the slip says so
    staff = get(svc, f"/{ids[1]}.pdf", svc.operator_token)
    assert staff.status_code == 200
    assert "コンビニでは払えません" in PdfReader(io.BytesIO(staff.content)).pages[0].extract_text()
    assert codes_on_page(staff.content) == {}
    with svc.db.sessionmaker()() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(rm.AuditEntry)
                .where(rm.AuditEntry.action == "town.slip.pdf")
            )
            == 1
        )  # staff's only
    assert get(svc, "/PSnosuch.pdf", svc.operator_token).status_code == 404
    assert get(svc, "/bad.id.pdf", svc.operator_token).status_code == 422


def test_the_payments_file_marks_slips_paid_once(svc: Svc) -> None:
    a, token_a = svc.register("090-3000-0031")
    mine, other = slip(a), slip(free="2" * 21, amount=4000)
    ids = [s["id"] for s in imported(svc, mine, other)["slips"]]
    stranger = gs1.SlipCode("912345", "8" * 21, 0, gs1.parse(digits(mine)).due, 0, 500).digits
    changed = digits({**other, "amount": 4100})  # the same slip's key, another amount
    body = {"csv": "barcode,paid_on,amount\n"
            f"EAN{digits(mine)},2026-12-20,12300\n{stranger},2026-12-20,\n"
            f"{changed},20261221,\n{digits(mine)},2026-12-22,\n", "source": "cvs-1220.csv"}  # fmt: skip
    r = post(svc, "/payments/import", svc.operator_token, json=body)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["counts"] == {"paid": 1, "already_paid": 1, "unknown": 1, "mismatched": 1}
    assert [(x["row"], x["slip_id"]) for x in report["paid"]] == [(2, ids[0])]
    assert report["already_paid"][0]["row"] == 5  # the same slip twice in one file
    assert report["unknown"][0]["barcode"] == stranger
    assert report["mismatched"][0]["slip_barcode"] == digits(other)
    paid = get(svc, f"/{ids[0]}", token_a).json()
    assert (paid["status"], paid["paid_at"]) == ("paid", "2026-12-20")
    assert get(svc, f"/{ids[0]}", svc.operator_token).json()["paid_source"] == "cvs-1220.csv:2"
    assert get(svc, f"/{ids[1]}", svc.operator_token).json()["status"] == "unpaid"
    receipt = get(svc, f"/{ids[0]}.pdf", token_a).content  # a paid slip: no code to pay again
    said = PdfReader(io.BytesIO(receipt)).pages[0].extract_text().replace("\n", "")
    assert "支払い済みです(2026年12月20日(日))。もう一度払わないでください" in said
    assert codes_on_page(receipt) == {}

    again = post(svc, "/payments/import", svc.operator_token, json=body).json()
    assert again["counts"] == {"paid": 0, "already_paid": 2, "unknown": 1, "mismatched": 1}
    assert again["already_paid"][0]["paid_on"] == "2026-12-20"  # the day it was paid
    wrong = digits(other)[:-1] + str((int(digits(other)[-1]) + 1) % 10)  # a misread digit
    bad = post(svc, "/payments/import", svc.operator_token,
               json={"csv": f"barcode,paid_on\n{wrong},2026-12-20\n"})  # fmt: skip
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "payment_file_invalid")
    assert "チェックデジット" in bad.json()["error"]["details"]["problems"][0]["message_ja"]
    assert get(svc, f"/{ids[1]}", svc.operator_token).json()["status"] == "unpaid"
    assert post(svc, "/payments/import", token_a, json=body).status_code == 403


def test_the_barcode_digits_for_staff(svc: Svc) -> None:
    body = {"biller": "912345", "free": "012345678901234567890", "reissue": 1,
            "due": "2001-03-31", "stamp": 0, "amount": 123000}  # fmt: skip
    r = post(svc, "/barcode", svc.operator_token, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["digits"] == "91912345012345678901234567890101033101230003"  # worked example A
    bad = post(svc, "/barcode", svc.operator_token, json={**body, "free": "123"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "barcode_invalid")
    assert bad.json()["error"]["details"]["field"] == "free"
    _, token = svc.register("090-3000-0041")
    assert post(svc, "/barcode", token, json=body).status_code == 403


def test_the_commands_on_the_sample_files(embedded_cli: Path) -> None:
    runner = CliRunner()
    args = ["town", "slip", "barcode", "--biller", "912345", "--free", "012345678901234567890",
            "--reissue", "1", "--due", "2001-03-31", "--stamp", "0", "--amount", "123000"]  # fmt: skip
    done = runner.invoke(app, args)
    assert (done.exit_code, done.stdout) == (0, "91912345012345678901234567890101033101230003\n")
    wrong = runner.invoke(app, [*args[:4], "01234", *args[5:]])
    assert wrong.exit_code == 2
    assert "[barcode_invalid]" in wrong.output
    assert runner.invoke(app, [*args[:10], "2001-02-30", *args[11:]]).exit_code == 2

    first = runner.invoke(app, ["town", "slip", "import", str(SAMPLE / "slips.csv"), "-f", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] == 4
    again = runner.invoke(app, ["town", "slip", "import", str(SAMPLE / "slips.csv"), "-f", "json"])
    assert json.loads(again.stdout)["unchanged"] == 4
    paid = runner.invoke(app, ["town", "slip", "payments", str(SAMPLE / "payments.csv"),
                               "-f", "json"])  # fmt: skip
    assert paid.exit_code == 0, paid.output
    assert json.loads(paid.stdout)["counts"] == {"paid": 1, "already_paid": 0, "unknown": 1,
                                                 "mismatched": 0}  # fmt: skip
    slip_id = json.loads(first.stdout)["slips"][1]["id"]  # the first is paid: no codes
    out = embedded_cli / "slip.pdf"
    written = runner.invoke(app, ["town", "slip", "pdf", slip_id, "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert (
        codes_on_page(out.read_bytes())["Code128"] == "91000000202602000002345604000027012900150005"
    )
    sjis = embedded_cli / "sjis.csv"
    sjis.write_bytes((SAMPLE / "slips.csv").read_text(encoding="utf-8").encode("cp932"))
    assert json.loads(runner.invoke(app, ["town", "slip", "import", str(sjis), "-f", "json"])
                      .stdout)["unchanged"] == 4  # a Shift_JIS file reads the same  # fmt: skip
