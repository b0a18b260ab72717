"""A pre-application made end to end in LINE: signed webhooks on the LINE stand-in, the real
line-bot-sdk, the app's own database; then staff find it by its 受付番号 through the API.

The linked resident (鞍手 太郎, 鞍手町大字中山 1, born 1946) types 「申請」, picks the
certificate request, lets the record fill it, answers its four questions with quick
replies (which certificate, 「とばす」 for the scope, copies, purpose), reads it back and
applies: a number, what to bring; the same button again gives the same number. Also:
declining the record, 「申請の確認」 and cancelling, and a button from an older version of
the form starting again.
"""

from __future__ import annotations

from typing import Any

import pytest

from line_channel import form_chat
from tests.line_channel.conftest import Line, data_of, quick_replies, texts
from town.models import FormApplication

pytestmark = pytest.mark.services
USER = "U-forms-1"


def tap(line: Line, message: dict[str, Any], label: str) -> list[dict[str, Any]]:
    action = next(a for a in quick_replies(message) if a["label"] == label)
    return line.tap(USER, action["data"])


def labels(message: dict[str, Any]) -> list[str]:
    return [a["label"] for a in quick_replies(message)]


def test_a_pre_application_from_line_is_found_at_the_counter_by_its_number(line: Line) -> None:
    rid = line.link(USER)
    forms = line.say(USER, "申請")[-1]
    assert "事前申請" in forms["text"]
    assert labels(forms) == ["住民票の写し等交付申請書", "運転免許証自主返納者支援申請書", "やめる"]
    consent = tap(line, forms, "住民票の写し等交付申請書")[-1]
    assert "町に登録されている内容から" in consent["text"]
    assert "お名前・ふりがな・住所・電話番号・生まれた年" in consent["text"]
    q1 = tap(line, consent, "登録の内容を使う")[-1]
    assert "1/4" in q1["text"]
    assert "必要な証明書を選んでください" in q1["text"]
    assert labels(q1) == [
        "住民票の写し",
        "住民票記載事項証明書",
        "印鑑登録証明書",
        "戸籍の証明",
        "やめる",
    ]
    q2 = tap(line, q1, "住民票の写し")[-1]
    assert "住民票の範囲" in q2["text"]
    assert labels(q2) == ["本人のみ", "世帯全員", "とばす", "やめる"]  # not required
    q3 = tap(line, q2, "とばす")[-1]
    assert labels(q3) == ["1", "2", "3", "4", "やめる"]
    assert "4より多いときは、窓口で" in q3["text"]
    q4 = tap(line, q3, "2")[-1]
    assert labels(q4) == [
        "年金・保険の手続き",
        "就職・学校",
        "相続・登記",
        "金融機関・その他",
        "やめる",
    ]
    back = tap(line, q4, "相続・登記")[-1]
    for said in ("この内容で事前申請しますか", "必要な証明書: 住民票の写し", "住民票の範囲: (窓口で)",
                 "通数: 2", "使いみち: 相続・登記", "氏名(窓口に来た方): 鞍手 太郎",
                 "住所: 鞍手町大字中山 1", "生まれた年(西暦): 1946"):  # fmt: skip
        assert said in back["text"], said
    assert labels(back) == ["この内容で申し込む", "やめる"]
    for message in (forms, consent, q1, q2, q3, q4, back):  # one decision, five buttons at most
        assert len(quick_replies(message)) <= 5
    assert line.count(FormApplication) == 0  # nothing stored until 「この内容で申し込む」

    done = tap(line, back, "この内容で申し込む")
    assert "事前申請を受け付けました" in texts(done)
    assert "受付番号: A26-0001" in texts(done)
    assert "本人確認書類" in texts(done)  # what to bring
    again = tap(line, back, "この内容で申し込む")  # tapped twice: one application
    assert "もう受け付けています" in texts(again)
    assert "受付番号: A26-0001" in texts(again)
    assert line.count(FormApplication) == 1

    # at the counter: staff find it by the number the resident shows
    (found,) = line.operator("get", "/v1/town/forms/applications", params={"number": "A26-0001"})
    assert (found["resident_id"], found["channel"], found["status"]) == (rid, "line", "pre_applied")
    assert found["values"] == {
        "kana": "クラテ タロウ", "name": "鞍手 太郎", "birth_year": 1946, "phone": "09012345678",
        "address": "鞍手町大字中山 1", "requester": "本人", "certificate": "住民票の写し",
        "copies": 2, "purpose": "相続・登記",
    }  # fmt: skip
    assert found["prefilled"] == ["kana", "name", "birth_year", "phone", "address"]
    assert found["prefill_consent_at"] is not None
    assert found["missing"] == ["id_document"]  # the counter's part
    mine = line.say(USER, "申請の確認")[-1]
    assert "受付番号 A26-0001" in mine["text"]
    assert "事前申請(窓口はまだ)" in mine["text"]


def test_declined_record_cancel_and_a_button_from_an_older_form(line: Line) -> None:
    line.link(USER)
    forms = line.say(USER, "証明書")[-1]
    consent = tap(line, forms, "運転免許証自主返納者支援申請書")[-1]
    q1 = tap(line, consent, "使わない")[-1]
    assert labels(q1) == ["のりあいバス回数券", "タクシー利用券", "やめる"]
    back = tap(line, q1, "タクシー利用券")[-1]
    assert "お名前・住所などは、窓口でお聞きします" in back["text"]
    assert "鞍手 太郎" not in back["text"]
    assert "受付番号: B26-0001" in texts(tap(line, back, "この内容で申し込む"))
    (made,) = line.operator("get", "/v1/town/forms/applications")
    assert made["values"] == {"support": "タクシー利用券"}
    assert made["prefilled"] == []
    assert made["prefill_consent_at"] is None

    mine = line.say(USER, "申請の確認")[-1]
    cancel = tap(line, mine, "取消 B26-0001")[-1]
    assert labels(cancel) == ["取り消す", "取り消さない"]
    assert "取り消しました" in texts(tap(line, cancel, "取り消す"))
    assert (
        line.operator("get", f"/v1/town/forms/applications/{made['id']}")["status"] == "cancelled"
    )
    assert "いま申し込んでいる申請はありません" in texts(line.say(USER, "申請の確認"))

    old = data_of(next(a for a in quick_replies(q1) if a["label"] == "タクシー利用券"))
    old["h"] = "00000000"  # the town changed the form since the button was sent
    restarted = line.tap(USER, form_chat.msg.data(old.pop("a"), **old))[-1]
    assert "様式が新しくなった" in restarted["text"]
    assert "住民票の写し等交付申請書" in labels(restarted)
    assert line.count(FormApplication) == 1
