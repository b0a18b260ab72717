// The residents' guide: no login, nothing from the internet; the data from /v1/guide.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { guide: null, roads: null, found: null, query: "" };

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// What is typed goes to the server's search, the one LINE uses (kana or kanji, any width,
// misspelt): the points it answers, in the order it answers them.
async function search() {
  const q = $("q").value.trim();
  state.query = q;
  const found = q ? await fetch(`/v1/guide/meeting-points?q=${encodeURIComponent(q)}`).then((r) => (r.ok ? r.json() : [])) : null;
  if (state.query === q) state.found = found; // an answer to an older query is dropped
}

function shown() {
  const d = $("district").value, rank = state.found && new Map(state.found.map((id, i) => [id, i]));
  return state.guide.districts.filter((x) => !d || x.name === d).map((x) => ({
    name: x.name,
    points: x.points.filter((p) => !rank || rank.has(p.id)).sort((a, b) => (rank ? rank.get(a.id) - rank.get(b.id) : 0)),
  })).filter((x) => x.points.length);
}

let timer = null;
function typed() {
  clearTimeout(timer);
  timer = setTimeout(async () => { await search(); render(); }, 200);
}

function render() {
  const groups = shown();
  $("list").replaceChildren(...groups.map((g) => el("div", { class: "district" }, el("h3", {}, g.name),
    el("ul", {}, ...g.points.map((p) => el("li", {}, `${p.name}`,
      p.kana ? el("span", { class: "kana" }, p.kana) : "", p.closed_note ? el("span", { class: "closed" }, `いまは使えません(${p.closed_note})`) : ""))))));
  draw(groups.flatMap((g) => g.points));
}

function draw(points) {
  const c = $("map"), g = c.getContext("2d");
  g.fillStyle = "#f2f2ec"; g.fillRect(0, 0, c.width, c.height);
  if (!state.roads) return;
  let [s, w, n, e] = state.roads.bbox;
  if (points.length && points.length < state.guide.districts.flatMap((d) => d.points).length) {
    s = Math.min(...points.map((p) => p.lat)); n = Math.max(...points.map((p) => p.lat));
    w = Math.min(...points.map((p) => p.lon)); e = Math.max(...points.map((p) => p.lon));
    const pad = Math.max(n - s, e - w, 0.005) * 0.2; s -= pad; n += pad; w -= pad; e += pad;
  }
  const k = Math.cos(((s + n) / 2) * Math.PI / 180);
  const scale = Math.min(c.width / ((e - w) * k), c.height / (n - s));
  const x = (lon) => (lon - w) * k * scale + (c.width - (e - w) * k * scale) / 2;
  const y = (lat) => (n - lat) * scale + (c.height - (n - s) * scale) / 2;
  g.strokeStyle = "#c4c4bb"; g.lineWidth = 1.2;
  for (const line of state.roads.lines) {
    g.beginPath();
    for (let i = 0; i < line.length; i += 2) (i ? g.lineTo : g.moveTo).call(g, x(line[i + 1]), y(line[i]));
    g.stroke();
  }
  for (const p of points) {
    g.fillStyle = p.closed_note ? "#b00020" : "#0b5cad";
    g.beginPath(); g.arc(x(p.lon), y(p.lat), 6, 0, 7); g.fill();
  }
  if (points.length <= 12) { // few enough to name on the map
    g.fillStyle = "#111"; g.font = "20px sans-serif";
    for (const p of points) g.fillText(p.short_name || p.name, x(p.lon) + 9, y(p.lat) + 6);
  }
}

(async function boot() {
  const [guide, roads] = await Promise.all([fetch("/v1/guide").then((r) => r.json()), fetch("/v1/guide/roads").then((r) => r.json())]);
  state.guide = guide; state.roads = roads;
  document.title = `${guide.service} ご利用案内`;
  $("title").textContent = `${guide.service} ご利用案内`;
  $("hours").tBodies[0].replaceChildren(...guide.hours.map((h) => el("tr", {}, el("td", {}, h.days), el("td", {}, `${h.opens}〜${h.closes}`))));
  $("closed").textContent = guide.closed_days.length ? `お休み: ${guide.closed_days.join("、")}` : "";
  $("fares").tBodies[0].replaceChildren(...guide.fares.map((f) => el("tr", {}, el("td", {}, f.who), el("td", {}, f.yen ? `${f.yen}円` : "無料"))));
  $("phone").textContent = guide.phone;
  $("rules").textContent = `予約は${guide.book_ahead_days}日先まで、取り消しはお迎えの${guide.cancel_before_min}分前まで(それより後はお電話で)。`;
  $("credit").textContent = guide.attribution;
  $("district").append(...guide.districts.map((d) => el("option", { value: d.name }, d.name)));
  $("q").addEventListener("input", typed);
  $("district").addEventListener("change", render);
  render();
})();
