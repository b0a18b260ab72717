"""Surveys answered in the LINE chat (town/surveys.py), by linked residents.

An open survey is pushed once to each LINE user of its segment's residents who opted in to
``surveys`` (:func:`due_invitations`, key ``survey:<id>:<user>``), with 「答える」 (and the
answer page, when the app's public address is known). Then a question at a time:

- ``single`` and ``scale``: a quick-reply button per choice or number;
- ``multiple``: tapping a choice marks it (✓) or unmarks it, 「決定」 records them; what is
  marked travels in the buttons' own data, so nothing is stored until 「決定」;
- ``text``: the next message typed is the answer, while that question is the open one (for
  30 minutes; any other button of the chat ends it, and the chat goes on as before);
- 「答えない」 for a question that is not required, 「あとで」 to stop for now (「アンケート」
  typed later goes on where it stopped).

After the last question the response is completed and the resident thanked. A closed survey
says so politely. Postbacks: ``sv_start``, ``sv_a`` (an answer), ``sv_t`` (mark a choice),
``sv_later``; all carry ``s`` (the survey) and, but the first and the last, ``q``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import at
from common.errors import DrtError
from common.settings import load_settings
from core.world import World
from line_channel import messages as msg
from line_channel.messages import Message
from line_channel.models import LinePush
from line_channel.town_push import TownPush
from town import surveys as sv
from town.models import Survey, SurveyResponse

ACTIONS = ("sv_start", "sv_a", "sv_t", "sv_later")
RESUME_WORDS = {"アンケート", "アンケートに答える", "アンケートの続き", "あんけーと"}
TEXT_WAIT_S = 1800  # a typed answer is taken for this long after the question was asked
PAGE_PATH = "/town/surveys/"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(" ", "")


def page_url(survey_id: str) -> str | None:
    """The answer page of a survey, when the app's public address is configured."""
    base = load_settings().public_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        return None
    return f"{base}{PAGE_PATH}?s={survey_id}"


# -- messages ----------------------------------------------------------------------------


def invitation(survey: Survey, url: str | None) -> Message:
    """The push inviting a resident: what, how many questions, 「答える」 (and the page)."""
    n = len(survey.questions)
    privacy = ("お名前と答えは結びつけずに集計します。" if survey.anonymous
               else "答えは町の担当者だけが見ます。")  # fmt: skip
    lines = [survey.intro] if survey.intro else []
    lines += [f"質問は{n}問です。{privacy}", "「答える」を押すと、1問ずつお聞きします。"]
    buttons: list[Message] = [msg.postback("答える", "sv_start", display="アンケートに答える",
                                           s=survey.id)]  # fmt: skip
    if url:
        buttons.append({"type": "uri", "label": "画面で答える", "uri": url})
    bubble = {
        "type": "bubble",
        "header": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "鞍手町からのアンケート", "size": "md", "color": "#555555"},
            {"type": "text", "text": survey.title, "size": "xl", "weight": "bold",
             "wrap": True, "color": "#111111"}]},
        "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": line, "size": "lg", "wrap": True, "color": "#111111"}
            for line in lines]},
        "footer": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
            {"type": "button", "style": "primary" if i == 0 else "secondary", "height": "md",
             "action": b} for i, b in enumerate(buttons)]},
    }  # fmt: skip
    alt = f"鞍手町からのアンケート「{survey.title}」のお願いです。質問は{n}問です。"
    return msg.flex(alt, bubble)


def _indices(raw: str, count: int) -> list[int]:
    out = []
    for part in raw.split("."):
        if part.isdigit() and int(part) < count and int(part) not in out:
            out.append(int(part))
    return sorted(out)


def _join(picked: list[int]) -> str:
    return ".".join(str(i) for i in sorted(picked))


def ask(survey: Survey, q: dict[str, Any], picked: list[int] | None = None) -> Message:
    """One question with its buttons (13 at most: 10 choices, 「決定」, 「答えない」, 「あとで」)."""
    ids = [x["id"] for x in survey.questions]
    head = f"アンケート「{survey.title}」\n質問{ids.index(q['id']) + 1}/{len(ids)}\n{q['text']}"
    s, qid, kind = survey.id, q["id"], q["kind"]
    actions: list[Message] = []
    if kind == "single":
        hint = "ボタンを一つ押してください。"
        actions = [msg.postback(c, "sv_a", s=s, q=qid, v=i) for i, c in enumerate(q["choices"])]
    elif kind == "multiple":
        picked = picked or []
        chosen = "、".join(q["choices"][i] for i in picked) or "(まだありません)"
        hint = f"あてはまるものを押してください(いくつでも)。押したら「決定」を押してください。\n選んだもの: {chosen}"
        actions = [msg.postback(("✓ " if i in picked else "") + c, "sv_t",
                                display=("やめる: " if i in picked else "選ぶ: ") + c,
                                s=s, q=qid, sel=_join(picked), c=i)
                   for i, c in enumerate(q["choices"])]  # fmt: skip
        if picked:
            actions.append(msg.postback("決定", "sv_a", s=s, q=qid, v=_join(picked)))
    elif kind == "scale":
        hint = f"{q['min']}から{q['max']}のうち、あてはまる数を押してください。"
        actions = [msg.postback(str(n), "sv_a", s=s, q=qid, v=n)
                   for n in range(q["min"], q["max"] + 1)]  # fmt: skip
    else:
        hint = f"答えを文で送ってください({sv.TEXT_MAX}文字まで)。"
    if not q["required"]:
        actions.append(msg.postback("答えない", "sv_a", s=s, q=qid, v=""))
    actions.append(msg.postback("あとで", "sv_later", display="あとで答える", s=s))
    return msg.text(f"{head}\n{hint}", *actions)


def thanks(survey: Survey) -> Message:
    return msg.text(f"アンケート「{survey.title}」にお答えいただき、ありがとうございました。\n"
                    "いただいた声は、町の仕事に役立てます。", *msg.menu_actions())  # fmt: skip


def closed(survey: Survey) -> Message:
    return msg.text(f"アンケート「{survey.title}」の受付は終わりました。\n"
                    "お気持ちをありがとうございました。", *msg.menu_actions())  # fmt: skip


def done_before(survey: Survey) -> Message:
    return msg.text(f"アンケート「{survey.title}」には、もう答えていただいています。"
                    "ありがとうございました。", *msg.menu_actions())  # fmt: skip


def paused(survey: Survey) -> Message:
    return msg.text(f"わかりました。アンケート「{survey.title}」は、ここまでの答えを預かっています。\n"
                    "続きは「アンケート」と送ると、いつでも答えられます。", *msg.menu_actions())  # fmt: skip


def not_for_you() -> Message:
    return msg.text("このアンケートは、お答えいただく方が決まっています。\n"
                    "(「通知の設定」でアンケートのお願いを受け取る方が対象です)", *msg.menu_actions())  # fmt: skip


def nothing_open() -> Message:
    return msg.text("いまお答えいただくアンケートはありません。", *msg.menu_actions())


# -- the chat ------------------------------------------------------------------------------


class SurveyTurn:
    """One event about a survey, of one linked resident."""

    def __init__(self, session: Session, world: World, resident_id: str, now_s: int) -> None:
        self.session, self.world, self.rid, self.now_s = session, world, resident_id, now_s
        self.now = at(now_s)
        self.today = world.config.calendar.local_date(now_s)
        self.known = world.stops.districts()
        self.secret = sv.process_secret()

    def open_surveys(self) -> list[Survey]:
        return list(self.session.scalars(select(Survey).where(Survey.status == "open")
                                         .order_by(Survey.created_at, Survey.id)))  # fmt: skip

    def note(self, survey: Survey, note: dict[str, Any] | None) -> None:
        sv.set_note(self.session, survey, self.rid, self.secret, "line", note, self.now)

    def awaiting_text(self) -> tuple[Survey, dict[str, Any]] | None:
        """The free-text question open in the chat, if one was asked a short while ago."""
        for s in self.open_surveys():
            note = sv.note_of(self.session, s, self.rid, self.secret)
            if note.get("q") and int(note.get("until_s", 0)) > self.now_s:
                q = next((x for x in s.questions if x["id"] == note["q"]), None)
                if q is not None and q["kind"] == "text":
                    return s, q
        return None

    def drop_notes(self) -> None:
        for s in self.open_surveys():
            if sv.note_of(self.session, s, self.rid, self.secret):
                self.note(s, None)

    def survey(self, survey_id: str) -> Survey | None:
        row = self.session.get(Survey, survey_id[:24])
        if row is None or row.status == "draft":
            return None
        return row

    def go_on(self, survey: Survey, before: list[Message] | None = None) -> list[Message]:
        """The next question, or the end (completed, thanked)."""
        said = before or []
        if not sv.is_open(survey, self.now):
            self.note(survey, None)
            return [*said, closed(survey)]
        p = sv.progress(self.session, survey, self.rid, self.secret)
        if p.completed:
            return [*said, done_before(survey)]
        q = p.next
        if q is None:
            try:
                sv.complete(self.session, survey, self.rid, self.secret, "line", self.now)
            except sv.SurveyIncomplete as e:
                first = e.details["missing"][0]
                q = sv.question(survey, first)
            else:
                return [*said, thanks(survey)]
        if q["kind"] == "text":
            self.note(survey, {"q": q["id"], "until_s": self.now_s + TEXT_WAIT_S})
        else:
            self.note(survey, None)
        return [*said, ask(survey, q)]

    def start(self, survey: Survey) -> list[Message]:
        if not sv.is_open(survey, self.now):
            return [closed(survey)]
        if not sv.is_member(self.session, survey, self.rid, self.today, self.known):
            return [not_for_you()]
        return self.go_on(survey)

    def record(self, survey: Survey, q: dict[str, Any], value: sv.Answer) -> list[Message]:
        if not sv.is_open(survey, self.now):
            return [closed(survey)]
        if not sv.is_member(self.session, survey, self.rid, self.today, self.known):
            return [not_for_you()]
        try:
            sv.answer(self.session, survey, self.rid, q["id"], value, self.secret, "line",
                      self.now)  # fmt: skip
        except sv.SurveyAlreadyAnswered:
            return [done_before(survey)]
        except DrtError as e:
            return [msg.text(e.message_ja), ask(survey, q)]
        before = (
            [msg.text(f"「{str(value)[:40]}」と受け付けました。")] if q["kind"] == "text" else []
        )
        return self.go_on(survey, before)

    def postback(self, action: str, params: dict[str, str]) -> list[Message]:
        survey = self.survey(params.get("s", ""))
        if survey is None:
            return [nothing_open()]
        if action == "sv_start":
            return self.start(survey)
        if action == "sv_later":
            self.note(survey, None)
            return [paused(survey)]
        q = next((x for x in survey.questions if x["id"] == params.get("q")), None)
        if q is None:
            return self.start(survey)
        if not sv.is_open(survey, self.now):
            return [closed(survey)]
        choices = q["choices"]
        if action == "sv_t":  # mark or unmark a choice of a multiple-choice question
            picked = _indices(params.get("sel", ""), len(choices))
            c = _indices(params.get("c", ""), len(choices))
            for i in c:
                picked = [x for x in picked if x != i] if i in picked else sorted([*picked, i])
            return [ask(survey, q, picked)]
        raw = params.get("v", "")
        value: sv.Answer
        if raw == "":
            value = None
        elif q["kind"] == "single":
            idx = _indices(raw, len(choices))
            value = choices[idx[0]] if idx else raw
        elif q["kind"] == "multiple":
            value = [choices[i] for i in _indices(raw, len(choices))]
        elif q["kind"] == "scale":
            value = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            value = raw
        return self.record(survey, q, value)

    def typed(self, text: str) -> list[Message] | None:
        waiting = self.awaiting_text()
        if waiting is not None:
            survey, q = waiting
            return self.record(survey, q, text)
        if _norm(text) in RESUME_WORDS:
            for s in self.open_surveys():
                if not sv.is_open(s, self.now) or not sv.is_member(
                    self.session, s, self.rid, self.today, self.known
                ):
                    continue
                if not sv.progress(self.session, s, self.rid, self.secret).completed:
                    return self.go_on(s)
            return [nothing_open()]
        return None


def handle(
    session: Session, world: World, resident_id: str, action: str, params: dict[str, str],
    text: str, now_s: int,
) -> list[Message] | None:  # fmt: skip
    """The answer when the event is about a survey (a tapped choice, a typed answer while a
    free-text question is open), else None (the chat goes on as before)."""
    if action in ACTIONS:
        return SurveyTurn(session, world, resident_id, now_s).postback(action, params)
    if not _has_open(session):
        return None
    turn = SurveyTurn(session, world, resident_id, now_s)
    if action == "text":
        return turn.typed(text)
    turn.drop_notes()  # another button of the chat: a typed message is not an answer now
    return None


def _has_open(session: Session) -> bool:
    return session.scalar(select(Survey.id).where(Survey.status == "open").limit(1)) is not None


def due_invitations(session: Session, world: World, now_s: int) -> list[TownPush]:
    """Invitations to open surveys not yet sent to the LINE users of their segment (who
    have not answered already, through the page for instance)."""
    now = at(now_s)
    rows = [r for r in session.scalars(select(Survey).where(Survey.status == "open")
                                       .order_by(Survey.created_at, Survey.id))
            if sv.is_open(r, now)]  # fmt: skip
    if not rows:
        return []
    today, known = world.config.calendar.local_date(now_s), world.stops.districts()
    secret = sv.process_secret()
    out = []
    for survey in rows:
        pushed = set(session.scalars(select(LinePush.key).where(  # a pending one is retried
            LinePush.key.like(f"survey:{survey.id}:%"), LinePush.status != "pending")))  # fmt: skip
        done = set(session.scalars(select(SurveyResponse.respondent_key).where(
            SurveyResponse.survey_id == survey.id, SurveyResponse.completed_at.is_not(None))))  # fmt: skip
        url = page_url(survey.id)
        for m in sv.recipients(session, survey, today, known):
            if sv.respondent_key(survey, m.resident_id, secret) in done:
                continue
            for user_id in m.line_user_ids:
                key = f"survey:{survey.id}:{user_id}"
                if key not in pushed:
                    out.append(TownPush(key, "survey", user_id, [invitation(survey, url)]))
    return out
