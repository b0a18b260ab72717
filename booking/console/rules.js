// 設定: the service's rules (the pickup window, the slack kept inside it, holds, ride limits…)
// in force beside what the area's file says. Operators read them; admins change them: only the
// changed rules are sent, the service checks them together (a refused change changes nothing)
// and they apply to the bookings made from then on. Loaded after console.js, whose helpers
// ($, el, api, guard, say, state) it uses; console.js opens the page (show).
"use strict";

// 600 → "600 秒(10分)", 90 → "90 秒(1分30秒)"; percent and factors as such.
function ruleText(key, v) {
  if (v === null || v === undefined) return "—";
  if (key.endsWith("_pct")) return `${v}%`;
  if (key === "ride_alpha") return `${v}倍`;
  if (!key.endsWith("_s")) return String(v);
  if (v < 60) return `${v} 秒`;
  const m = Math.floor(v / 60), s = Math.round(v % 60);
  return `${v} 秒(${m}分${s ? `${s}秒` : ""})`;
}

async function rulesPage() {
  const d = await api("GET", "/v1/operator/service-rules");
  rulesTable(d.rules);
}

// The table; for admins an input per rule and 保存 (built for admins only, emptied on sign-out).
function rulesTable(rules, bad = "") {
  state.rules = rules;
  const head = ["項目", "今の値", "設定ファイルの値", ...(state.admin ? ["新しい値"] : [])];
  $("ru-table").tHead.replaceChildren(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  $("ru-table").tBodies[0].replaceChildren(...rules.map((r) => {
    const row = el("tr", { "data-key": r.key, class: [r.value !== r.file_value ? "changed" : "", r.key === bad ? "bad" : ""].join(" ").trim() },
      el("td", {}, r.label_ja), el("td", { class: "now" }, ruleText(r.key, r.value)), el("td", { class: "file" }, ruleText(r.key, r.file_value)));
    if (state.admin) {
      const input = el("input", { type: "number", step: "any", "data-key": r.key, "aria-label": `${r.label_ja}の新しい値` });
      input.value = String(r.value);
      row.append(el("td", {}, input));
    }
    return row;
  }));
  $("ru-actions").replaceChildren(...(state.admin ? [el("button", { id: "ru-save", class: "primary", type: "submit" }, "保存"),
    el("span", { class: "note" }, " 変えた項目だけを送ります。今のご予約のお約束はそのままです。")] : []));
  $("ru-note").textContent = state.admin ? "値を変えて「保存」を押してください。色のついた行は、設定ファイルと違う値です。"
    : "設定を見るだけの画面です(変えられるのは管理者です)。色のついた行は、設定ファイルと違う値です。";
}

async function saveRules(ev) {
  ev.preventDefault();
  if (!state.admin) return;
  const body = {};
  for (const input of $("ru-table").querySelectorAll("input[data-key]")) {
    const rule = state.rules.find((r) => r.key === input.dataset.key);
    const text = input.value.trim();
    if (!text || !Number.isFinite(Number(text))) throw new Error(`「${rule.label_ja}」には数を入れてください。`);
    if (Number(text) !== rule.value) body[rule.key] = Number(text);
  }
  if (!Object.keys(body).length) throw new Error("変えた項目がありません。");
  let d;
  try {
    d = await api("PATCH", "/v1/operator/service-rules", body);
  } catch (e) { // mark the rule the service named; what was typed stays to be corrected
    const field = e.details && e.details.field;
    for (const row of $("ru-table").tBodies[0].rows) row.classList.toggle("bad", row.dataset.key === field);
    const rule = state.rules.find((r) => r.key === field);
    if (rule) e.message = `「${rule.label_ja}」: ${e.message}`;
    throw e;
  }
  rulesTable(d.rules);
  say("設定を変えました。これからの予約に使います(今の予約はそのまま)");
}

$("ru-form").addEventListener("submit", guard(saveRules));
