// 申請書 (書かない窓口): find an application by the 受付番号 the resident shows, or list today's
// and the pre-applications still to come to the counter; start one for a resident at the
// counter (found by phone number, name or kana); the fields the record filled are marked
// 「登録から」, the ones to check against the ID have a 「確認した」 tick; save, complete (the
// service refuses until the required fields are written and the ticks made), print the PDF.
// Operators and admins. Loaded after console.js and town.js, whose helpers ($, el, api, guard,
// say, state, day, hhmm, when) it uses.
"use strict";
const FA_STATUS = { pre_applied: "事前申請(窓口はまだ)", in_review: "窓口で確認中", completed: "完了", cancelled: "取り消し" };
const FA_CHANNEL = { line: "LINE", app: "アプリ", counter: "窓口" };
const formDesk = { defs: null, app: null, resident: null, key: null, list: "today" };

function faSkeleton() {
  const find = el("form", { id: "fa-find", class: "card", onsubmit: guard(faFind) },
    el("h3", {}, "受付番号でさがす"),
    el("div", { class: "row" },
      el("label", {}, "受付番号(例: A26-0001。一部だけでも)", el("input", { id: "fa-number", autocomplete: "off", maxlength: "20" })),
      el("button", { class: "primary", type: "submit" }, "さがす")),
    el("div", { class: "row" },
      el("button", { id: "fa-today", class: "small", type: "button", onclick: guard(() => faList("today")) }, "今日の申請"),
      el("button", { id: "fa-waiting", class: "small", type: "button", onclick: guard(() => faList("waiting")) }, "窓口に来ていない事前申請")));
  const start = el("form", { id: "fa-start", class: "card", onsubmit: guard(faStart) },
    el("h3", {}, "窓口で申請書を作る"),
    el("div", { class: "row" },
      el("label", {}, "お客様をさがす(電話番号・名前・かな)", el("input", { id: "fa-q", autocomplete: "off" })),
      el("button", { class: "small", type: "button", onclick: guard(faPeople) }, "お客様をさがす")),
    el("ul", { id: "fa-people", class: "fa-people" }),
    el("p", { id: "fa-who", class: "fa-who" }, "お客様をえらんでください。"),
    el("label", {}, "申請書", el("select", { id: "fa-form" })),
    el("label", { class: "check" }, el("input", { id: "fa-consent", type: "checkbox" }),
      "ご本人が、町の登録の内容(お名前・住所など)を申請書に写すことに同意した"),
    el("button", { class: "primary", type: "submit" }, "申請書を作る"));
  start.addEventListener("input", () => { formDesk.key = null; });
  $("tw-forms").replaceChildren(
    el("div", { class: "columns" },
      el("div", { class: "col" }, find, start),
      el("div", { class: "col wide" },
        el("h3", { id: "fa-list-title" }, "今日の申請"),
        el("table", { id: "fa-table" }, el("thead", {}, el("tr", {}, ...["受付番号", "申請書", "お名前", "状態", "どこから", "受けた日時", ""].map((h) => el("th", {}, h)))), el("tbody")),
        el("div", { id: "fa-detail", class: "card fa-detail", hidden: "" }))),
    el("p", { class: "note" }, "LINEやアプリで事前申請した方は、受付番号を見せてくださいます。申請書の様式は町のファイル(forms/*.yaml)で決まります。"));
}

async function formsTab() {
  if (!$("fa-find")) faSkeleton();
  if (!formDesk.defs) {
    formDesk.defs = await api("GET", "/v1/town/forms");
    $("fa-form").replaceChildren(...formDesk.defs.map((f) => el("option", { value: f.id }, f.title + (f.sample ? "(見本)" : ""))));
  }
  // a caller chosen on the phone desk is the one who came to the counter, until another is found
  if (!formDesk.resident && state.caller && !state.caller.closed_at) faChoose(state.caller);
  await faList(formDesk.list);
}

// -- finding an application -------------------------------------------------------------------
async function faFind(ev) {
  ev.preventDefault();
  const typed = $("fa-number").value.trim();
  if (!typed) throw new Error("受付番号を入れてください。");
  const rows = await api("GET", "/v1/town/forms/applications?number=" + encodeURIComponent(typed));
  faRows(`受付番号「${typed}」の申請`, rows, "その番号の申請は見つかりません。番号をもう一度お聞きください。");
  if (rows.length === 1) await faOpen(rows[0].id);
}

async function faList(which) {
  formDesk.list = which;
  const [title, query, none] = which === "waiting"
    ? ["窓口に来ていない事前申請", "status=pre_applied", "窓口に来ていない事前申請はありません。"]
    : ["今日の申請", "today=true", "今日の申請はまだありません。"];
  faRows(title, await api("GET", "/v1/town/forms/applications?" + query), none);
}

function faRows(title, rows, none) {
  $("fa-list-title").textContent = title;
  $("fa-table").tBodies[0].replaceChildren(...(rows.length ? rows.map((a) => el("tr", { "data-id": a.id, class: a.status },
    el("td", { class: "fa-num" }, a.number), el("td", {}, a.form_title), el("td", {}, a.resident_name + " 様"),
    el("td", {}, FA_STATUS[a.status] || a.status), el("td", {}, FA_CHANNEL[a.channel] || a.channel), el("td", {}, when(a.created_at)),
    el("td", {}, el("button", { class: "small", type: "button", onclick: guard(() => faOpen(a.id)) }, "開く"))))
    : [el("tr", {}, el("td", { colspan: "7", class: "empty" }, none))]));
}

// -- starting one at the counter -----------------------------------------------------------------
async function faPeople() {
  const q = $("fa-q").value.trim();
  if (!q) throw new Error("電話番号か名前を入れてください。");
  const found = await api("GET", "/v1/operator/residents?q=" + encodeURIComponent(q));
  const open = found.results.filter((r) => !r.closed_at);
  $("fa-people").replaceChildren(...(open.length ? open.map((r) => el("li", {},
    el("button", { type: "button", onclick: () => faChoose(r) }, `${r.name}(${r.kana})  ☎ ${r.phone}`)))
    : [el("li", { class: "empty" }, "見つかりません。電話の受付で登録してください。")]));
}

function faChoose(r) {
  formDesk.resident = r;
  formDesk.key = null;
  $("fa-people").replaceChildren();
  $("fa-who").textContent = `${r.name} 様(${r.kana}・${r.address})の申請書を作ります。`;
}

async function faStart(ev) {
  ev.preventDefault();
  const r = formDesk.resident;
  if (!r) throw new Error("はじめに、お客様をさがしてえらんでください。");
  const form = $("fa-form").value;
  // one key per composed start: a double click or a retry makes one application
  formDesk.key = formDesk.key || crypto.randomUUID();
  const a = await api("POST", `/v1/town/forms/${encodeURIComponent(form)}/applications`,
    { resident_id: r.id, prefill: $("fa-consent").checked, values: {} }, { "Idempotency-Key": formDesk.key });
  formDesk.key = null;
  $("fa-consent").checked = false;
  say(`${a.resident_name} 様の「${a.form_title}」を作りました。受付番号 ${a.number}`);
  await faList("today");
  faShow(a);
}

// -- one application --------------------------------------------------------------------------------
async function faOpen(id) {
  faShow(await api("GET", `/v1/town/forms/applications/${encodeURIComponent(id)}`));
}

function faInput(f, editable) {
  const attrs = { "data-field": f.id, "data-type": f.type, class: "fa-input" };
  if (!editable) attrs.disabled = "";
  let input;
  if (f.type === "choice") {
    input = el("select", attrs, el("option", { value: "" }, "(えらぶ)"), ...f.choices.map((c) => el("option", { value: c }, c)));
    input.value = f.value === null ? "" : f.value;
  } else if (f.type === "check") {
    input = el("input", { ...attrs, type: "checkbox" });
    input.checked = f.value === true;
  } else {
    const extra = f.type === "number" ? { type: "number", min: String(f.min), max: String(f.max), inputmode: "numeric" }
      : f.type === "date" ? { type: "date" } : { maxlength: String(f.max_length || 200) };
    input = el("input", { ...attrs, ...extra, autocomplete: "off" });
    input.value = f.value === null ? "" : String(f.value);
  }
  return input;
}

function faField(f, editable) {
  const tags = [];
  if (f.prefilled) tags.push(el("span", { class: "fa-tag prefilled" }, "登録から"));
  if (f.by === "staff") tags.push(el("span", { class: "fa-tag staff" }, "窓口記入"));
  const box = el("div", { class: "fa-field" + (f.prefilled ? " prefilled" : ""), "data-field": f.id },
    el("label", { class: f.type === "check" ? "check" : "" }, el("span", { class: "fa-label" }, f.label + (f.required ? " *" : "")), ...tags,
      faInput(f, editable)));
  if (f.hint) box.append(el("p", { class: "note" }, f.hint));
  if (f.staff_confirm) {
    const tick = el("input", { type: "checkbox", class: "fa-confirm", "data-field": f.id });
    tick.checked = f.confirmed;
    if (!editable) tick.disabled = true;
    box.append(el("label", { class: "check fa-tick" }, tick, `確認した(本人確認書類と「${f.label}」を見くらべた)`));
  }
  return box;
}

function faShow(a) {
  formDesk.app = a;
  const editable = a.status === "pre_applied" || a.status === "in_review";
  const box = $("fa-detail");
  const head = [el("p", { class: "fa-number" }, `受付番号 ${a.number}`),
    el("h3", {}, `${a.form_title}  ${a.resident_name} 様`),
    el("p", { id: "fa-status" }, `${FA_STATUS[a.status] || a.status}・${FA_CHANNEL[a.channel] || a.channel}で ${when(a.created_at)}`
      + (a.completed_at ? `・完了 ${when(a.completed_at)}(${a.completed_by_name || ""})` : ""))];
  if (!a.form_version_current) head.push(el("p", { class: "note" }, "この申請のあとで、申請書の様式が変わりました。"));
  if (a.prefill_consent_at) head.push(el("p", { class: "note" }, `「登録から」の欄は、ご本人の同意(${when(a.prefill_consent_at)})で町の登録の内容を写しました。`));
  else if (editable) head.push(el("button", { id: "fa-prefill", class: "small", type: "button", onclick: guard(faPrefill) }, "ご本人が同意した: 登録の内容を写す"));
  const left = [];
  const label = (id) => (a.fields.find((f) => f.id === id) || { label: id }).label;
  if (a.missing.length) left.push(`まだ書いていない欄: ${a.missing.map(label).join("、")}`);
  if (a.unconfirmed.length) left.push(`確認の印がない欄: ${a.unconfirmed.map(label).join("、")}`);
  const acts = el("div", { class: "row fa-acts" });
  if (editable) {
    acts.append(el("button", { id: "fa-save", type: "button", onclick: guard(faSave) }, "保存する"),
      el("button", { id: "fa-complete", class: "primary", type: "button", onclick: guard(faComplete) }, "完了にする"));
  }
  acts.append(el("button", { id: "fa-print", type: "button", onclick: guard(faPrint) }, "印刷する(PDF)"));
  if (editable) acts.append(el("button", { id: "fa-cancel", class: "danger", type: "button", onclick: guard(faCancel) }, "取り消す"));
  box.replaceChildren(...head, el("div", { class: "fa-fields" }, ...a.fields.map((f) => faField(f, editable))),
    el("p", { id: "fa-left", class: left.length ? "fa-left" : "fa-left ready" },
      editable ? (left.length ? left.join("。") + "。" : "すべて書いて確かめました。「完了にする」を押してください。") : ""),
    acts);
  box.hidden = false;
}

function faBody() {
  const values = {}, confirm = {};
  for (const input of $("fa-detail").querySelectorAll(".fa-input")) {
    const t = input.dataset.type;
    if (t === "check") values[input.dataset.field] = input.checked;
    else if (input.value.trim() === "") values[input.dataset.field] = null;
    else values[input.dataset.field] = t === "number" ? Number(input.value) : input.value.trim();
  }
  for (const tick of $("fa-detail").querySelectorAll(".fa-confirm")) confirm[tick.dataset.field] = tick.checked;
  return { values, confirm };
}

async function faSave() {
  const a = await api("PATCH", `/v1/town/forms/applications/${encodeURIComponent(formDesk.app.id)}`, faBody());
  faShow(a);
  say(`受付番号 ${a.number} を保存しました。`);
  return a;
}

async function faPrefill() {
  faShow(await api("PATCH", `/v1/town/forms/applications/${encodeURIComponent(formDesk.app.id)}`, { prefill: true }));
  say("町の登録の内容を写しました。本人確認書類と見くらべてください。");
}

async function faComplete() {
  const saved = await faSave();
  const a = await api("POST", `/v1/town/forms/applications/${encodeURIComponent(saved.id)}/complete`);
  faShow(a);
  say(`受付番号 ${a.number} を完了にしました。`);
  await faList(formDesk.list);
}

async function faCancel() {
  const a = formDesk.app;
  if (!window.confirm(`受付番号 ${a.number}(${a.resident_name} 様)を取り消します。よろしいですか?`)) return;
  faShow(await api("POST", `/v1/town/forms/applications/${encodeURIComponent(a.id)}/cancel`));
  say(`受付番号 ${a.number} を取り消しました。`);
  await faList(formDesk.list);
}

async function faPrint() {
  const a = formDesk.app;
  const r = await fetch(`/v1/town/forms/applications/${encodeURIComponent(a.id)}.pdf`, { headers: { Authorization: "Bearer " + state.token } });
  if (!r.ok) { const data = await r.json().catch(() => null); throw new Error((data && data.error && data.error.message_ja) || "印刷用のPDFを作れませんでした"); }
  const link = el("a", { href: URL.createObjectURL(await r.blob()), download: `${a.number}.pdf` });
  document.body.append(link); link.click(); link.remove();
  say(`受付番号 ${a.number} のPDFを保存しました。開いて印刷してください。`);
}
