// 納付書 in 町のサービス: the slips file from the tax system and the payments file imported
// (file inputs → /v1/town/slips/import and /payments/import; UTF-8 or Shift_JIS files), the
// slips listed (due date, what, who, amount, paid or not) and a slip's PDF opened. Operators
// and admins (the API answers 403 to anyone else). Loaded after console.js and town.js,
// whose helpers ($, el, api, guard, say, state, day) it uses.
"use strict";
const SLIP_STATUS = { unpaid: "まだ払われていない", paid: "支払い済み" };
const SLIP_RESULT = { paid: "支払い済みにしました", already_paid: "すでに支払い済みでした", unknown: "ここにない納付書です", mismatched: "金額などがちがいます(支払い済みにしていません)" };
const slipYen = (n) => `${Number(n).toLocaleString("ja-JP")}円`;
const slipDay = (d) => day(`${d}T12:00:00${OFFSET}`); // a date (2026-12-25): the town's day, with its weekday

async function slipsTab() {
  if (!$("sl-table")) slipSkeleton();
  await slipList();
}

function slipSkeleton() {
  const pick = el("select", { id: "sl-status", "aria-label": "表示する納付書" },
    el("option", { value: "" }, "すべて"), el("option", { value: "unpaid" }, "まだ払われていない"), el("option", { value: "paid" }, "支払い済み"));
  pick.addEventListener("change", guard(slipList));
  const fileForm = (id, title, note, label, submit) => el("form", { id, class: "card", onsubmit: guard(submit) },
    el("h3", {}, title), el("p", { class: "note" }, note),
    el("label", {}, label, el("input", { id: `${id}-file`, type: "file", accept: ".csv,text/csv", required: "" })),
    el("button", { class: "primary", type: "submit" }, "取り込む"));
  $("tw-slips").replaceChildren(
    el("div", { class: "columns" },
      el("div", { class: "col" },
        fileForm("sl-import", "納付書のファイルを取り込む",
          "税のシステムから出したCSVファイルです。同じファイルをもう一度取り込んでも、二重にはなりません。まちがいが1つでもあると、何も取り込みません。",
          "納付書のファイル(CSV)", importSlips),
        fileForm("sl-pay", "支払いのファイルを取り込む",
          "コンビニなどで払われた納付書の一覧(バーコードの数字と支払った日)です。払われた納付書が「支払い済み」になり、お知らせも止まります。",
          "支払いのファイル(CSV)", importPayments),
        el("div", { id: "sl-report", class: "card", hidden: "", role: "status" })),
      el("div", { class: "col wide" },
        el("h3", {}, "納付書 ", pick),
        el("table", { id: "sl-table" }, el("thead", {}, el("tr", {}, ...["納期限", "税目など", "お名前", "金額", "状態", ""].map((h) => el("th", {}, h)))), el("tbody")))),
    el("p", { class: "note" }, "「納付期限のお知らせ」を受け取ると決めた方には、まだ払われていない納付書について、納期限の3日前にLINEでお知らせします。"));
}

// the file's text: UTF-8 (a BOM is dropped), or Shift_JIS as Japanese office systems write it
async function slipFileText(input) {
  const file = input.files[0];
  if (!file) throw new Error("ファイルを選んでください。");
  const bytes = await file.arrayBuffer();
  try { return [file.name, new TextDecoder("utf-8", { fatal: true }).decode(bytes)]; }
  catch (e) { return [file.name, new TextDecoder("shift_jis").decode(bytes)]; }
}

function slipReport(title, ...lines) {
  const box = $("sl-report");
  box.replaceChildren(el("h3", {}, title), ...lines);
  box.hidden = false;
}

// a refused file: every problem by row, so that it can be fixed at once
function slipProblems(e) {
  const found = (e.details && (e.details.problems || e.details.conflicts)) || [];
  slipReport("取り込めませんでした", el("p", { class: "error-text" }, e.message),
    el("ul", {}, ...found.map((p) => el("li", {}, `${p.row}行目 ${p.field || (p.fields || []).join("・")}: ${p.message_ja || "すでにある納付書と内容がちがいます"}`))));
}

async function slipPostFile(input, path) {
  const [name, text] = await slipFileText(input);
  try { return await api("POST", path, { csv: text, source: name }); }
  catch (e) { slipProblems(e); throw e; }
}

async function importSlips(ev) {
  ev.preventDefault();
  const r = await slipPostFile($("sl-import-file"), "/v1/town/slips/import");
  slipReport("納付書を取り込みました", el("p", { class: "count" }, `新しく ${r.created}件・変更 ${r.updated}件・変わらず ${r.unchanged}件`));
  say(`納付書を取り込みました(新しく${r.created}件)。`);
  $("sl-import").reset();
  await slipList();
}

async function importPayments(ev) {
  ev.preventDefault();
  const r = await slipPostFile($("sl-pay-file"), "/v1/town/slips/payments/import");
  const lines = Object.entries(SLIP_RESULT).map(([k, t]) => el("p", { class: k === "paid" ? "count" : "" }, `${t}: ${r.counts[k]}件`));
  const rows = [...r.unknown, ...r.mismatched].sort((a, b) => a.row - b.row);
  if (rows.length) lines.push(el("p", {}, "たしかめてください:"), el("ul", {}, ...rows.map((x) => el("li", {},
    `${x.row}行目 ${x.barcode}(${x.slip_id ? "金額などがちがう" : "ここにない納付書"})`))));
  slipReport("支払いを取り込みました", ...lines);
  say(`支払い済みにした納付書: ${r.counts.paid}件`);
  $("sl-pay").reset();
  await slipList();
}

async function slipList() {
  const status = $("sl-status").value;
  const rows = await api("GET", "/v1/town/slips" + (status ? `?status=${status}` : ""));
  $("sl-table").tBodies[0].replaceChildren(...(rows.length ? rows.map(slipRow)
    : [el("tr", {}, el("td", { colspan: "6", class: "empty" }, "納付書はありません。"))]));
}

function slipRow(s) {
  const shown = s.status === "paid" ? `${SLIP_STATUS.paid}(${slipDay(s.paid_at)})` : s.superseded ? "再発行で差しかえ" : SLIP_STATUS.unpaid;
  const who = [el("span", {}, s.payer_name)];
  if (!s.resident_id) who.push(el("br"), el("small", {}, "(利用者の登録と結びついていません)"));
  return el("tr", { "data-id": s.id, class: s.status },
    el("td", {}, slipDay(s.due)), el("td", {}, `${s.subject} ${s.fiscal_year}年度 ${s.period}`),
    el("td", {}, ...who), el("td", { class: "num" }, slipYen(s.amount)), el("td", {}, shown),
    el("td", {}, el("button", { class: "small", type: "button", onclick: guard(() => slipPdf(s)) }, "PDFを開く")));
}

async function slipPdf(s) {
  const r = await fetch(`/v1/town/slips/${encodeURIComponent(s.id)}.pdf`, { headers: { Authorization: "Bearer " + state.token } });
  if (!r.ok) { const data = await r.json().catch(() => null); throw new Error((data && data.error && data.error.message_ja) || "開けませんでした"); }
  const link = el("a", { href: URL.createObjectURL(await r.blob()), download: `slip-${s.id}.pdf` });
  document.body.append(link); link.click(); link.remove();
}
