// 職員: staff accounts (admins only; the API answers 403 to anyone else). The page is built
// here when an admin opens it and emptied on sign-out, so an operator's screen never holds
// it. Loaded after console.js, whose helpers ($, el, api, guard, say, state) it uses;
// console.js opens the page (show).
"use strict";
const ROLE_JA = { operator: "受付", admin: "管理者", channel: "アプリ連携" };

function staffSkeleton() {
  const roles = el("select", { id: "st-role", required: "" }, ...Object.entries(ROLE_JA).map(([v, t]) => el("option", { value: v }, t)));
  const form = el("form", { id: "st-form", class: "row", onsubmit: guard(addStaff) },
    el("label", {}, "ユーザー名(半角の英小文字・数字)", el("input", { id: "st-username", required: "", pattern: "[a-z0-9][a-z0-9._\\-]{2,31}",
      placeholder: "tanaka.h", autocomplete: "off" })),
    el("label", {}, "名前(画面と記録に出ます)", el("input", { id: "st-display", required: "", maxlength: "40" })),
    el("label", {}, "役割", roles),
    el("label", {}, "はじめのパスワード(10文字以上)", el("input", { id: "st-password", type: "password", required: "", minlength: "10",
      maxlength: "128", autocomplete: "new-password" })),
    el("button", { class: "primary", type: "submit" }, "アカウントを作る"));
  $("staff").replaceChildren(
    el("h2", {}, "職員のアカウント"),
    el("table", { id: "st-table" },
      el("thead", {}, el("tr", {}, ...["ユーザー名", "名前", "役割", "使用", "止める・使えるようにする", "新しいパスワード", "役割・名前を変える"].map((h) => el("th", {}, h)))),
      el("tbody")),
    el("details", { id: "st-add", class: "card" }, el("summary", {}, "新しいアカウントを作る"), form),
    el("p", { class: "note" }, "止めたアカウントや、パスワード・役割を変えたアカウントは、すぐにログアウトされます。ご自分のアカウントは止められず、役割も変えられません(ほかの管理者に頼んでください)。名前は変えられます。"));
}

async function staffPage() {
  if (!$("st-table")) staffSkeleton();
  const accounts = await api("GET", "/v1/operator/staff");
  $("st-table").tBodies[0].replaceChildren(...accounts.map(staffRow));
}

function staffRow(a) {
  const me = a.username === state.username;
  const toggle = me ? el("span", {}, "ご自分") : a.active
    ? el("button", { class: "small danger", onclick: guard(() => setActive(a, false)) }, "止める")
    : el("button", { class: "small", onclick: guard(() => setActive(a, true)) }, "使えるようにする");
  const pw = el("input", { type: "password", required: "", maxlength: "128", autocomplete: "new-password", // too short: said below
    "aria-label": `${a.display_name}さんの新しいパスワード` });
  const set = el("form", { class: "inline-form", onsubmit: guard((ev) => setPassword(ev, a, pw.value)) }, pw,
    el("button", { class: "small", type: "submit" }, "変える"));
  return el("tr", { "data-username": a.username, class: a.active ? "" : "off" },
    el("td", {}, a.username), el("td", {}, a.display_name), el("td", {}, ROLE_JA[a.role] || a.role),
    el("td", {}, a.active ? "使用中" : "停止中"), el("td", {}, toggle), el("td", {}, set), el("td", { class: "edit" }, roleForm(a, me), nameForm(a)));
}

// One's own role is another admin's to change (the service answers 409 own_account anyway).
function roleForm(a, me) {
  if (me) return el("span", { class: "note" }, "ご自分の役割は、ほかの管理者が変えます。");
  const pick = el("select", { "aria-label": `${a.display_name}さんの新しい役` }, ...Object.entries(ROLE_JA).map(([v, t]) => el("option", { value: v }, t)));
  pick.value = a.role;
  return el("form", { class: "inline-form", onsubmit: guard((ev) => setRole(ev, a, pick.value)) }, pick,
    el("button", { class: "small", type: "submit" }, "役割を変更"));
}

function nameForm(a) {
  const name = el("input", { required: "", maxlength: "40", "aria-label": `${a.username} の表示名` });
  name.value = a.display_name;
  return el("form", { class: "inline-form", onsubmit: guard((ev) => setName(ev, a, name.value)) }, name,
    el("button", { class: "small", type: "submit" }, "名前を変更"));
}

async function setRole(ev, a, role) {
  ev.preventDefault();
  if (role === a.role) throw new Error(`${a.display_name}さんは、もう「${ROLE_JA[role]}」です。`);
  if (!window.confirm(`${a.display_name}さん(${a.username})の役割を「${ROLE_JA[a.role]}」から「${ROLE_JA[role]}」にします。すぐにログアウトされます。よろしいですか?`)) return;
  const r = await api("PATCH", `/v1/operator/staff/${encodeURIComponent(a.id)}`, { role });
  say(`${r.display_name}さんの役割を「${ROLE_JA[r.role] || r.role}」にしました(ログインし直してもらってください)。`);
  await staffPage();
}

async function setName(ev, a, name) {
  ev.preventDefault();
  const display_name = name.trim();
  if (!display_name) throw new Error("名前を入れてください。");
  if (display_name === a.display_name) throw new Error("名前が変わっていません。");
  const r = await api("PATCH", `/v1/operator/staff/${encodeURIComponent(a.id)}`, { display_name });
  say(`${a.username} の名前を「${r.display_name}」にしました(画面と記録に出ます)。`);
  await staffPage();
}

async function addStaff(ev) {
  ev.preventDefault();
  const body = { username: $("st-username").value.trim(), display_name: $("st-display").value.trim(),
    role: $("st-role").value, password: $("st-password").value };
  if (body.password.length < 10) throw new Error("パスワードは10文字以上にしてください。");
  const a = await api("POST", "/v1/operator/staff", body);
  $("st-form").reset();
  $("st-add").open = false;
  say(`${a.display_name}さんのアカウント(${a.username}、${ROLE_JA[a.role]})を作りました。`);
  await staffPage();
}

async function setActive(a, active) {
  if (!active && !window.confirm(`${a.display_name}さん(${a.username})のアカウントを止めます。すぐにログアウトされます。よろしいですか?`)) return;
  await api("PATCH", `/v1/operator/staff/${encodeURIComponent(a.id)}`, { active });
  say(active ? `${a.display_name}さんのアカウントを使えるようにしました。` : `${a.display_name}さんのアカウントを止めました。`);
  await staffPage();
}

async function setPassword(ev, a, password) {
  ev.preventDefault();
  if (password.length < 10) throw new Error("パスワードは10文字以上にしてください。");
  await api("PATCH", `/v1/operator/staff/${encodeURIComponent(a.id)}`, { password });
  say(`${a.display_name}さんのパスワードを変えました。新しいパスワードをお伝えください(前のログインは終わりました)。`);
  await staffPage();
}
