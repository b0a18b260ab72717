"""Pre-applying for a town form from LINE (town/forms.py), by linked residents.

「申請」「証明書」「書類」… typed (or ``form_start``) lists the forms that may be pre-applied
for in LINE; then, one message each:

1. the form picked (``form_pick``): may the town's record fill the name, address… ?
   「登録の内容を使う」 / 「使わない」 (``form_ok``, ``c`` 1 or 0; a form with nothing to
   fill skips this);
2. the few fields staff cannot fill (``line: true`` in the definition: which certificate,
   how many copies, what for), a quick-reply button per choice, 「とばす」 when not required
   (``form_a``);
3. the answers read back, with the record's values when the resident agreed, and
   「この内容で申し込む」 (``form_send``);
4. the 受付番号 to show at the counter, and what to bring.

Nothing is stored until 「この内容で申し込む」: the answers so far travel in the buttons'
own data (``v``: the index of each option chosen, ``-`` for skipped; ``h``: the form's
version, so a button from before the town changed the form starts again). The last button
carries a one-time ``k``: tapping it twice (or LINE delivering the event twice) makes one
application, answered with its number again. 「申請の確認」 (``form_mine``) lists the
resident's applications and numbers, with 「取り消す」 for a pre-application not yet at
the counter (``form_cancel``, ``form_cancel_yes``).
"""

from __future__ import annotations

import secrets
import unicodedata
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.clock import at, now_utc
from common.errors import DrtError
from common.ids import body_hash
from core.models import IdempotencyKey
from core.world import World
from line_channel import messages as msg
from line_channel.messages import Message
from residents import models as rm
from residents import service as people
from residents.service import Actor
from town import forms as fm
from town.models import FormApplication

ACTIONS = ("form_start", "form_pick", "form_ok", "form_a", "form_send", "form_mine",
           "form_cancel", "form_cancel_yes")  # fmt: skip
START_WORDS = {"申請", "申請書", "申請する", "申請したい", "事前申請", "書かない窓口", "証明書",
               "証明書がほしい", "書類", "住民票", "住民票の写し", "印鑑証明"}  # fmt: skip
MINE_WORDS = {"申請の確認", "受付番号", "申請した書類"}
MAX_FORMS = 4  # buttons: four forms and 「やめる」
MAX_LISTED = 5
SKIP = "-"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "").replace("\u3000", "")


def _h(form: fm.FormDef) -> str:
    return form.version[:8]


def _shown(field: fm.Field, value: fm.Value) -> str:
    if value is None:
        return "(窓口で)"
    if field.type == "check":
        return "はい" if value else "いいえ"
    return str(value)


class FormTurn:
    """One event about a form, of one linked resident."""

    def __init__(self, session: Session, world: World, resident_id: str, now_s: int) -> None:
        self.session, self.world, self.rid = session, world, resident_id
        self.now = at(now_s)
        self.tz = world.config.calendar.time_zone
        self.phone = world.config.operator_phone
        self.actor = Actor("resident", resident_id, "resident")
        self.catalog = fm.catalog(Path(world.area.source).parent)

    def forms(self) -> list[fm.FormDef]:
        return [f for f in self.catalog.forms if f.line]

    # -- messages --------------------------------------------------------------------------

    def start(self, intro: str = "") -> list[Message]:
        offered = self.forms()[:MAX_FORMS]
        if not offered:
            return [msg.text(f"{intro}いまLINEで先に申し込める申請書はありません。\n"
                             f"窓口か、お電話({self.phone})でおたずねください。", *msg.menu_actions())]  # fmt: skip
        lines = "\n".join(f"・{f.title}" for f in offered)
        return [msg.text(
            f"{intro}申請書を、LINEで先に書いておけます(事前申請)。\n"
            "窓口で受付番号を見せると、書かずにすみます。\n"
            f"どの申請書ですか?\n{lines}\nほかの申請は、窓口でどうぞ。",
            *[msg.postback(f.title, "form_pick", f=f.id, h=_h(f)) for f in offered],
            msg.quit_action(),
        )]  # fmt: skip

    def form_of(self, params: dict[str, str]) -> fm.FormDef | None:
        form = self.catalog.find(params.get("f", "")[:40])
        if form is None or not form.line or params.get("h") != _h(form):
            return None
        return form

    def changed(self) -> list[Message]:
        return self.start("申請書の様式が新しくなったか、いまはLINEで受け付けていません。"
                          "お手数ですが、はじめからお願いします。\n")  # fmt: skip

    def pick(self, form: fm.FormDef) -> list[Message]:
        intro = f"「{form.title}」ですね。\n{form.description}".rstrip()
        if not form.prefill_fields:
            return [msg.text(intro), *self.ask(form, "0", [])]
        used = {f.prefill for f in form.prefill_fields}
        what = "・".join(ja for k, ja in fm.PREFILL.items() if k in used)  # the usual order
        return [msg.text(
            f"{intro}\n\n申請書の{what}を、町に登録されている内容から書いておきますか?\n"
            "(窓口で書かずにすみます。使わないときは、窓口でお聞きします)",
            msg.postback("登録の内容を使う", "form_ok", display="登録の内容を使う",
                         f=form.id, h=_h(form), c=1),
            msg.postback("使わない", "form_ok", display="登録の内容は使わない",
                         f=form.id, h=_h(form), c=0),
            msg.quit_action(),
        )]  # fmt: skip

    def ask(self, form: fm.FormDef, consent: str, answers: list[str]) -> list[Message]:
        """The next field to answer, or the answers read back."""
        asked = form.line_fields
        if len(answers) >= len(asked):
            return self.summary(form, consent, answers)
        field = asked[len(answers)]
        so_far = ".".join(answers)
        options = field.line_options()
        buttons = [msg.postback(label, "form_a", display=f"{field.label}: {label}", f=form.id,
                                h=_h(form), c=consent, v=f"{so_far}.{i}" if so_far else str(i))
                   for i, (label, _) in enumerate(options)]  # fmt: skip
        if not field.required:
            buttons.append(msg.postback("とばす", "form_a", display=f"{field.label}: 窓口で",
                                        f=form.id, h=_h(form), c=consent,
                                        v=f"{so_far}.{SKIP}" if so_far else SKIP))  # fmt: skip
        more = ""
        if field.type == "number" and field.max is not None and options:
            last = options[-1][1]
            if isinstance(last, int) and field.max > last:
                more = f"\n{last}より多いときは、窓口でお伝えください。"
        hint = f"\n({field.hint})" if field.hint else ""
        skip = (
            "\nわからないときは「とばす」を押してください(窓口でお聞きします)。"
            if not field.required
            else ""
        )
        head = f"「{form.title}」 {len(answers) + 1}/{len(asked)}"
        return [msg.text(f"{head}\n{field.label}を選んでください。{hint}{more}{skip}",
                         *buttons, msg.quit_action())]  # fmt: skip

    def decode(self, form: fm.FormDef, raw: str) -> list[str] | None:
        """The answers in ``v`` (each an option's index or ``-``), or None if they do not
        fit the form."""
        if not raw:
            return []
        parts = raw.split(".")
        asked = form.line_fields
        if len(parts) > len(asked):
            return None
        for part, field in zip(parts, asked, strict=False):
            if part == SKIP:
                if field.required:
                    return None
                continue
            if not part.isdigit() or int(part) >= len(field.line_options()):
                return None
        return parts

    def values(self, form: fm.FormDef, answers: list[str]) -> dict[str, fm.Value]:
        out: dict[str, fm.Value] = {}
        for part, field in zip(answers, form.line_fields, strict=True):
            if part != SKIP:
                out[field.id] = field.line_options()[int(part)][1]
        return out

    def summary(self, form: fm.FormDef, consent: str, answers: list[str]) -> list[Message]:
        given = self.values(form, answers)
        lines = [f"{f.label}: {_shown(f, given.get(f.id))}" for f in form.line_fields]
        if consent == "1":
            record = fm.record_values(form, self._resident())
            lines += [f"{f.label}: {record[f.id]}" for f in form.prefill_fields if f.id in record]
            lines.append("(お名前などは、町の登録の内容です)")
        elif form.prefill_fields:
            lines.append("(お名前・住所などは、窓口でお聞きします)")
        body = "\n".join(lines)
        return [msg.text(
            f"この内容で事前申請しますか?\n申請書: {form.title}\n{body}",
            msg.postback("この内容で申し込む", "form_send", display="この内容で申し込む", f=form.id,
                         h=_h(form), c=consent, v=".".join(answers), k=secrets.token_hex(6)),
            msg.quit_action(),
        )]  # fmt: skip

    def _resident(self) -> rm.Resident:
        return people.get_resident(self.session, self.actor, self.rid)

    def received(self, row: FormApplication, form: fm.FormDef, again: bool) -> list[Message]:
        bring = (
            "\n".join(f"・{b}" for b in form.bring)
            or "・本人確認書類(運転免許証、マイナンバーカードなど)"
        )
        head = "この申請は、もう受け付けています。" if again else "事前申請を受け付けました。"
        return [msg.text(
            f"{head}\n受付番号: {row.number}\n({form.title})\n\n"
            "窓口でこの番号を見せてください。この画面を見せるだけで大丈夫です。\n"
            f"持ってくるもの:\n{bring}\n\n"
            "申し込んだ申請は「申請の確認」と送ると見られます。",
            msg.postback("申請の確認", "form_mine"),
            *msg.menu_actions(),
        )]  # fmt: skip

    def send(self, form: fm.FormDef, params: dict[str, str]) -> list[Message]:
        answers = self.decode(form, params.get("v", ""))
        nonce = params.get("k", "")[:24]
        if answers is None or len(answers) != len(form.line_fields) or not nonce.isalnum():
            return self.changed()
        consent = params.get("c") == "1"
        key = f"form-line:{nonce}"
        digest = body_hash({"f": form.id, "h": _h(form), "c": consent, "v": answers})
        stored = self.session.get(IdempotencyKey, (self.actor.key, key))
        if stored is None:
            try:
                with self.session.begin_nested():  # the claim first: a second delivery waits on it
                    claim = IdempotencyKey(actor=self.actor.key, key=key, request_hash=digest,
                                           status_code=201, body={}, created_at=now_utc())  # fmt: skip
                    self.session.add(claim)
                    self.session.flush()
                    row = fm.create(self.session, self.actor, form, self.rid,
                                    self.values(form, answers), consent, "line", self.now, self.tz)  # fmt: skip
                    claim.body = {"id": row.id}
                    self.session.flush()
            except IntegrityError:  # the same tap, delivered twice at once: the other made it
                stored = self.session.get(IdempotencyKey, (self.actor.key, key))
            except DrtError as e:
                return [msg.text(f"{e.message_ja}\nお困りのときは、お電話({self.phone})でどうぞ。",
                                 msg.phone_action(), *msg.menu_actions()[:2])]  # fmt: skip
            else:
                return self.received(row, form, again=False)
        found = None
        if stored is not None and stored.request_hash == digest:
            found = self.session.get(FormApplication, str(stored.body.get("id", "")))
        return self.received(found, form, again=True) if found is not None else self.changed()

    def mine(self) -> list[Message]:
        rows = [r for r in fm.mine(self.session, self.actor) if r.status != "cancelled"][
            :MAX_LISTED
        ]
        if not rows:
            return [msg.text("いま申し込んでいる申請はありません。",
                             msg.postback("申請する", "form_start"), *msg.menu_actions()[:3])]  # fmt: skip
        status = {
            "pre_applied": "事前申請(窓口はまだ)",
            "in_review": "窓口で手続き中",
            "completed": "完了",
        }
        lines = []
        for r in rows:
            form = self.catalog.find(r.form_id)
            title = form.title if form else r.form_id
            lines.append(f"・受付番号 {r.number}\n  {title}({status.get(r.status, r.status)})")
        cancels = [msg.postback(f"取消 {r.number}", "form_cancel", display=f"{r.number}を取り消したい",
                                id=r.id) for r in rows if r.status == "pre_applied"][:3]  # fmt: skip
        return [msg.text("申し込んだ申請です。窓口で受付番号を見せてください。\n" + "\n".join(lines),
                         *cancels, msg.postback("申請する", "form_start"), msg.quit_action())]  # fmt: skip

    def _own(self, params: dict[str, str]) -> FormApplication | None:
        try:
            return fm.read(self.session, self.actor, params.get("id", "")[:24] or "-")
        except DrtError:
            return None

    def ask_cancel(self, params: dict[str, str]) -> list[Message]:
        row = self._own(params)
        if row is None or row.status != "pre_applied":
            return self.mine()
        return [msg.text(f"受付番号 {row.number} の事前申請を取り消しますか?",
                         msg.postback("取り消す", "form_cancel_yes", id=row.id),
                         msg.postback("取り消さない", "form_mine"))]  # fmt: skip

    def cancel(self, params: dict[str, str]) -> list[Message]:
        row = self._own(params)
        if row is None:
            return self.mine()
        try:
            fm.cancel(self.session, self.actor, row.id, self.now)
        except DrtError as e:
            return [msg.text(e.message_ja, msg.postback("申請の確認", "form_mine"))]
        return [msg.text(f"受付番号 {row.number} の事前申請を取り消しました。",
                         msg.postback("申請する", "form_start"), *msg.menu_actions()[:3])]  # fmt: skip

    def postback(self, action: str, params: dict[str, str]) -> list[Message]:
        if action == "form_start":
            return self.start()
        if action == "form_mine":
            return self.mine()
        if action == "form_cancel":
            return self.ask_cancel(params)
        if action == "form_cancel_yes":
            return self.cancel(params)
        form = self.form_of(params)
        if form is None:
            return self.changed()
        if action == "form_pick":
            return self.pick(form)
        consent = "1" if params.get("c") == "1" and form.prefill_fields else "0"
        if action == "form_send":
            return self.send(form, params)
        answers = self.decode(form, params.get("v", "") if action == "form_a" else "")
        if answers is None:
            return self.changed()
        return self.ask(form, consent, answers)


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a form (one of its buttons, or 「申請」「証明書」
    「書類」… typed), else None (the chat goes on as before)."""
    if action in ACTIONS:
        return FormTurn(session, world, resident_id, now_s).postback(action, params)
    if action != "text":
        return None
    typed = _norm(text)
    if typed in START_WORDS:
        return FormTurn(session, world, resident_id, now_s).start()
    if typed in MINE_WORDS:
        return FormTurn(session, world, resident_id, now_s).mine()
    return None
