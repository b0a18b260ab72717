// 町のサービス: notices to a segment (count first, then send or schedule), surveys (draft,
// open, results as charts and CSV), the FAQ bot's tickets and unanswered questions; and, on
// the phone desk, the caller's own opt-ins. Operators and admins (the API answers 403 to
// anyone else). Built when first opened and emptied on sign-out. Loaded after console.js
// and reports.js, whose helpers ($, el, api, guard, say, state, fmt, day, hhmm, namedChart) it uses.
"use strict";
const NOTICE_STATUS = { scheduled: "送信予定", sent: "送信済み", cancelled: "取り消し" };
const SURVEY_STATUS = { draft: "下書き", open: "受付中", closed: "締め切り" };
const ELIGIBILITY_JA = { resident: "町民", commuter: "通勤の方", student: "通学の方" };
const CHANNEL_JA = { line: "LINE", phone: "電話", app: "アプリ" };
const QUESTION_KIND_JA = { single: "ひとつ選ぶ", multiple: "いくつでも選ぶ", scale: "段階で答える", text: "自由に書く" };
const TICKET_CHANNEL = { line: "LINE", app: "アプリ", phone: "電話", console: "受付" };
const when = (iso) => (iso ? `${day(iso)} ${hhmm(iso)}` : "—");
// a datetime-local value ("2026-12-02T09:30") is the town's time: sent with its offset
const localIso = (v) => (v ? `${v}:00${OFFSET}` : null);
const town = { options: null, tab: "notices", noticeKey: null, survey: null };

// the parts of the page: [key, label]; reservations, forms and slips are drawn by their own
// files (town_reservations.js, town_forms.js, town_slips.js: reservationsTab(), formsTab(), slipsTab())
const TOWN_TABS = [["notices", "お知らせ"], ["surveys", "アンケート"], ["faq", "問い合わせ"],
  ["reservations", "教室・窓口の予約"], ["forms", "申請書"], ["slips", "納付書"]];

function townSkeleton() {
  $("town").replaceChildren(
    el("div", { class: "row subtabs" }, ...TOWN_TABS.map(([k, t]) => el("button", { id: `tw-to-${k}`, class: "small subtab", type: "button",
      onclick: guard(() => townTab(k)) }, t))),
    ...TOWN_TABS.map(([k], i) => el("div", i ? { id: `tw-${k}`, hidden: "" } : { id: `tw-${k}` })));
  noticeSkeleton();
  surveySkeleton();
  faqSkeleton();
}

async function townPage() {
  if (!$("tw-notices")) townSkeleton();
  if (!town.options) town.options = await api("GET", "/v1/town/segments/options");
  fillSegments();
  await townTab(town.tab);
}

async function townTab(k) {
  town.tab = k;
  for (const [t] of TOWN_TABS) {
    $(`tw-${t}`).hidden = t !== k;
    $(`tw-to-${t}`).classList.toggle("on", t === k);
  }
  if (k === "notices") await noticeList();
  if (k === "surveys") await surveyList();
  if (k === "faq") await faqLists();
  if (k === "reservations") await reservationsTab(); // town_reservations.js
  if (k === "forms") await formsTab(); // town_forms.js
  if (k === "slips") await slipsTab(); // town_slips.js
}

// -- a segment: who a notice or survey is for (an empty group keeps everyone) ----------------
function segmentFieldset(prefix) {
  const group = (name, title) => el("fieldset", { class: "choices", id: `${prefix}-${name}` }, el("legend", {}, title));
  return el("div", { class: "segment", id: `${prefix}-segment` },
    el("p", { class: "note" }, "送る相手をしぼります。何も選ばないと、受け取りに同意したすべての方です。"),
    group("districts", "地区(大字)"), group("age_bands", "年代"), group("eligibility", "区分"), group("channels", "連絡方法"));
}

function fillSegments() {
  const o = town.options;
  const labels = { districts: (v) => v, age_bands: (v) => v, eligibility: (v) => ELIGIBILITY_JA[v] || v, channels: (v) => CHANNEL_JA[v] || v };
  for (const prefix of ["nt", "sv"]) {
    for (const [name, label] of Object.entries(labels)) {
      const box = $(`${prefix}-${name}`);
      if (box.querySelector("input")) continue;
      box.append(...o[name].map((v) => el("label", { class: "check" }, el("input", { type: "checkbox", value: v, "data-group": name }), label(v))));
    }
  }
}

function segmentOf(prefix) {
  const seg = { districts: [], age_bands: [], eligibility: [], channels: [] };
  for (const box of $(`${prefix}-segment`).querySelectorAll("input[type=checkbox]:checked")) seg[box.dataset.group].push(box.value);
  return seg;
}

function segmentText(seg) {
  const parts = [];
  if (seg.districts && seg.districts.length) parts.push(seg.districts.join("・"));
  if (seg.age_bands && seg.age_bands.length) parts.push(seg.age_bands.join("・"));
  if (seg.eligibility && seg.eligibility.length) parts.push(seg.eligibility.map((v) => ELIGIBILITY_JA[v] || v).join("・"));
  if (seg.channels && seg.channels.length) parts.push(seg.channels.map((v) => CHANNEL_JA[v] || v).join("・"));
  return parts.length ? parts.join(" / ") : "同意したすべての方";
}

// -- お知らせ -----------------------------------------------------------------------------------
function noticeSkeleton() {
  const form = el("form", { id: "nt-form", class: "card", onsubmit: guard(sendNotice) },
    el("h3", {}, "お知らせを書く"),
    el("label", {}, "件名(40文字まで・はじめに出ます)", el("input", { id: "nt-title", required: "", maxlength: "40" })),
    el("label", {}, "本文(1000文字まで)", el("textarea", { id: "nt-body", required: "", maxlength: "1000", rows: "5" })),
    el("label", { class: "check emergency" }, el("input", { id: "nt-emergency", type: "checkbox" }),
      "災害・避難の緊急のお知らせ(1日の上限をこえて、お知らせか防災に同意したすべての方に届けます)"),
    segmentFieldset("nt"),
    el("label", {}, "送る日時(空なら、すぐ送ります)", el("input", { id: "nt-at", type: "datetime-local" })),
    el("div", { class: "row" },
      el("button", { id: "nt-preview", class: "small", type: "button", onclick: guard(previewNotice) }, "届く人数を確かめる"),
      el("button", { id: "nt-send", class: "primary", type: "submit" }, "送る")),
    el("div", { id: "nt-count", class: "preview", hidden: "" }));
  form.addEventListener("input", () => { $("nt-count").hidden = true; town.noticeKey = null; });
  $("tw-notices").replaceChildren(
    el("div", { class: "columns" },
      el("div", { class: "col" }, form),
      el("div", { class: "col wide" }, el("h3", {}, "これまでのお知らせ"),
        el("table", { id: "nt-table" }, el("thead", {}, el("tr", {}, ...["件名", "送る相手", "状態", "送る日時", "届いた数", "作った人", ""].map((h) => el("th", {}, h)))), el("tbody")))),
    el("p", { class: "note" }, "お知らせは、LINEでお知らせを受け取ると決めた方にだけ、1人1回届きます。LINEの1日の送信上限をこえた分は送られません(緊急のお知らせは上限なし)。大事なお知らせは、上限に余裕のある時間に送ってください。"));
}

function noticeBody() {
  return { title: $("nt-title").value.trim(), body: $("nt-body").value.trim(), emergency: $("nt-emergency").checked,
    segment: segmentOf("nt"), send_at: localIso($("nt-at").value) };
}

async function previewNotice() {
  const b = noticeBody();
  const p = await api("POST", "/v1/town/notices/preview", { segment: b.segment, emergency: b.emergency });
  const box = $("nt-count");
  box.replaceChildren(el("p", { class: "count" }, `${p.residents}人に届きます(LINE ${p.line_users}件)`),
    el("div", { class: "columns" },
      el("div", { class: "col chart" }, namedChart(p.by_district, "人", "届く方はいません。")),
      el("div", { class: "col chart" }, namedChart(p.by_age_band, "人", "届く方はいません。"))));
  box.hidden = false;
  return p;
}

async function sendNotice(ev) {
  ev.preventDefault();
  const b = noticeBody();
  if (!b.title || !b.body) throw new Error("件名と本文を入れてください。");
  const p = await previewNotice();
  const at = b.send_at ? `${$("nt-at").value.replace("T", " ")}に` : "今すぐ";
  const kind = b.emergency ? "緊急のお知らせ" : "お知らせ";
  if (!window.confirm(`「${b.title}」を${at}、${p.residents}人(LINE ${p.line_users}件)に${kind}として送ります。よろしいですか?`)) return;
  // one key per composed notice: a retried or double-clicked 送る never sends it twice
  town.noticeKey = town.noticeKey || crypto.randomUUID();
  const n = await api("POST", "/v1/town/notices", b, { "Idempotency-Key": town.noticeKey });
  town.noticeKey = null;
  $("nt-form").reset();
  $("nt-count").hidden = true;
  say(n.send_at ? `「${n.title}」を ${when(n.send_at)} に送ります。` : `「${n.title}」を送りはじめました。`);
  await noticeList();
}

async function noticeList() {
  const rows = await api("GET", "/v1/town/notices");
  $("nt-table").tBodies[0].replaceChildren(...(rows.length ? rows.map(noticeRow)
    : [el("tr", {}, el("td", { colspan: "7", class: "empty" }, "まだお知らせはありません。"))]));
}

function noticeRow(n) {
  // before its time (the service decides: its clock, not this PC's; 409 once it is sending)
  const cancel = n.status === "scheduled" && n.send_at
    ? el("button", { class: "small danger", type: "button", onclick: guard(() => cancelNotice(n)) }, "取り消す") : "";
  return el("tr", { "data-id": n.id, class: n.emergency ? "emergency" : "" },
    el("td", {}, (n.emergency ? "【緊急】" : "") + n.title), el("td", {}, segmentText(n.segment)),
    el("td", {}, NOTICE_STATUS[n.status] || n.status), el("td", {}, when(n.sent_at || n.send_at || n.created_at)),
    el("td", {}, `${n.pushes_sent}件`), el("td", {}, n.created_by_name), el("td", {}, cancel));
}

async function cancelNotice(n) {
  if (!window.confirm(`「${n.title}」(${when(n.send_at)} に送る予定)を取り消します。よろしいですか?`)) return;
  await api("POST", `/v1/town/notices/${encodeURIComponent(n.id)}/cancel`);
  say(`「${n.title}」を取り消しました。送りません。`);
  await noticeList();
}

// -- アンケート -------------------------------------------------------------------------------
function surveySkeleton() {
  const form = el("form", { id: "sv-form", class: "card", onsubmit: guard(saveSurvey) },
    el("h3", {}, "アンケートを作る(下書き)"),
    el("label", {}, "題名(80文字まで)", el("input", { id: "sv-title", required: "", maxlength: "80" })),
    el("label", {}, "はじめの説明(空でもよい)", el("textarea", { id: "sv-intro", maxlength: "1000", rows: "2" })),
    el("div", { id: "sv-questions" }),
    el("button", { class: "small", type: "button", onclick: () => $("sv-questions").append(questionCard()) }, "質問を加える"),
    el("label", { class: "check" }, el("input", { id: "sv-anonymous", type: "checkbox" }), "無記名(だれの答えか記録しません)"),
    el("label", {}, "締め切り(空なら、締め切るまで)", el("input", { id: "sv-closes", type: "datetime-local" })),
    segmentFieldset("sv"),
    el("button", { class: "primary", type: "submit" }, "下書きを保存する"));
  $("tw-surveys").replaceChildren(
    el("details", { id: "sv-new", class: "card" }, el("summary", {}, "新しいアンケートを作る"), form),
    el("h3", {}, "アンケート"),
    el("table", { id: "sv-table" }, el("thead", {}, el("tr", {}, ...["題名", "状態", "無記名", "送る相手", "作った人", "作った日", ""].map((h) => el("th", {}, h)))), el("tbody")),
    el("div", { id: "sv-results", class: "card", hidden: "" }));
  $("sv-questions").append(questionCard());
}

function questionCard() {
  const kind = el("select", { class: "q-kind", "aria-label": "質問の種類" }, ...Object.entries(QUESTION_KIND_JA).map(([v, t]) => el("option", { value: v }, t)));
  const choices = el("label", { class: "q-choices-label" }, "選択肢(1行に1つ、2〜10こ、20文字まで)", el("textarea", { class: "q-choices", rows: "3" }));
  const scale = el("div", { class: "row q-scale", hidden: "" },
    el("label", {}, "いちばん低い", el("input", { class: "q-min", type: "number", value: "1" })),
    el("label", {}, "いちばん高い", el("input", { class: "q-max", type: "number", value: "5" })));
  kind.addEventListener("change", () => {
    choices.hidden = !["single", "multiple"].includes(kind.value);
    scale.hidden = kind.value !== "scale";
  });
  const card = el("fieldset", { class: "question" }, el("legend", {}, "質問"),
    el("div", { class: "row" }, el("label", {}, "種類", kind),
      el("label", { class: "check" }, el("input", { class: "q-required", type: "checkbox", checked: "" }), "答えが必要")),
    el("label", {}, "質問文(200文字まで)", el("input", { class: "q-text", required: "", maxlength: "200" })),
    choices, scale,
    el("button", { class: "small danger", type: "button", onclick: () => card.remove() }, "この質問を消す"));
  return card;
}

function surveyBody() {
  const questions = [...$("sv-questions").querySelectorAll("fieldset.question")].map((c, i) => {
    const kind = c.querySelector(".q-kind").value;
    const q = { id: `q${i + 1}`, kind, text: c.querySelector(".q-text").value.trim(), required: c.querySelector(".q-required").checked };
    if (kind === "single" || kind === "multiple") q.choices = c.querySelector(".q-choices").value.split("\n").map((s) => s.trim()).filter(Boolean);
    if (kind === "scale") { q.min = Number(c.querySelector(".q-min").value); q.max = Number(c.querySelector(".q-max").value); }
    return q;
  });
  return { title: $("sv-title").value.trim(), intro: $("sv-intro").value.trim(), questions, anonymous: $("sv-anonymous").checked,
    closes_at: localIso($("sv-closes").value), segment: segmentOf("sv") };
}

async function saveSurvey(ev) {
  ev.preventDefault();
  town.surveyKey = town.surveyKey || crypto.randomUUID(); // a retried 保存 makes one draft
  const s = await api("POST", "/v1/town/surveys", surveyBody(), { "Idempotency-Key": town.surveyKey });
  town.surveyKey = null;
  $("sv-form").reset();
  $("sv-questions").replaceChildren(questionCard());
  $("sv-new").open = false;
  say(`「${s.title}」を下書きにしました。「始める」を押すと、答えの受付とLINEでのご案内が始まります。`);
  await surveyList();
}

async function surveyList() {
  const rows = await api("GET", "/v1/town/surveys");
  $("sv-table").tBodies[0].replaceChildren(...(rows.length ? rows.map(surveyRow)
    : [el("tr", {}, el("td", { colspan: "7", class: "empty" }, "まだアンケートはありません。"))]));
}

function surveyRow(s) {
  const acts = el("div", { class: "acts" });
  if (s.status === "draft") acts.append(el("button", { class: "small primary", type: "button", onclick: guard(() => openSurvey(s)) }, "始める"));
  if (s.status === "open") acts.append(el("button", { class: "small danger", type: "button", onclick: guard(() => closeSurvey(s)) }, "締め切る"));
  if (s.status !== "draft") acts.append(el("button", { class: "small", type: "button", onclick: guard(() => surveyResults(s)) }, "結果"));
  return el("tr", { "data-id": s.id }, el("td", {}, s.title), el("td", {}, SURVEY_STATUS[s.status] || s.status),
    el("td", {}, s.anonymous ? "無記名" : "記名"), el("td", {}, segmentText(s.segment)), el("td", {}, s.created_by_name),
    el("td", {}, day(s.created_at)), el("td", {}, acts));
}

async function openSurvey(s) {
  const p = await api("POST", `/v1/town/surveys/${encodeURIComponent(s.id)}/preview`);
  if (!window.confirm(`「${s.title}」の受付を始めます。アンケートに同意した${p.count}人に、LINEでご案内します。よろしいですか?`)) return;
  await api("POST", `/v1/town/surveys/${encodeURIComponent(s.id)}/open`);
  say(`「${s.title}」の受付を始めました(${p.count}人にご案内)。`);
  await surveyList();
}

async function closeSurvey(s) {
  if (!window.confirm(`「${s.title}」を締め切ります。これからの答えは受け付けません。よろしいですか?`)) return;
  await api("POST", `/v1/town/surveys/${encodeURIComponent(s.id)}/close`);
  say(`「${s.title}」を締め切りました。`);
  await surveyList();
}

async function surveyResults(s) {
  const r = await api("GET", `/v1/town/surveys/${encodeURIComponent(s.id)}/results`);
  const box = $("sv-results");
  const parts = [el("h3", {}, `「${r.title}」の結果`),
    el("p", { class: "count" }, `答え終わった方 ${r.responses}人(とちゅうの方 ${r.in_progress}人)`),
    el("button", { class: "small", type: "button", onclick: guard(() => surveyCsv(s)) }, "CSVで保存(Excel)")];
  const grid = el("div", { class: "qgrid" });
  for (const q of r.questions) {
    const cell = el("div", { class: "qresult" }, el("h4", {}, `${q.text}(${QUESTION_KIND_JA[q.kind] || q.kind}・${q.answered}人が回答)`));
    if (q.counts) cell.append(el("div", { class: "chart" }, namedChart(q.counts, "人", "答えはまだありません。")));
    if (q.distribution) {
      cell.append(el("div", { class: "chart" }, namedChart(q.distribution, "人", "答えはまだありません。")));
      if (q.mean !== null) cell.append(el("p", {}, `平均 ${q.mean}`));
    }
    if (q.texts) cell.append(q.texts.length ? el("ul", { class: "texts" }, ...q.texts.map((t) => el("li", {}, t.text)))
      : el("p", { class: "empty" }, "答えはまだありません。"));
    grid.append(cell);
  }
  box.replaceChildren(...parts, grid);
  box.hidden = false;
}

async function surveyCsv(s) {
  await saveFile(`/v1/town/surveys/${encodeURIComponent(s.id)}/results.csv`, "survey.csv");
}

// -- 問い合わせ: tickets handed to staff, questions the bot could not answer -------------------
function faqSkeleton() {
  const pick = el("select", { id: "fq-status", "aria-label": "表示する問い合わせ" },
    el("option", { value: "open" }, "まだ答えていない"), el("option", { value: "closed" }, "答えた"), el("option", { value: "all" }, "すべて"));
  pick.addEventListener("change", guard(faqLists));
  $("tw-faq").replaceChildren(
    el("h3", {}, "担当者への問い合わせ ", pick),
    el("table", { id: "fq-table" }, el("thead", {}, el("tr", {}, ...["受けた日時", "質問", "どこから", "お客様", "答えたこと"].map((h) => el("th", {}, h)))), el("tbody")),
    el("h3", {}, "チャットボットが答えられなかった質問(多い順)"),
    el("table", { id: "fq-misses" }, el("thead", {}, el("tr", {}, ...["質問", "聞かれた日数", "はじめ", "さいご", "どこから"].map((h) => el("th", {}, h)))), el("tbody")),
    el("p", { class: "note" }, "答えられなかった質問は、町の「よくある質問」のファイル(faq.yaml)に答えを足すと、次から答えます。"));
}

async function faqLists() {
  const [tickets, misses] = await Promise.all([
    api("GET", "/v1/town/faq/tickets?status=" + $("fq-status").value), api("GET", "/v1/town/faq/misses")]);
  $("fq-table").tBodies[0].replaceChildren(...(tickets.length ? tickets.map(ticketRow)
    : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "問い合わせはありません。"))]));
  $("fq-misses").tBodies[0].replaceChildren(...(misses.length ? misses.map((m) => el("tr", {},
    el("td", {}, m.question), el("td", {}, `${m.count}日`), el("td", {}, when(m.first_at)), el("td", {}, when(m.last_at)),
    el("td", {}, m.channels.map((c) => TICKET_CHANNEL[c] || c).join("・"))))
    : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "答えられなかった質問はありません。"))]));
}

function ticketRow(t) {
  const who = t.resident_id
    ? el("button", { class: "small", type: "button", onclick: guard(() => openCaller(t.resident_id)) }, "お客様を開く")
    : el("span", { class: "note" }, "LINEの登録なし(お名前はわかりません)");
  let answer;
  if (t.status === "open") {
    const note = el("input", { maxlength: "1000", "aria-label": "答えたこと", placeholder: "電話でお答えした、など" });
    answer = el("form", { class: "inline-form", onsubmit: guard((ev) => closeTicket(ev, t, note.value)) }, note,
      el("button", { class: "small primary", type: "submit" }, "答えた"));
  } else {
    answer = el("span", {}, `${t.note || "(メモなし)"}(${t.closed_by_name || ""}・${when(t.closed_at)})`);
  }
  return el("tr", { "data-id": t.id, class: t.status }, el("td", {}, when(t.created_at)), el("td", {}, t.question),
    el("td", {}, TICKET_CHANNEL[t.channel] || t.channel), el("td", {}, who), el("td", {}, answer));
}

async function closeTicket(ev, t, note) {
  ev.preventDefault();
  await api("POST", `/v1/town/faq/tickets/${encodeURIComponent(t.id)}/close`, { note: note.trim() });
  say("問い合わせを「答えた」にしました。");
  await faqLists();
}

// the ticket's resident on the phone desk, to call them back
async function openCaller(residentId) {
  const r = await api("GET", `/v1/operator/residents/${encodeURIComponent(residentId)}`);
  show("desk");
  await choose(r);
}

// -- the caller's opt-ins on the phone desk -------------------------------------------------
async function callerOptIns(r) {
  const box = $("c-town");
  box.replaceChildren();
  if (r.closed_at) return;
  const subs = await api("GET", `/v1/town/residents/${encodeURIComponent(r.id)}/subscriptions`);
  let areas = [];
  if (subs.some((s) => s.service === "garbage")) {
    try { areas = await api("GET", "/v1/town/garbage/areas"); } catch (e) { if (e.status !== 404) throw e; } // 404: no calendar yet
  }
  const held = await api("GET", `/v1/town/reservations/residents/${encodeURIComponent(r.id)}`);
  box.append(el("h3", {}, "町からのLINEのお知らせ(ご本人のお申し出で変えます)"),
    el("ul", { class: "optins" }, ...subs.map((s) => optInRow(r, s, areas))),
    el("h3", {}, "教室・窓口の予約"),
    held.length ? el("ul", { class: "trips", id: "c-reservations" }, ...held.map((h) => heldRow(r, h)))
      : el("p", { class: "note" }, "予約している教室・窓口はありません(「町のサービス」の「教室・窓口の予約」で予約できます)。"));
}

function heldRow(r, h) {
  const e = h.event;
  const status = h.status === "waiting" ? `キャンセル待ち(${h.waiting_position}番目)` : h.status_ja;
  return el("li", { "data-id": h.id }, `${day(e.starts_at)} ${hhmm(e.starts_at)} ${e.title}(${e.place}・${status}${h.rides.length ? "・バスも予約" : ""}) `,
    el("button", { class: "small danger", type: "button", onclick: guard(async () => {
      if (!window.confirm(`${r.name} 様の「${e.title}」の予約を取り消します。いっしょに取ったバスも取り消します。よろしいですか?`)) return;
      await api("POST", `/v1/town/reservations/${encodeURIComponent(h.id)}/cancel`, { rides: true });
      say(`${r.name} 様の「${e.title}」の予約を取り消しました。`);
      await choose(r);
    }) }, "取り消す"));
}

function optInRow(r, s, areas) {
  const li = el("li", { "data-service": s.service }, el("b", {}, s.name_ja), `: ${s.on ? "受け取る" : "受け取らない"}`);
  if (s.on && s.options.area) li.append(`(${s.options.area}・${s.options.timing === "morning" ? "当日の朝" : "前の日の夕方"})`);
  if (s.service === "garbage") {
    if (!areas.length) { li.append(" ", el("span", { class: "note" }, "ごみの日のカレンダーがまだありません。")); return li; }
    const area = el("select", { "aria-label": "ごみの地区" }, ...areas.map((a) => el("option", { value: a.name }, a.name)));
    area.value = s.options.area || areas[0].name;
    const timing = el("select", { "aria-label": "お知らせの時間" }, el("option", { value: "evening" }, "前の日の夕方"), el("option", { value: "morning" }, "当日の朝"));
    timing.value = s.options.timing || "evening";
    li.append(" ", el("form", { class: "inline-form", onsubmit: guard((ev) => setOptIn(ev, r, s, { area: area.value, timing: timing.value })) },
      area, timing, el("button", { class: "small", type: "submit" }, s.on ? "変える" : "受け取る")));
  } else if (!s.on) {
    li.append(" ", el("button", { class: "small", type: "button", onclick: guard((ev) => setOptIn(ev, r, s, {})) }, "受け取る"));
  }
  if (s.on) li.append(" ", el("button", { class: "small danger", type: "button", onclick: guard(() => stopOptIn(r, s)) }, "やめる"));
  return li;
}

async function setOptIn(ev, r, s, body) {
  if (ev && ev.preventDefault) ev.preventDefault();
  await api("PUT", `/v1/town/residents/${encodeURIComponent(r.id)}/subscriptions/${s.service}`, body);
  say(`${r.name} 様は「${s.name_ja}」を受け取ります。`);
  await callerOptIns(r);
}

async function stopOptIn(r, s) {
  await api("DELETE", `/v1/town/residents/${encodeURIComponent(r.id)}/subscriptions/${s.service}`);
  say(`${r.name} 様の「${s.name_ja}」を止めました。`);
  await callerOptIns(r);
}
