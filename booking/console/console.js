// The operators' console: phone bookings on the operators' REST API (nothing from the internet).
"use strict";
const TZ = "Asia/Tokyo", OFFSET = "+09:00"; // the town's time zone (no daylight saving time)
const state = { token: sessionStorage.getItem("drt.console.token") || "", username: sessionStorage.getItem("drt.console.user") || "",
  admin: false, caller: null, points: [], trips: [], breaks: [], rules: [] };
const $ = (id) => document.getElementById(id);

function say(text, error = false) {
  const m = $("message");
  m.textContent = text;
  m.className = "show" + (error ? " error" : "");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => (m.className = ""), 8000);
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(method, path, body, headers = {}) {
  const h = { ...headers };
  if (state.token) h.Authorization = "Bearer " + state.token;
  let payload;
  if (body instanceof URLSearchParams) payload = body;
  else if (body !== undefined) { h["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  const r = await fetch(path, { method, headers: h, body: payload });
  const data = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401) signOut();
    const err = (data && data.error) || {};
    const e = new Error(err.message_ja || `エラーが起きました (${r.status})`);
    e.status = r.status; e.code = err.code; e.details = err.details || {};
    throw e;
  }
  return data;
}

// A file the API makes (a CSV, a PDF), saved under the name the API gives it.
async function saveFile(path, fallback) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + state.token } });
  if (!r.ok) { const data = await r.json().catch(() => null); throw new Error((data && data.error && data.error.message_ja) || "保存できませんでした"); }
  const name = (/filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "") || [])[1] || fallback;
  const link = el("a", { href: URL.createObjectURL(await r.blob()), download: name });
  document.body.append(link); link.click(); link.remove();
}

const fmt = (iso, opts) => new Intl.DateTimeFormat("ja-JP", { timeZone: TZ, ...opts }).format(new Date(iso));
const hhmm = (iso) => fmt(iso, { hour: "2-digit", minute: "2-digit" });
const day = (iso) => fmt(iso, { month: "long", day: "numeric", weekday: "short" });
const STATUS = { confirmed: "予約中", onboard: "乗車中", completed: "乗車済み", cancelled: "取り消し", no_show: "来られず", held: "仮押さえ", expired: "期限切れ" };

function show(which) {
  $("signin").hidden = which !== "signin";
  $("desk").hidden = which !== "desk";
  $("board").hidden = which !== "board";
  $("fleet-map").hidden = which !== "fleet";
  $("audit").hidden = which !== "audit";
  $("reports").hidden = which !== "reports";
  $("points").hidden = which !== "points";
  $("staff").hidden = which !== "staff";
  $("town").hidden = which !== "town";
  $("to-town").classList.toggle("on", which === "town");
  $("rules").hidden = which !== "rules";
  $("to-rules").classList.toggle("on", which === "rules");
  $("to-points").classList.toggle("on", which === "points");
  $("to-staff").classList.toggle("on", which === "staff");
  $("to-audit").classList.toggle("on", which === "audit");
  $("to-reports").classList.toggle("on", which === "reports");
  $("to-fleet").classList.toggle("on", which === "fleet");
  clearInterval(state.fleetTimer);
  $("sign-out").hidden = which === "signin";
  $("nav").hidden = which === "signin";
  $("to-desk").classList.toggle("on", which === "desk");
  $("to-board").classList.toggle("on", which === "board");
}

function signOut() {
  state.token = "";
  sessionStorage.removeItem("drt.console.token");
  sessionStorage.removeItem("drt.console.user");
  setAdmin(false);
  $("staff").replaceChildren(); // staff.js builds it again for the next admin
  $("town").replaceChildren(); // town.js: tickets and notices, built again on the next sign-in
  $("c-town").replaceChildren();
  $("ru-table").tHead.replaceChildren(); // rules.js: the admins' inputs and 保存 too
  $("ru-table").tBodies[0].replaceChildren();
  $("ru-actions").replaceChildren();
  state.breaks = []; // the day's planned breaks (from the board)
  plannedBreaks();
  show("signin");
}

// Admin-only controls: shown to admins, hidden (and not built) for operators.
function setAdmin(admin) {
  state.admin = admin;
  $("to-staff").hidden = !admin;
  for (const e of document.querySelectorAll(".admin-only")) e.hidden = !admin;
}

// -- the caller ---------------------------------------------------------------------------
async function search(ev) {
  ev.preventDefault();
  const found = await api("GET", "/v1/operator/residents?q=" + encodeURIComponent($("q").value));
  const list = $("results");
  list.replaceChildren(...found.results.map((r) => el("li", {}, el("button", { onclick: guard(() => choose(r)) },
    `${r.name}(${r.kana})  ☎ ${r.phone}${r.closed_at ? "・退会済み" : ""}`))));
  if (!found.results.length) list.append(el("li", {}, "見つかりません。はじめての方は下から登録してください。"));
}

async function choose(r) {
  state.caller = r;
  $("results").replaceChildren();
  $("caller").hidden = false;
  $("trip-form").hidden = false;
  $("offers").hidden = true;
  $("script").hidden = true;
  $("c-name").textContent = r.name + " 様";
  $("c-kana").textContent = r.kana;
  $("c-phone").textContent = "☎ " + r.phone;
  const needs = [];
  if (r.wheelchair) needs.push("車いす(予約に車いすの席を取ります)");
  if (r.needs_help) needs.push("乗り降りの手助け");
  if (r.suspended && !r.closed_at) needs.push("ご自身での予約は停止中");
  $("c-needs").replaceChildren(...needs.map((n) => el("span", {}, n)));
  // a closed account books no more: its trips are shown, the booking form is not
  $("c-closed").hidden = !r.closed_at;
  $("c-closed").textContent = r.closed_at ? `${day(r.closed_at)} に退会されました。新しいご予約はできません。` : "";
  $("c-close").hidden = Boolean(r.closed_at);
  $("trip-form").hidden = Boolean(r.closed_at);
  await loadTrips();
  await callerOptIns(r); // town.js
}

// 退会: the resident asked for it on the phone or at the counter; refused (409) while a ride is still to take
async function closeAccount() {
  const r = state.caller;
  if (!window.confirm(`${r.name} 様の退会の手続きをします。ログインと予約ができなくなります。よろしいですか。`)) return;
  const closed = await api("POST", `/v1/operator/residents/${encodeURIComponent(r.id)}/close`);
  say(`${closed.name} 様の退会の手続きをしました。電話番号とLINEは、また登録できます。`);
  await choose(closed);
}

async function loadTrips() {
  const r = state.caller;
  state.trips = await api("GET", `/v1/operator/residents/${r.id}/bookings`);
  $("trips").replaceChildren(...state.trips.slice(0, 8).map((b) => {
    const li = el("li", {}, `${day(b.pickup_from)} ${hhmm(b.pickup_from)} ${b.origin.name} → ${b.destination.name}(${STATUS[b.status] || b.status}・予約番号 ${b.reservation_number})`);
    if (b.status === "confirmed") li.append(" ", el("button", { class: "small danger", onclick: guard(() => cancel(b)) }, "取り消す"));
    return li;
  }));
  if (!state.trips.length) $("trips").append(el("li", {}, "まだ乗車はありません。"));
  const last = state.trips[0];
  const fav = $("favourites");
  fav.replaceChildren();
  if (last) {
    fav.append(el("button", { id: "same-trip", onclick: () => fill(last.origin, last.destination) }, `前回と同じ: ${last.origin.name} → ${last.destination.name}`));
    fav.append(el("button", { id: "return-trip", onclick: () => fill(last.destination, last.origin) }, `帰り: ${last.destination.name} → ${last.origin.name}`));
  }
}

const label = (p) => `${p.name} [${p.id}]`;
function fill(origin, destination) {
  $("origin").value = label(origin);
  $("destination").value = label(destination);
}

function pointId(text) {
  const m = /\[([A-Z]+-\d+)\]\s*$/.exec(text);
  if (m) return m[1];
  const exact = state.points.find((p) => p.name === text.trim() || p.id === text.trim());
  if (exact) return exact.id;
  throw new Error(`乗降ポイント「${text}」が見つかりません。一覧から選んでください。`);
}

async function cancel(b) {
  await api("POST", `/v1/operator/bookings/${b.id}/cancel`);
  say(`予約番号 ${b.reservation_number} を取り消しました。`);
  await loadTrips();
}

// -- the trip ------------------------------------------------------------------------------
async function quote(ev) {
  ev.preventDefault();
  const mode = $("mode").value;
  const body = {
    origin: pointId($("origin").value), destination: pointId($("destination").value), mode,
    passengers: { adult: Number($("adult").value || 0), child: Number($("child").value || 0) },
    resident_id: state.caller.id,
  };
  if (mode !== "asap") {
    if (!$("time").value) throw new Error("時刻を入れてください。");
    body.time = $("time").value + ":00" + OFFSET;
  }
  const result = await api("POST", "/v1/operator/quotes", body);
  const box = $("offers");
  box.hidden = false;
  $("script").hidden = true;
  box.replaceChildren();
  const offers = result.offer ? [result.offer] : result.alternatives;
  if (!result.offer) box.append(el("p", {}, `ご希望どおりには取れません: ${result.reason_ja}` + (offers.length ? " 次の案をお伝えください。" : " 別の時刻か場所をおたずねください。")));
  for (const o of offers) {
    box.append(el("div", { class: "offer" },
      el("div", { class: "when" }, `${day(o.pickup_from)} ${hhmm(o.pickup_from)}〜${hhmm(o.pickup_to)} のお迎え`),
      el("div", {}, `${o.origin.name} → ${o.destination.name}、着くのは ${hhmm(o.dropoff_estimate)} ごろ、料金 ${o.fare_yen}円` + (o.wheelchairs ? `、車いす ${o.wheelchairs}` : "")),
      el("button", { class: "big primary confirm", onclick: guard(() => confirmOffer(o)) }, "この内容で予約する")));
  }
}

async function confirmOffer(o) {
  const b = await api("POST", "/v1/operator/bookings", { quote_id: o.quote_id }, { "Idempotency-Key": o.quote_id });
  $("offers").hidden = true;
  const script = $("script");
  script.hidden = false;
  script.replaceChildren(
    el("h3", {}, "お客様に読み上げてください"),
    el("p", { id: "read-back" }, `ご予約を承りました。予約番号は ${b.reservation_number} です。${day(b.pickup_from)}、${hhmm(b.pickup_from)}から${hhmm(b.pickup_to)}の間に「${b.origin.name}」でお待ちください。「${b.destination.name}」には${hhmm(b.eta_dropoff || b.dropoff_by)}ごろ着く予定です。料金は${b.fare_yen}円です。`));
  await loadTrips();
}

// -- the day's board ---------------------------------------------------------------------------

async function board(ev) {
  if (ev && ev.preventDefault) ev.preventDefault();
  const params = new URLSearchParams(); // no date: the service's today (its clock, not this PC's)
  if ($("b-date").value) params.set("date", $("b-date").value);
  if ($("b-vehicle").value) params.set("vehicle", $("b-vehicle").value);
  if ($("b-status").value) params.append("status", $("b-status").value);
  const d = await api("GET", "/v1/operator/bookings?" + params);
  state.breaks = d.breaks || [];
  plannedBreaks();
  $("b-date").value = d.date;
  const vehicles = new Set([...$("b-vehicle").options].map((o) => o.value));
  for (const v of d.vehicles) if (!vehicles.has(v)) { $("b-vehicle").append(el("option", { value: v }, v)); vehicles.add(v); }
  const counts = Object.entries(d.counts).map(([k, v]) => `${STATUS[k] || k} ${v}件`).join("・");
  $("b-summary").textContent = `${d.date}: ${counts || "予約はありません"}(表示 ${d.bookings.length}件)`;
  $("b-title").textContent = `運行表 ${d.date}` + ($("b-vehicle").value ? ` ${$("b-vehicle").value}` : "");
  const rows = d.bookings.map((b) => {
    const late = b.late_by_min ? el("span", { class: "late-badge" }, `約${b.late_by_min}分遅れ`) : "";
    const eta = b.eta_pickup ? `${hhmm(b.eta_pickup)} 着予定` : "";
    return el("tr", { class: b.late_by_min ? "late" : "" },
      el("td", {}, `${hhmm(b.pickup_from)}〜${hhmm(b.pickup_to)}`),
      el("td", {}, b.rider_name + (b.wheelchairs ? "(車いす)" : "")),
      el("td", {}, b.rider_phone),
      el("td", {}, `${b.origin.name} → ${b.destination.name}`),
      el("td", {}, (b.vehicle_id || "—") + (b.protected ? "(固定)" : "")),
      el("td", {}, eta, " ", late),
      el("td", {}, STATUS[b.status] || b.status),
      el("td", {}, b.reservation_number),
      el("td", { class: "move no-print" }, b.status === "confirmed" ? overrides(b, d.vehicles, d.date) : ""));
  });
  $("b-table").tBodies[0].replaceChildren(...rows);
  $("fleet").replaceChildren(...d.vehicles.map((v) => el("button", { class: "small danger", onclick: guard(() => withdraw(v, d.date)) }, `${v} を運休にする`)));
  const chosen = $("br-vehicle").value;
  $("br-vehicle").replaceChildren(...d.vehicles.map((v) => el("option", { value: v }, v)));
  if (d.vehicles.includes(chosen)) $("br-vehicle").value = chosen;
  const needs = d.bookings.filter((b) => b.status === "confirmed" && (b.late_by_min > 0 || !b.vehicle_id || !b.vehicle_in_service));
  $("attention").hidden = !needs.length;
  $("attention-list").replaceChildren(...needs.map((b) => el("li", {},
    `${b.rider_name}(☎ ${b.rider_phone}): ${hhmm(b.pickup_from)} ${b.origin.name} → ${b.destination.name} — ` +
    (!b.vehicle_in_service ? `${b.vehicle_id} が運休です。お電話で、ほかの時刻をご案内してください。`
      : b.vehicle_id ? `約${b.late_by_min}分遅れの見込み。お電話でお知らせください。` : "車両が決まっていません。"))));
}

async function addVan(ev) {
  ev.preventDefault();
  const body = { vehicle_id: $("v-id").value.trim(), date: $("b-date").value, start: $("v-start").value,
    end: $("v-end").value, seats: Number($("v-seats").value), wheelchairs: Number($("v-wheel").value) };
  const v = await api("POST", "/v1/operator/vehicles", body);
  say(`${v.vehicle_id} を ${hhmm(v.start)}〜${hhmm(v.end)} に追加しました(${v.depot.name} から)。予約を移せます。`);
  $("add-van").open = false;
  await board();
}

// A driver's break: the engine puts it where it costs least between rides, promises kept.
async function addBreak(ev) {
  ev.preventDefault();
  const vehicle = $("br-vehicle").value;
  if (!vehicle) throw new Error("休憩する車を選んでください。");
  const body = { date: $("b-date").value, earliest: $("br-earliest").value, latest: $("br-latest").value,
    minutes: Number($("br-minutes").value) };
  const r = await api("POST", `/v1/operator/vehicles/${encodeURIComponent(vehicle)}/breaks`, body);
  say(`${r.vehicle_id} の休憩を ${hhmm(r.planned)} から${r.minutes}分 入れました(${r.place.name})。運転手さんのタブレットに出ます。`);
  $("add-break").open = false;
  await board();
}

// The day's planned breaks, from the board's answer.
function plannedBreaks() {
  const breaks = [...state.breaks].sort((a, b) => (a.planned || "").localeCompare(b.planned || ""));
  $("br-planned").hidden = !breaks.length;
  $("br-list").replaceChildren(...breaks.map((b) => el("li", { "data-vehicle": b.vehicle_id },
    `${b.vehicle_id}: ${day(b.planned)} ${hhmm(b.planned)} から ${b.minutes}分(${b.place.name})`)));
}

async function withdraw(vehicle, date) {
  if (!window.confirm(`${vehicle} を今から運休にします。乗る予定のお客様はほかの車に移します。よろしいですか?`)) return;
  const r = await api("POST", `/v1/operator/vehicles/${vehicle}/withdraw?date=${date}`);
  const box = $("withdrawn");
  box.hidden = false;
  box.replaceChildren(el("h3", {}, `${vehicle} を運休にしました`),
    el("p", {}, `ほかの車に移したご予約: ${r.moved.length}件` + (r.stranded.length ? `。移せなかったお客様 ${r.stranded.length}人: お電話をお願いします。` : "。")),
    el("ul", {}, ...r.stranded.map((b) => el("li", {}, `${b.rider_name}(☎ ${b.rider_phone}) ${hhmm(b.pickup_from)} ${b.origin.name} → ${b.destination.name} 予約番号 ${b.reservation_number}`))));
  await board();
}

// What an operator may do for a confirmed booking on the board: move it, keep it on its van,
// record that the rider did not come (a driver phoned it in).
function overrides(b, vehicles, date) {
  const keep = el("button", { class: "small" + (b.protected ? " on" : ""), "aria-pressed": String(b.protected),
    title: "遅れが出ても、ほかの車に自動で移さないようにします" }, b.protected ? "車を固定中(解除)" : "この車に固定");
  keep.addEventListener("click", guard(async () => {
    const row = await api("POST", `/v1/operator/bookings/${b.id}/protect`, { protected: !b.protected });
    say(row.protected ? `${b.rider_name}様の予約を ${row.vehicle_id} に固定しました。自動では移しません。` : `${b.rider_name}様の予約の固定を外しました。`);
    await board();
  }));
  const absent = el("button", { class: "small" }, "来られなかった");
  absent.addEventListener("click", guard(async () => {
    if (!window.confirm(`${b.rider_name}様(${hhmm(b.pickup_from)} ${b.origin.name})を「来られなかった」にします。運転手さんから連絡がありましたか?`)) return;
    await api("POST", `/v1/operator/bookings/${b.id}/no-show`);
    say(`${b.rider_name}様の予約を「来られなかった」にしました。`);
    await board();
  }));
  return el("span", { class: "overrides" }, mover(b, vehicles), " ", keep, " ", absent);
}

// Moving a booking: the engine checks first (a dry run), the operator then decides.
function mover(b, vehicles) {
  const others = vehicles.filter((v) => v !== b.vehicle_id);
  if (!others.length) return "";
  const pick = el("select", { "aria-label": `${b.rider_name}様の予約を移す車` }, ...others.map((v) => el("option", { value: v }, v)));
  const note = el("span", { class: "note" });
  const go = el("button", { class: "small primary", hidden: "" }, "移す");
  const check = el("button", { class: "small", onclick: guard(async () => {
    const r = await api("POST", `/v1/operator/bookings/${b.id}/move`, { vehicle_id: pick.value, dry_run: true });
    note.textContent = r.fits ? `${pick.value}なら ${hhmm(r.pickup_estimate)} ごろお迎え(お約束の範囲内)` : `${pick.value}には移せません: ${r.reason_ja}`;
    go.hidden = !r.fits;
  }) }, "確認");
  go.addEventListener("click", guard(async () => {
    await api("POST", `/v1/operator/bookings/${b.id}/move`, { vehicle_id: pick.value });
    say(`${b.rider_name}様の予約を ${pick.value} に移しました。`);
    await board();
  }));
  pick.addEventListener("change", () => { go.hidden = true; note.textContent = ""; });
  return el("span", {}, pick, " ", check, " ", go, note);
}

// -- the live fleet: our own roads on a canvas (no tile server, nothing from the internet) ------
const COLOURS = { on_time: "#1b7f3a", late: "#e0a000", very_late: "#b00020", no_gps: "#777", idle: "#fff", out_of_service: "#000" };
const STATE_JA = { on_time: "予定どおり", late: "遅れ", very_late: "大きく遅れ", no_gps: "位置が届かない", idle: "予約なし", out_of_service: "運休" };

// Our roads on a canvas (the fleet map, the meeting points' map), fetched once. Answers the
// drawing context and the projection both ways: xy(lat, lon) → canvas pixels, latlon(x, y).
async function drawRoads(canvas) {
  if (!state.roads) state.roads = await api("GET", "/v1/operator/map");
  const g = canvas.getContext("2d");
  const [south, west, north, east] = state.roads.bbox;
  const kx = Math.cos(((south + north) / 2) * Math.PI / 180);
  const scale = Math.min(canvas.width / ((east - west) * kx), canvas.height / (north - south));
  const dx = (canvas.width - (east - west) * kx * scale) / 2, dy = (canvas.height - (north - south) * scale) / 2;
  const xy = (lat, lon) => [dx + (lon - west) * kx * scale, dy + (north - lat) * scale];
  const latlon = (x, y) => [north - (y - dy) / scale, west + (x - dx) / (kx * scale)];
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = "#c4c8bd"; g.lineWidth = 1;
  for (const line of state.roads.lines) {
    g.beginPath();
    for (let i = 0; i < line.length; i += 2) { const [x, y] = xy(line[i], line[i + 1]); i ? g.lineTo(x, y) : g.moveTo(x, y); }
    g.stroke();
  }
  return { g, xy, latlon };
}

async function fleetMap() {
  const f = await api("GET", "/v1/operator/fleet");
  const { g, xy } = await drawRoads($("map"));
  g.fillStyle = "#5a6d80";
  for (const p of state.points) { const [x, y] = xy(p.lat, p.lon); g.fillRect(x - 1.5, y - 1.5, 3, 3); }
  for (const v of f.vehicles) {
    if (v.route.length) {
      g.strokeStyle = COLOURS[v.state]; g.lineWidth = 3; g.beginPath();
      v.route.forEach(([lat, lon], i) => { const [x, y] = xy(lat, lon); i ? g.lineTo(x, y) : g.moveTo(x, y); });
      g.stroke();
    }
    for (const s of v.next_stops) { const [x, y] = xy(s.lat, s.lon); g.strokeStyle = "#222"; g.lineWidth = 2; g.strokeRect(x - 5, y - 5, 10, 10); }
    if (!v.position) continue;
    const [x, y] = xy(v.position.lat, v.position.lon);
    g.beginPath(); g.arc(x, y, 9, 0, 2 * Math.PI); g.fillStyle = COLOURS[v.state]; g.fill();
    g.lineWidth = 2; g.strokeStyle = "#222"; g.stroke();
    g.fillStyle = "#111"; g.font = "bold 16px sans-serif"; g.fillText(v.vehicle_id, x + 12, y + 5);
  }
  $("vehicles").replaceChildren(...f.vehicles.map((v) => el("li", { "data-state": v.state },
    el("span", { class: "dot " + v.state }), `${v.vehicle_id}: ${STATE_JA[v.state]}` + (v.late_by_min ? `(約${v.late_by_min}分)` : "") +
    (v.next_stops.length ? ` — 次は ${v.next_stops[0].name}` + (v.next_stops[0].planned ? ` ${hhmm(v.next_stops[0].planned)}` : "") : "") +
    (v.gps_age_s !== null && v.gps_age_s > 120 ? `(最後の位置 ${Math.round(v.gps_age_s / 60)}分前)` : ""))));
}

// -- the audit log ------------------------------------------------------------------------------
const ACTIONS = { quote: "空きの確認", "booking.confirm": "予約の確定", "booking.cancel": "取り消し", "booking.move": "車の変更",
  "vehicle.withdraw": "運休", "resident.register": "利用者の登録", "resident.search": "お客様の検索", "resident.view": "お客様の表示",
  "channel.link": "LINE・アプリの連携", "booking.list": "予約の一覧", "booking.day_list": "一日の予約", "audit.export": "記録の保存", "resident.link_code": "連携コードの発行" };
const WHO = { staff: "職員", resident: "ご本人" };

function auditParams(format) {
  const p = new URLSearchParams({ limit: "500" });
  if ($("a-resident").value.trim()) p.set("resident_id", $("a-resident").value.trim());
  if ($("a-action").value) p.set("action", $("a-action").value);
  if (format) p.set("format", format);
  return p;
}

async function auditLog(ev) {
  if (ev && ev.preventDefault) ev.preventDefault();
  const rows = await api("GET", "/v1/operator/audit?" + auditParams());
  $("a-table").tBodies[0].replaceChildren(...rows.map((e) => el("tr", {},
    el("td", {}, `${day(e.at)} ${hhmm(e.at)}`), el("td", {}, `${e.actor_name}(${WHO[e.actor_kind] || e.actor_kind})`),
    el("td", {}, ACTIONS[e.action] || e.action), el("td", {}, e.resident_id || ""), el("td", {}, e.booking_id || ""),
    el("td", {}, Object.entries(e.details).filter(([k]) => k !== "offers").map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("、")))));
}

async function auditCsv() {
  const r = await fetch("/v1/operator/audit?" + auditParams("csv"), { headers: { Authorization: "Bearer " + state.token } });
  if (!r.ok) { const data = await r.json().catch(() => null); throw new Error((data && data.error && data.error.message_ja) || "保存できませんでした"); }
  const link = el("a", { href: URL.createObjectURL(await r.blob()), download: "audit.csv" });
  document.body.append(link); link.click(); link.remove();
}

// -- a new caller ------------------------------------------------------------------------------
async function register(ev) {
  ev.preventDefault();
  const body = {
    name: $("r-name").value, kana: $("r-kana").value, phone: $("r-phone").value, address: $("r-address").value,
    birth_year: Number($("r-birth").value), wheelchair: $("r-wheelchair").checked, needs_help: $("r-help").checked,
    consent: $("r-consent").checked,
  };
  const made = await api("POST", "/v1/operator/residents", body);
  $("register-form").hidden = true;
  say(`${made.resident.name} 様を登録しました。`);
  await choose(made.resident);
}

async function signIn(ev) {
  ev.preventDefault();
  const form = new URLSearchParams({ username: $("username").value, password: $("password").value });
  const t = await api("POST", "/v1/auth/token", form);
  state.token = t.access_token;
  state.username = $("username").value;
  sessionStorage.setItem("drt.console.token", state.token);
  sessionStorage.setItem("drt.console.user", state.username);
  await enter();
}

// The meeting points the desk offers by name (again after an admin changed them).
async function loadPointNames() {
  state.points = await api("GET", "/v1/meeting-points");
  $("point-names").replaceChildren(...state.points.map((p) => el("option", { value: label(p) })));
}

// The token says nothing about the role: the staff list answers admins only (403 otherwise).
async function isAdmin() {
  try { await api("GET", "/v1/operator/staff"); return true; } catch (e) { if (e.status === 403) return false; throw e; }
}

async function enter() {
  await loadPointNames();
  setAdmin(await isAdmin());
  $("who").textContent = state.admin ? "受付中(管理者)" : "受付中";
  show("desk");
  $("q").focus();
}

// Every handler reports its error on screen (in Japanese), never silently.
const guard = (fn) => async (ev) => { try { await fn(ev); } catch (e) { if (ev && ev.preventDefault) ev.preventDefault(); say(e.message, true); } };
$("signin-form").addEventListener("submit", guard(signIn));
$("search-form").addEventListener("submit", guard(search));
$("trip-form").addEventListener("submit", guard(quote));
$("c-close").addEventListener("click", guard(closeAccount));
$("register-form").addEventListener("submit", guard(register));
$("new-caller").addEventListener("click", () => { $("register-form").hidden = false; $("r-name").focus(); });
$("sign-out").addEventListener("click", signOut);
$("board-form").addEventListener("submit", guard(board));
$("van-form").addEventListener("submit", guard(addVan));
$("break-form").addEventListener("submit", guard(addBreak));
$("to-desk").addEventListener("click", () => show("desk"));
$("to-board").addEventListener("click", guard(async () => { show("board"); await board(); }));
$("print").addEventListener("click", () => window.print());
$("audit-form").addEventListener("submit", guard(auditLog));
$("a-csv").addEventListener("click", guard(auditCsv));
$("to-audit").addEventListener("click", guard(async () => {
  if (state.caller && !$("a-resident").value) $("a-resident").value = state.caller.id;
  show("audit");
  await auditLog();
}));
$("to-reports").addEventListener("click", guard(async () => {
  show("reports");
  await reportsPage(); // reports.js
}));
$("to-points").addEventListener("click", guard(async () => {
  show("points");
  await pointsPage(); // points.js
}));
$("to-rules").addEventListener("click", guard(async () => {
  show("rules");
  await rulesPage(); // rules.js
}));
$("to-town").addEventListener("click", guard(async () => {
  show("town");
  await townPage(); // town.js
}));
$("to-staff").addEventListener("click", guard(async () => {
  show("staff");
  await staffPage(); // staff.js
}));
$("to-fleet").addEventListener("click", guard(async () => {
  show("fleet");
  await fleetMap();
  state.fleetTimer = setInterval(guard(fleetMap), 15000);
}));
(async () => { if (state.token) { try { await enter(); return; } catch (e) { /* the token expired */ } } show("signin"); })();
