// 乗降ポイント: the meeting points on our own roads (the fleet map's drawing, drawRoads), a
// table to search by name, reading, 大字 or number (the server's search, the one LINE uses); admins rename them, set the reading, close them
// for a time (road works: the rides to call are listed), open them again and add new ones by
// clicking the map. Loaded after console.js, whose helpers ($, el, api, guard, say, state,
// drawRoads, loadPointNames, day, hhmm, OFFSET) it uses; console.js opens the page (show).
"use strict";
const KIND_JA = {
  town_hall: "役場・公共施設", public: "公共施設", hospital: "病院・診療所", school: "学校",
  kindergarten: "保育所・幼稚園", post_office: "郵便局", shop: "お店", station: "駅・バス",
  coverage: "地域の乗降ポイント", manual: "追加した乗降ポイント",
};
const POINT_COLOURS = { open: "#0b5cad", closed: "#b00020", chosen: "#ff8c00", fresh: "#1b7f3a" };
const pts = { all: [], found: null, query: "", chosen: null, fresh: null, proj: null };

// A datetime-local value and back, in the town's time (+09:00).
const localValue = (iso) => new Intl.DateTimeFormat("sv-SE", { timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit" }).format(new Date(iso)).replace(" ", "T");
const closure = (p) => (p.closed_from ? `${day(p.closed_from)} ${hhmm(p.closed_from)} 〜 ${day(p.closed_to)} ${hhmm(p.closed_to)}` : "");
const md = (iso) => fmt(iso, { month: "numeric", day: "numeric" });
const closureShort = (p) => `${md(p.closed_from)} ${hhmm(p.closed_from)}〜${md(p.closed_to) === md(p.closed_from) ? "" : md(p.closed_to) + " "}${hhmm(p.closed_to)}`;

async function pointsPage() {
  pts.all = await api("GET", "/v1/operator/meeting-points");
  await searchPoints();
  if (pts.chosen) pts.chosen = pts.all.find((p) => p.id === pts.chosen.id) || null;
  pointRows();
  if (pts.chosen) showRow(pts.chosen.id);
  await drawPoints();
  chosenCard();
}

// The chosen row in the middle of the table's own scroll (the page itself stays put).
function showRow(id) {
  const row = [...$("pt-table").tBodies[0].rows].find((r) => r.dataset.id === id);
  if (!row) return;
  const box = row.closest(".scroll");
  box.scrollTop = Math.max(0, row.offsetTop - box.clientHeight / 2);
}

// What is typed goes to the server's search (kana or kanji, any width, misspelt): the rows it
// answers, best first; nothing typed: every point.
async function searchPoints() {
  const q = $("pt-q").value.trim();
  pts.query = q;
  const found = q ? await api("GET", `/v1/operator/meeting-points?q=${encodeURIComponent(q)}`) : null;
  if (pts.query === q) pts.found = found; // an answer to an older query is dropped
}

let searchTimer = null;
function typed() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(guard(async () => { await searchPoints(); pointRows(); }), 200);
}

const reading = (p) => (p.kana ? `${p.kana}${p.kana_source === "machine" ? "(機械の読み・未確認)" : ""}` : "");

function pointRows() {
  const shown = pts.found || pts.all;
  $("pt-count").textContent = `${shown.length}か所(全部で ${pts.all.length}か所)`;
  $("pt-table").tBodies[0].replaceChildren(...shown.map((p) => {
    const row = el("tr", { "data-id": p.id, class: [p.closed_from ? "closed" : "", pts.chosen && pts.chosen.id === p.id ? "chosen" : ""].join(" ").trim(),
      tabindex: "0", onclick: guard(() => choosePoint(p)), onkeydown: guard(async (ev) => { if (ev.key === "Enter") await choosePoint(p); }) },
      el("td", {}, p.id), el("td", {}, p.name), el("td", {}, p.short_name), el("td", {}, reading(p)),
      el("td", {}, p.closed_from ? `${closureShort(p)} ${p.closed_note}` : ""));
    return row;
  }));
}

async function drawPoints() {
  const canvas = $("pt-map");
  const { g, xy, latlon } = await drawRoads(canvas);
  pts.proj = { xy, latlon };
  for (const p of [...pts.all.filter((q) => !q.closed_from), ...pts.all.filter((q) => q.closed_from)]) { // closed on top
    const [x, y] = xy(p.lat, p.lon);
    g.beginPath(); g.arc(x, y, p.closed_from ? 6 : 4, 0, 2 * Math.PI);
    g.fillStyle = p.closed_from ? POINT_COLOURS.closed : POINT_COLOURS.open; g.fill();
    if (p.closed_from) { g.lineWidth = 1.5; g.strokeStyle = "#222"; g.stroke(); }
  }
  if (pts.fresh) {
    const [x, y] = xy(pts.fresh[0], pts.fresh[1]);
    g.strokeStyle = POINT_COLOURS.fresh; g.lineWidth = 4;
    g.beginPath(); g.moveTo(x - 12, y); g.lineTo(x + 12, y); g.moveTo(x, y - 12); g.lineTo(x, y + 12); g.stroke();
  }
  if (pts.chosen) {
    const p = pts.chosen, [x, y] = xy(p.lat, p.lon);
    g.beginPath(); g.arc(x, y, 14, 0, 2 * Math.PI); g.lineWidth = 5; g.strokeStyle = POINT_COLOURS.chosen; g.stroke();
    g.font = "bold 20px sans-serif"; g.lineWidth = 5; g.strokeStyle = "#fff";
    const left = x > canvas.width - 320; // the name inside the canvas
    g.textAlign = left ? "right" : "left";
    g.strokeText(p.name, left ? x - 20 : x + 20, y + 7); g.fillStyle = "#111"; g.fillText(p.name, left ? x - 20 : x + 20, y + 7);
    g.textAlign = "left";
  }
}

async function choosePoint(p, fromMap = false) {
  pts.chosen = p;
  $("pt-affected").hidden = true;
  for (const row of $("pt-table").tBodies[0].rows) row.classList.toggle("chosen", row.dataset.id === p.id);
  if (fromMap) showRow(p.id);
  chosenCard();
  await drawPoints();
}

// The chosen point: what it is; for admins, its name and reading, a closure, opening again.
function chosenCard() {
  const box = $("pt-chosen"), p = pts.chosen;
  box.hidden = !p;
  if (!p) return;
  box.replaceChildren(
    el("h3", {}, `${p.name}(${p.id})`),
    el("p", {}, `ボタンの名前: ${p.short_name}`),
    el("p", { id: "pt-reading" }, `よみ: ${reading(p) || "(未設定)"}・${KIND_JA[p.kind] || p.kind}`),
    el("p", { id: "pt-state", class: p.closed_from ? "closed-note" : "" }, p.closed_from ? `閉じる期間: ${closure(p)}${p.closed_note ? `(${p.closed_note})` : ""}` : "使えます(閉じる予定はありません)"));
  if (!state.admin) return;
  const name = el("input", { id: "pt-name", required: "", maxlength: "40" }), kana = el("input", { id: "pt-kana", maxlength: "80" });
  const short = el("input", { id: "pt-short", required: "", maxlength: "16" });
  name.value = p.name; kana.value = p.kana || ""; short.value = p.short_name;
  box.append(el("form", { id: "pt-rename", class: "row", onsubmit: guard((ev) => renamePoint(ev, p, name.value, short.value, kana.value)) },
    el("label", {}, "名前", name), el("label", {}, "ボタンの名前(16文字まで)", short), el("label", {}, "よみ", kana),
    el("button", { class: "primary", type: "submit" }, "名前・よみを変える")));
  if (p.kana && p.kana_source === "machine") {
    box.append(el("button", { id: "pt-confirm", class: "primary", onclick: guard(() => confirmReading(p)) }, "このよみで正しい(確認済みにする)"));
  }
  const since = el("input", { id: "pt-from", type: "datetime-local", required: "" }), until = el("input", { id: "pt-to", type: "datetime-local", required: "" });
  const note = el("input", { id: "pt-note", maxlength: "80", placeholder: "道路工事" });
  if (p.closed_from) { since.value = localValue(p.closed_from); until.value = localValue(p.closed_to); note.value = p.closed_note; }
  box.append(el("form", { id: "pt-close", class: "row", onsubmit: guard((ev) => closePoint(ev, p, since.value, until.value, note.value)) },
    el("label", {}, "閉じ始め", since), el("label", {}, "閉じ終わり", until), el("label", {}, "理由(お客様に伝えます)", note),
    el("button", { class: "danger", type: "submit" }, "この期間は閉じる")));
  if (p.closed_from) box.append(el("button", { id: "pt-reopen", class: "primary", onclick: guard(() => reopenPoint(p)) }, "使えるように戻す"));
}

async function changed(p, body) {
  const r = await api("PATCH", `/v1/operator/meeting-points/${encodeURIComponent(p.id)}`, body);
  pts.chosen = r.point;
  await pointsPage();
  await loadPointNames(); // the desk offers the new names at once
  return r;
}

async function renamePoint(ev, p, name, short, kana) {
  ev.preventDefault();
  const body = { name: name.trim() };
  if (short.trim() && short.trim() !== p.short_name) body.short_name = short.trim();
  // a reading typed is staff's; left as it was, a new name is read again by machine
  if (kana.trim() && kana.trim() !== (p.kana || "")) body.kana = kana.trim();
  const r = await changed(p, body);
  say(`${p.id} を「${r.point.name}」(${reading(r.point) || "よみなし"})にしました。`);
}

async function confirmReading(p) {
  const r = await changed(p, { kana: p.kana });
  say(`「${r.point.name}」のよみ ${r.point.kana} を確認済みにしました。`);
}

async function closePoint(ev, p, since, until, note) {
  ev.preventDefault();
  const r = await changed(p, { closed_from: since + ":00" + OFFSET, closed_to: until + ":00" + OFFSET, closed_note: note.trim() });
  say(`「${r.point.name}」を ${closure(r.point)} は閉じます。この間は予約を受けません。`);
  const box = $("pt-affected");
  box.hidden = false;
  box.replaceChildren(el("h3", {}, `お電話でお知らせするご予約: ${r.affected.length}件`),
    r.affected.length ? el("ul", { id: "pt-calls", class: "trips" }, ...r.affected.map((a) => el("li", {},
      `${a.rider_name}(☎ ${a.rider_phone}) ${day(a.pickup_from)} ${hhmm(a.pickup_from)} のお迎え・予約番号 ${a.reservation_number}`)))
      : el("p", {}, "この期間に、このポイントで乗り降りするご予約はありません。"));
  box.scrollIntoView({ block: "nearest" });
}

async function reopenPoint(p) {
  const r = await changed(p, { reopen: true });
  say(`「${r.point.name}」をまた使えるようにしました。`);
}

// Admins: a click on the map (the add form open) gives the new point's place; otherwise it
// chooses the nearest point.
function mapClick(ev) {
  if (!pts.proj) return;
  const canvas = $("pt-map"), box = canvas.getBoundingClientRect();
  const x = ((ev.clientX - box.left) * canvas.width) / box.width, y = ((ev.clientY - box.top) * canvas.height) / box.height;
  if (state.admin && $("pt-add").open) {
    const [lat, lon] = pts.proj.latlon(x, y);
    pts.fresh = [lat, lon];
    $("pt-new-lat").value = lat.toFixed(6);
    $("pt-new-lon").value = lon.toFixed(6);
    $("pt-new-name").focus();
    return drawPoints();
  }
  let best = null, bestD = 15 * 15;
  for (const p of pts.all) {
    const [px, py] = pts.proj.xy(p.lat, p.lon), d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) { best = p; bestD = d; }
  }
  if (best) return choosePoint(best, true);
}

async function addPoint(ev) {
  ev.preventDefault();
  const body = { name: $("pt-new-name").value.trim(), lat: Number($("pt-new-lat").value), lon: Number($("pt-new-lon").value) };
  if ($("pt-new-kana").value.trim()) body.kana = $("pt-new-kana").value.trim();
  if ($("pt-new-short").value.trim()) body.short_name = $("pt-new-short").value.trim();
  const p = await api("POST", "/v1/operator/meeting-points", body);
  say(`乗降ポイント「${p.name}」(${p.id})を作りました。もう予約に使えます。`);
  $("pt-add-form").reset();
  $("pt-add").open = false;
  pts.fresh = null;
  $("pt-q").value = "";
  pts.chosen = p;
  await pointsPage(); // the new point chosen, its row shown
  await loadPointNames();
}

$("pt-q").addEventListener("input", typed);
$("pt-map").addEventListener("click", guard(mapClick));
$("pt-add-form").addEventListener("submit", guard(addPoint));
$("pt-add").addEventListener("toggle", guard(async () => { if (!$("pt-add").open && pts.fresh) { pts.fresh = null; await drawPoints(); } }));
