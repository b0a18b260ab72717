// `drt demo`'s LINE page (demo_page.html): the resident's phone, talking to the LINE stand-in.
// The demo users and places are in the page as JSON data blocks (no inline script: CSP).
const USERS = JSON.parse(document.getElementById("demo-users").textContent);
const PLACES = JSON.parse(document.getElementById("demo-places").textContent);
const API = "/line-standin";
let user = USERS[0].id, since = 0, lastBot = null, polling = false;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.onclick = v; else if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

async function send(action) {
  await fetch("/line/demo/send", {method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({user_id: user, ...action})});
  await poll();
}

function act(action) {
  const extra = document.getElementById("extra");
  extra.style.display = "none"; extra.innerHTML = "";
  if (action.type === "postback") return send({kind: "postback", data: action.data, display: action.displayText || null});
  if (action.type === "message") return send({kind: "text", text: action.text});
  if (action.type === "uri") { extra.style.display = "block"; extra.append(el("p", {}, "電話: " + action.uri.replace("tel:", ""))); return; }
  if (action.type === "location") {
    extra.style.display = "block";
    extra.append(el("p", {}, "どこの位置情報を送りますか(デモ用の場所です)"));
    for (const p of PLACES) extra.append(el("button", {onclick: () => { extra.style.display = "none"; send({kind: "location", lat: p.lat, lon: p.lon, title: p.title}); }}, p.title));
    return;
  }
  if (action.type === "datetimepicker") {
    extra.style.display = "block";
    const input = el("input", {type: "datetime-local", value: action.initial || "", min: action.min || "", max: action.max || ""});
    extra.append(el("p", {}, action.label), input,
      el("button", {class: "primary", onclick: () => { extra.style.display = "none";
        send({kind: "postback", data: action.data, params: {datetime: input.value}, display: input.value.replace("T", " ")}); }}, "この日時にする"));
  }
}

function flexNode(node, into) {
  if (!node) return;
  if (node.type === "box") { for (const c of node.contents || []) flexNode(c, into); return; }
  if (node.type === "text") {
    into.append(el("div", {class: node.weight === "bold" ? "big" : (node.color === "#555555" ? "key" : "")}, node.text));
    return;
  }
  if (node.type === "button") into.append(el("button", {class: node.style === "primary" ? "primary" : "", onclick: () => act(node.action)}, node.action.label));
}

function card(bubble) {
  const c = el("div", {class: "card"});
  if (bubble.header) { const h = el("div", {class: "title"}); flexNode(bubble.header, h); c.append(h); }
  flexNode(bubble.body, c); flexNode(bubble.footer, c);
  return c;
}

function render(entry) {
  const chat = document.getElementById("chat");
  for (const m of entry.messages) {
    const row = el("div", {class: "row " + (entry.from === "user" ? "user" : "bot")});
    let content;
    if (m.type === "text") content = el("div", {class: "bubble"}, m.text);
    else if (m.type === "flex") {
      const bubbles = m.contents.type === "carousel" ? m.contents.contents : [m.contents];
      content = el("div", {class: "cards"}, ...bubbles.map(card));
    } else if (m.type === "location") content = el("div", {class: "bubble"}, "位置情報: " + (m.title || (m.latitude + ", " + m.longitude)));
    else if (m.type === "follow") content = el("div", {class: "bubble"}, "(友だち追加しました)");
    else content = el("div", {class: "bubble"}, "(" + m.type + ")");
    if (entry.from === "bot") row.append(content, el("span", {class: "via"}, entry.via === "push" ? "お知らせ" : ""));
    else row.append(content);
    chat.append(row);
    if (entry.from === "bot") lastBot = m;
  }
  chat.scrollTop = chat.scrollHeight;
}

function renderChoices() {
  const box = document.getElementById("choices");
  box.innerHTML = "";
  const items = lastBot && lastBot.quickReply ? lastBot.quickReply.items : [];
  for (const it of items) box.append(el("button", {onclick: () => act(it.action)}, it.action.label));
}

async function poll() {
  if (polling) return;
  polling = true;
  try {
    const r = await fetch(`${API}/_standin/log?user_id=${encodeURIComponent(user)}&since=${since}`);
    const entries = await r.json();
    for (const e of entries) { render(e); since = Math.max(since, e.seq); }
    if (entries.length) renderChoices();
  } finally { polling = false; }
}

async function loadMenu() {
  const r = await fetch(`${API}/_standin/richmenu`);
  const menu = await r.json();
  const box = document.getElementById("menu");
  box.innerHTML = "";
  for (const a of menu.areas || []) box.append(el("button", {onclick: () => act(a.action)}, a.action.label));
  if (!menu.areas) setTimeout(loadMenu, 1000);
}

function chooseUser(id) {
  user = id; since = 0; lastBot = null;
  document.getElementById("chat").innerHTML = "";
  document.getElementById("choices").innerHTML = "";
  document.getElementById("newcomer").style.display = USERS.find(u => u.id === id).linked ? "none" : "block";
  poll();
}

const users = document.getElementById("users");
USERS.forEach((u, i) => {
  const radio = el("input", {type: "radio", name: "user", value: u.id});
  radio.checked = i === 0;
  radio.onchange = () => chooseUser(u.id);
  users.append(el("label", {class: "user"}, radio, " " + u.name + (u.linked ? "さん(登録とつながっている方)" : "さん(はじめての方)")));
});
document.getElementById("send").onclick = () => {
  const t = document.getElementById("text");
  if (t.value.trim()) { send({kind: "text", text: t.value}); t.value = ""; }
};
document.getElementById("text").addEventListener("keydown", e => { if (e.key === "Enter") document.getElementById("send").click(); });
document.getElementById("follow").onclick = () => send({kind: "follow"});
document.getElementById("issue").onclick = async () => {
  const r = await fetch("/line/demo/link-code", {method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({phone: document.getElementById("codephone").value})});
  const j = await r.json();
  document.getElementById("code").textContent = j.code ? `確認コード: ${j.code}(24時間有効)` : j.error;
};
chooseUser(user);
loadMenu();
setInterval(poll, 1500);
