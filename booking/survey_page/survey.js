// The residents' answer page: a question at a time, with the resident's own token (kept in
// this tab only). Nothing from the internet; the data from /v1/town/surveys.
"use strict";
const $ = (id) => document.getElementById(id);
const API = "/v1/town/surveys";
const state = { token: sessionStorage.getItem("survey-token") || "", survey: null, index: 0 };

function show(id) {
  for (const s of ["signin", "list", "question", "done"]) $(s).hidden = s !== id;
}

function say(text) { $("status").textContent = text || ""; }

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (r.status === 401) { signOut(); throw new Error("もう一度、ご本人の確認をしてください。"); }
  if (!r.ok) throw new Error((data.error && data.error.message_ja) || "うまく送れませんでした。もう一度お試しください。");
  return data;
}

function signOut() {
  state.token = "";
  sessionStorage.removeItem("survey-token");
  show("signin");
}

async function signIn(ev) {
  ev.preventDefault();
  say("確認しています…");
  const r = await fetch("/v1/auth/resident", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phone: $("phone").value, code: $("code").value }),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { say((data.error && data.error.message_ja) || "確認できませんでした。"); return; }
  state.token = data.access_token;
  sessionStorage.setItem("survey-token", state.token);
  say("");
  await start();
}

async function start() {
  if (!state.token) { show("signin"); return; }
  const wanted = new URLSearchParams(location.search).get("s");
  try {
    const mine = await call("GET", `${API}/mine`);
    const open = mine.find((s) => s.id === wanted);
    if (open) { begin(open); return; }
    list(mine);
  } catch (e) { say(e.message); }
}

function list(mine) {
  show("list");
  const box = $("surveys");
  if (!mine.length) { box.replaceChildren(el("p", {}, "いまお答えいただくアンケートはありません。")); return; }
  box.replaceChildren(...mine.map((s) => {
    const b = el("button", { type: "button", class: "primary" }, s.completed ? "答えを見る" : "答える");
    b.addEventListener("click", () => begin(s));
    return el("div", { class: "survey" }, el("h3", {}, s.title), el("p", {}, s.intro || ""),
      el("p", { class: "small" }, `質問は${s.questions.length}問です。` + (s.completed ? "お答えいただきました。" : "")), b);
  }));
}

function begin(s) {
  state.survey = s;
  if (s.completed) { finished(); return; }
  const next = s.questions.findIndex((q) => q.id === s.next_question);
  state.index = next < 0 ? s.questions.length - 1 : next;
  ask();
}

function ask() {
  const s = state.survey, q = s.questions[state.index], given = s.answers[q.id];
  show("question");
  say("");
  $("q-title").textContent = s.title;
  $("q-count").textContent = `質問 ${state.index + 1} / ${s.questions.length}` + (q.required ? "" : "(答えなくてもかまいません)");
  $("q-text").textContent = q.text;
  $("q-error").textContent = "";
  $("q-back").hidden = state.index === 0;
  $("q-next").textContent = state.index === s.questions.length - 1 ? "この内容で送る" : "次へ";
  const box = $("q-input");
  if (q.kind === "text") {
    $("q-hint").textContent = "答えを書いてください(500文字まで)。";
    const t = el("textarea", { id: "answer", maxlength: "500", "aria-label": q.text });
    t.value = typeof given === "string" ? given : "";
    box.replaceChildren(t);
    return;
  }
  let options;
  if (q.kind === "scale") {
    $("q-hint").textContent = `${q.min}から${q.max}のうち、あてはまる数を選んでください。`;
    options = [];
    for (let n = q.min; n <= q.max; n++) options.push([String(n), n === given]);
  } else {
    $("q-hint").textContent = q.kind === "single" ? "一つ選んでください。" : "あてはまるものを、いくつでも選んでください。";
    options = q.choices.map((c) => [c, q.kind === "single" ? c === given : Array.isArray(given) && given.includes(c)]);
  }
  const type = q.kind === "multiple" ? "checkbox" : "radio";
  box.replaceChildren(...options.map(([value, on]) => {
    const input = el("input", { type, name: "answer", value });
    input.checked = on;
    return el("label", { class: "choice" }, input, value);
  }));
}

function value(q) {
  if (q.kind === "text") return $("answer").value.trim() || null;
  const picked = [...document.querySelectorAll('input[name="answer"]:checked')].map((i) => i.value);
  if (q.kind === "multiple") return picked.length ? picked : null;
  if (!picked.length) return null;
  return q.kind === "scale" ? Number(picked[0]) : picked[0];
}

async function next(ev) {
  ev.preventDefault();
  const s = state.survey, q = s.questions[state.index], v = value(q);
  if (v === null && q.required) { $("q-error").textContent = "この質問には答えが必要です。選ぶか書いてください。"; return; }
  try {
    const p = await call("PUT", `${API}/${s.id}/answers/${encodeURIComponent(q.id)}`, { value: v });
    state.survey = p;
    if (state.index < s.questions.length - 1) { state.index += 1; ask(); return; }
    state.survey = await call("POST", `${API}/${s.id}/complete`);
    finished();
  } catch (e) { $("q-error").textContent = e.message; }
}

function finished() {
  show("done");
  $("done-text").textContent = `アンケート「${state.survey.title}」にお答えいただき、ありがとうございました。`;
}

async function guidePhone() {
  const g = await fetch("/v1/guide").then((r) => (r.ok ? r.json() : null)).catch(() => null);
  if (!g) return;
  $("phone-link").textContent = g.phone;
  $("phone-link").setAttribute("href", `tel:${g.phone.replace(/[^0-9]/g, "")}`);
}

$("signin-form").addEventListener("submit", signIn);
$("q-form").addEventListener("submit", next);
$("q-back").addEventListener("click", () => { if (state.index > 0) { state.index -= 1; ask(); } });
$("q-later").addEventListener("click", () => { say("ここまでの答えを預かりました。続きは、またこのページから答えられます。"); start(); });
$("to-list").addEventListener("click", start);
guidePhone();
start();
