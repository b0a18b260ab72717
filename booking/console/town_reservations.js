// 教室・窓口の予約: classes, the help desk and counter slots (/v1/town/reservations): define
// them, see places and the waiting list, reserve for a caller, record attendance, the roster
// as CSV. Loaded after console.js and town.js, whose helpers ($, el, api, guard, say, state,
// day, hhmm, when, OFFSET) it uses; town.js opens it (reservationsTab).
"use strict";
const EVENT_KIND_JA = { class: "教室", desk: "相談窓口", counter: "窓口の予約" };
const RES_STATUS_JA = { booked: "予約", waiting: "キャンセル待ち", cancelled: "取り消し", attended: "出席", absent: "欠席" };
const evt = { chosen: null };

function stopPicker(id) {
  return el("select", { id, "aria-label": "会場の乗降ポイント" }, el("option", { value: "" }, "(なし)"),
    ...state.points.map((p) => el("option", { value: p.id }, `${p.id} ${p.name}`)));
}

function reservationsSkeleton() {
  const kinds = el("select", { id: "ev-kind" }, ...["class", "desk"].map((k) => el("option", { value: k }, EVENT_KIND_JA[k])));
  const one = el("form", { id: "ev-form", class: "card", onsubmit: guard(addEvent) },
    el("h3", {}, "教室・相談窓口を作る"),
    el("div", { class: "row" }, el("label", {}, "種類", kinds), el("label", {}, "名前(80文字まで)", el("input", { id: "ev-title", required: "", maxlength: "80", placeholder: "スマホ教室(LINEの使い方)" }))),
    el("div", { class: "row" }, el("label", {}, "場所", el("input", { id: "ev-place", required: "", maxlength: "120", placeholder: "鞍手町役場 2階 会議室" })),
      el("label", {}, "会場の乗降ポイント(バスの行き先)", stopPicker("ev-stop"))),
    el("div", { class: "row" }, el("label", {}, "日", el("input", { id: "ev-day", type: "date", required: "" })),
      el("label", {}, "はじまり", el("input", { id: "ev-from", type: "time", required: "", value: "10:00" })),
      el("label", {}, "おわり", el("input", { id: "ev-to", type: "time", required: "", value: "11:30" }))),
    el("div", { class: "row" }, el("label", {}, "定員", el("input", { id: "ev-capacity", type: "number", min: "1", max: "500", value: "10", required: "" })),
      el("label", {}, "キャンセル待ちの人数", el("input", { id: "ev-waitlist", type: "number", min: "0", max: "500", value: "5" })),
      el("label", {}, "取り消しは何時間前まで", el("input", { id: "ev-cancel", type: "number", min: "0", max: "336", value: "24" }))),
    el("div", { class: "row" }, el("label", {}, "お知らせ: 何日前", el("input", { id: "ev-rdays", type: "number", min: "0", max: "14", value: "1" })),
      el("label", {}, "お知らせの時刻", el("input", { id: "ev-rat", type: "time", value: "17:00" }))),
    el("label", {}, "持ち物・対象など(空でもよい)", el("textarea", { id: "ev-note", maxlength: "1000", rows: "2" })),
    el("button", { class: "primary", type: "submit" }, "作る"));
  const slots = el("form", { id: "sl-form", class: "card", onsubmit: guard(addSlots) },
    el("h3", {}, "窓口の予約枠を一日分つくる"),
    el("div", { class: "row" }, el("label", {}, "窓口の名前", el("input", { id: "sl-title", required: "", maxlength: "80", placeholder: "マイナンバーカードの窓口" })),
      el("label", {}, "場所", el("input", { id: "sl-place", required: "", maxlength: "120" })), el("label", {}, "会場の乗降ポイント", stopPicker("sl-stop"))),
    el("div", { class: "row" }, el("label", {}, "日", el("input", { id: "sl-day", type: "date", required: "" })),
      el("label", {}, "はじめの枠", el("input", { id: "sl-first", type: "time", required: "", value: "09:00" })),
      el("label", {}, "さいごの枠", el("input", { id: "sl-last", type: "time", required: "", value: "11:30" })),
      el("label", {}, "1枠(分)", el("input", { id: "sl-minutes", type: "number", min: "5", max: "240", value: "30" })),
      el("label", {}, "1枠の人数", el("input", { id: "sl-capacity", type: "number", min: "1", max: "50", value: "1" }))),
    el("button", { class: "primary", type: "submit" }, "枠を作る"));
  $("tw-reservations").replaceChildren(
    el("div", { class: "row" }, el("details", { id: "ev-new", class: "card" }, el("summary", {}, "教室・相談窓口を作る"), one),
      el("details", { id: "sl-new", class: "card" }, el("summary", {}, "窓口の予約枠をつくる"), slots)),
    el("h3", {}, "これからの予定(60日)"),
    el("table", { id: "ev-table" }, el("thead", {}, el("tr", {}, ...["日時", "名前", "種類", "場所", "予約/定員", "キャンセル待ち", "状態", ""].map((h) => el("th", {}, h)))), el("tbody")),
    el("div", { id: "ev-roster", class: "card", hidden: "" }));
}

async function reservationsTab() {
  if (!$("ev-table")) reservationsSkeleton();
  await eventList();
  if (evt.chosen) await roster(evt.chosen);
}

const localAt = (d, t) => `${d}T${t}:00${OFFSET}`;

async function addEvent(ev) {
  ev.preventDefault();
  const d = $("ev-day").value;
  const body = { kind: $("ev-kind").value, title: $("ev-title").value.trim(), place: $("ev-place").value.trim(),
    stop_id: $("ev-stop").value || null, note: $("ev-note").value.trim(),
    starts_at: localAt(d, $("ev-from").value), ends_at: localAt(d, $("ev-to").value),
    capacity: Number($("ev-capacity").value), waitlist: Number($("ev-waitlist").value || 0),
    cancel_before_minutes: Number($("ev-cancel").value || 0) * 60,
    reminders: $("ev-rat").value ? [{ days_before: Number($("ev-rdays").value || 0), at: $("ev-rat").value }] : [] };
  evt.key = evt.key || crypto.randomUUID(); // a retried 作る makes one event
  const e = await api("POST", "/v1/town/reservations/events", body, { "Idempotency-Key": evt.key });
  evt.key = null;
  $("ev-form").reset();
  $("ev-new").open = false;
  say(`「${e.title}」(${when(e.starts_at)})を作りました。LINEと電話で予約できます。`);
  await eventList();
}

async function addSlots(ev) {
  ev.preventDefault();
  const body = { title: $("sl-title").value.trim(), place: $("sl-place").value.trim(), stop_id: $("sl-stop").value || null,
    day: $("sl-day").value, first: $("sl-first").value, last: $("sl-last").value,
    minutes: Number($("sl-minutes").value), capacity: Number($("sl-capacity").value) };
  evt.slotKey = evt.slotKey || crypto.randomUUID();
  const made = await api("POST", "/v1/town/reservations/slots", body, { "Idempotency-Key": evt.slotKey });
  evt.slotKey = null;
  $("sl-form").reset();
  $("sl-new").open = false;
  say(`「${body.title}」の枠を${made.length}こ作りました。`);
  await eventList();
}

async function eventList() {
  const rows = await api("GET", "/v1/town/reservations/events");
  $("ev-table").tBodies[0].replaceChildren(...(rows.length ? rows.map(eventRow)
    : [el("tr", {}, el("td", { colspan: "8", class: "empty" }, "これからの予定はありません。"))]));
}

function eventRow(e) {
  const acts = el("div", { class: "acts" }, el("button", { class: "small", type: "button", onclick: guard(() => roster(e.id)) }, "名簿"));
  if (e.status === "open") acts.append(el("button", { class: "small danger", type: "button", onclick: guard(() => callOff(e)) }, "取りやめ"));
  return el("tr", { "data-id": e.id, class: e.status === "open" ? "" : "off" },
    el("td", {}, `${day(e.starts_at)} ${hhmm(e.starts_at)}〜${hhmm(e.ends_at)}`), el("td", {}, e.title), el("td", {}, e.kind_ja),
    el("td", {}, e.place + (e.stop_name ? `(バス: ${e.stop_name})` : "")), el("td", {}, `${e.booked}/${e.capacity}`),
    el("td", {}, `${e.waiting}/${e.waitlist}`), el("td", {}, e.status === "open" ? (e.free ? `あと${e.free}席` : "満席") : "取りやめ"), el("td", {}, acts));
}

async function callOff(e) {
  if (!window.confirm(`「${e.title}」(${when(e.starts_at)})を取りやめます。予約した${e.booked}人とキャンセル待ちの${e.waiting}人の予約を取り消し、LINEでお知らせします。よろしいですか?`)) return;
  await api("POST", `/v1/town/reservations/events/${encodeURIComponent(e.id)}/cancel`);
  say(`「${e.title}」を取りやめました。`);
  await reservationsTab();
}

async function roster(eventId) {
  evt.chosen = eventId;
  const [e, rows] = await Promise.all([api("GET", `/v1/town/reservations/events/${encodeURIComponent(eventId)}`),
    api("GET", `/v1/town/reservations/events/${encodeURIComponent(eventId)}/roster`)]);
  const find = el("form", { class: "inline-form", onsubmit: guard((ev) => findCaller(ev, e, q.value)) });
  const q = el("input", { "aria-label": "予約に加えるお客様", placeholder: "電話番号・お名前・よみ" });
  find.append(q, el("button", { class: "small", type: "submit" }, "さがす"));
  const box = $("ev-roster");
  box.replaceChildren(el("h3", {}, `名簿: ${e.title} ${day(e.starts_at)} ${hhmm(e.starts_at)}〜${hhmm(e.ends_at)}`),
    el("p", { class: "count" }, `予約 ${e.booked}/${e.capacity}人・キャンセル待ち ${e.waiting}人`),
    e.status === "open" ? el("div", { class: "row" }, el("span", {}, "お電話の方を予約に加える:"), find) : "",
    el("ul", { id: "ev-found", class: "results" }),
    el("table", { id: "ev-roster-table" }, el("thead", {}, el("tr", {}, ...["お名前", "よみ", "電話", "状態", "受付", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, ...(rows.length ? rows.map((r) => rosterRow(e, r)) : [el("tr", {}, el("td", { colspan: "6", class: "empty" }, "まだ予約はありません。"))]))),
    el("button", { class: "small", type: "button", onclick: guard(() => rosterCsv(e)) }, "名簿をCSVで保存(Excel)"));
  box.hidden = false;
}

function rosterRow(e, r) {
  const acts = el("div", { class: "acts" });
  if (["booked", "attended", "absent"].includes(r.status)) {
    acts.append(el("button", { class: "small", type: "button", onclick: guard(() => mark(e, r, true)) }, "出席"),
      el("button", { class: "small", type: "button", onclick: guard(() => mark(e, r, false)) }, "欠席"));
  }
  if (["booked", "waiting"].includes(r.status)) acts.append(el("button", { class: "small danger", type: "button", onclick: guard(() => cancelPlace(e, r)) }, "取り消す"));
  const status = (RES_STATUS_JA[r.status] || r.status) + (r.waiting_position ? `(${r.waiting_position}番目)` : "");
  const channel = { line: "LINE", app: "アプリ", phone: "電話", console: "受付" }[r.channel] || r.channel;
  return el("tr", { "data-id": r.id, class: r.status }, el("td", {}, r.name), el("td", {}, r.kana), el("td", {}, r.phone),
    el("td", {}, status), el("td", {}, channel), el("td", {}, acts));
}

async function findCaller(ev, e, q) {
  ev.preventDefault();
  if (!q.trim()) throw new Error("電話番号かお名前を入れてください。");
  const found = await api("GET", "/v1/operator/residents?q=" + encodeURIComponent(q));
  $("ev-found").replaceChildren(...found.results.filter((r) => !r.closed_at).map((r) => el("li", {},
    el("button", { type: "button", onclick: guard(() => reserveFor(e, r)) }, `${r.name}(${r.kana}) ☎ ${r.phone} を予約する`))));
  if (!found.results.length) $("ev-found").append(el("li", {}, "見つかりません。電話受付の画面で登録してください。"));
}

async function reserveFor(e, r) {
  const res = await api("POST", `/v1/town/reservations/events/${encodeURIComponent(e.id)}/reservations`, { resident_id: r.id });
  say(res.status === "waiting" ? `${r.name} 様をキャンセル待ち(${res.waiting_position}番目)にしました。` : `${r.name} 様を予約しました。`);
  await reservationsTab();
}

async function mark(e, r, attended) {
  await api("POST", `/v1/town/reservations/${encodeURIComponent(r.id)}/attendance`, { attended });
  say(`${r.name} 様を「${attended ? "出席" : "欠席"}」にしました。`);
  await roster(e.id);
}

async function cancelPlace(e, r) {
  if (!window.confirm(`${r.name} 様の「${e.title}」の予約を取り消します。いっしょに取ったバスも取り消します。よろしいですか?`)) return;
  await api("POST", `/v1/town/reservations/${encodeURIComponent(r.id)}/cancel`, { rides: true });
  say(`${r.name} 様の予約を取り消しました。キャンセル待ちの方がいれば、その方の予約になります。`);
  await reservationsTab();
}

async function rosterCsv(e) {
  await saveFile(`/v1/town/reservations/events/${encodeURIComponent(e.id)}/roster.csv`, "reservations.csv");
}
