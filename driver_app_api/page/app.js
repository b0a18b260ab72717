// 乗務員タブレット: sign in, start the shift, follow the manifest, record what happens at stops.
// Everything the driver taps is sent with a client event id and retried until the server
// answers, so a tablet that loses signal never records an event twice or loses one.
// Offline-first: a service worker (sw.js) keeps the page and the last manifest; what the
// driver records offline is shown at once (the events still waiting are applied to the last
// manifest) and sent, in order, when the network is back.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  device: localStorage.getItem("drt.device") || "",
  token: sessionStorage.getItem("drt.token") || "",
  driver: sessionStorage.getItem("drt.driver") || "",
  manifest: null,
  roads: null,
  gps: [],
  stream: null,
  offline: false,
  gpsError: "",
};

function show(section) {
  for (const id of ["setup", "signin", "shift", "work"]) $(id).hidden = id !== section;
}

function say(text, error = false) {
  const m = $("message");
  m.textContent = text;
  m.className = "show" + (error ? " error" : "");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => (m.className = ""), 6000);
}

class Offline extends Error {}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  let r;
  try {
    r = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch (e) {
    setOffline(true);
    throw new Offline("電波が届いていません。記録は電波が戻ったら送ります。");
  }
  setOffline(r.headers.get("X-From-Cache") === "1");
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) {
    const err = (data && data.error) || {};
    if (r.status === 401) signOut();
    throw new Error(err.message_ja || "エラーが起きました");
  }
  return data;
}

function setOffline(off) {
  state.offline = off;
  status();
}

// The header: the clock, the connection (and what is waiting to be sent), the GPS.
function status() {
  const conn = $("conn");
  if (state.offline) {
    conn.textContent = "オフライン" + (pending.length ? `(送信待ち ${pending.length}件)` : "");
    conn.className = "conn offline";
  } else if (pending.length) {
    conn.textContent = `送信中 ${pending.length}件`; conn.className = "conn off";
  }
  $("gps").hidden = !state.gpsError;
  $("gps").textContent = state.gpsError ? `GPS: ${state.gpsError}` : "";
}

function tick() {
  $("clock").textContent = new Date().toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" });
}

function signOut() {
  state.token = "";
  sessionStorage.removeItem("drt.token");
  if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("forget");
  if (state.stream) state.stream.close();
  show("signin");
}

// -- events, retried with the same id until the server answers --------------------------
const pending = JSON.parse(localStorage.getItem("drt.pending") || "[]");
function savePending() { localStorage.setItem("drt.pending", JSON.stringify(pending)); }

async function sendEvent(kind, extra) {
  const ev = { client_event_id: crypto.randomUUID(), kind, ...extra };
  pending.push(ev);
  savePending();
  render(); // shown at once, whether or not the network answers
  await flushEvents();
}

let flushing = false;
async function flushEvents() {
  if (flushing) return;
  flushing = true;
  try {
    while (pending.length) {
      const ev = pending[0];
      try {
        const done = await api("POST", "/v1/driver/events", ev);
        if (done && done.far_from_stop) {
          say(`停車地から約${Math.round(done.distance_m / 100) / 10}km 離れた場所で「到着」を記録しました。場所を確かめてください。`, true);
        }
      } catch (e) {
        if (e instanceof Offline) { setTimeout(flushEvents, 3000); status(); return; }
        say(e.message, true); // refused by the server: tell the driver, do not retry
      }
      pending.shift();
      savePending();
      status();
    }
  } finally {
    flushing = false;
  }
  await refresh();
}
window.addEventListener("online", () => flushEvents());

// The last manifest with the events still waiting applied, as the server will apply them.
function withPending(m) {
  if (!m || !pending.length) return m;
  const v = JSON.parse(JSON.stringify(m));
  const done = (r, ev) => (ev.kind === "no_show") || (ev.kind === "boarded" && r.action === "board") || (ev.kind === "alighted" && r.action === "alight");
  for (const ev of pending) {
    if (ev.kind === "arrived") {
      v.at_stop = ev.stop_id;
      v.at_stop_name = (v.stops.find((st) => st.stop_id === ev.stop_id) || {}).name || ev.stop_id;
    } else if (ev.kind === "departed") {
      v.at_stop = null;
    } else if (ev.booking_id) {
      for (const st of v.stops) {
        for (const r of st.riders) if (r.booking_id === ev.booking_id && ev.kind === "boarded" && r.action === "alight") r.status = "onboard";
        st.riders = st.riders.filter((r) => !(r.booking_id === ev.booking_id && done(r, ev)));
      }
      v.stops = v.stops.filter((st) => st.kind !== "stop" || st.riders.length);
    }
  }
  return v;
}

// -- the manifest ------------------------------------------------------------------------
const hhmm = (iso) => (iso ? new Date(iso).toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo" }) : "--:--");
const PAY = [["cash", "現金"], ["ic_card", "ICカード"], ["qr", "QR"], ["free", "無料"]];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function render() {
  const m = withPending(state.manifest);
  status();
  if (!m) return;
  const next = $("next");
  next.replaceChildren();
  if (m.at_stop && (!m.stops.length || m.stops[0].stop_id !== m.at_stop)) {
    // Everyone here has boarded or alighted: the driver leaves when ready.
    next.append(el("div", { class: "card", id: "here" }, el("div", {}, "停車中"),
      el("div", { class: "stopname" }, m.at_stop_name || m.at_stop),
      el("button", { class: "big primary", id: "depart", onclick: () => sendEvent("departed", { stop_id: m.at_stop }) }, "出発")));
  }
  if (m.late_riders) {
    // The plan was re-timed past some riders' promises (a late van): say so, plainly.
    next.append(el("div", { class: "card late", id: "late" },
      el("div", { class: "stopname" }, "予定より遅れています"),
      el("p", {}, `お約束の時刻に間に合わないお客様が ${m.late_riders} 人います。下の予定時刻は今の位置からの見込みです。急がず安全に運転してください。`)));
  }
  if (!m.stops.length) {
    next.append(el("div", { class: "card" }, el("div", { class: "stopname" }, "予定はありません"),
      el("p", {}, "新しい予約が入ると、ここに表示されます。")));
  } else {
    const stop = m.stops[0];
    const arrived = m.at_stop && m.at_stop === stop.stop_id;
    const card = el("div", { class: "card", id: "next-stop" },
      el("div", {}, "次の停車地"),
      el("div", { class: "stopname" }, stop.name),
      el("div", { class: "time" }, `予定 ${hhmm(stop.planned)}` + (stop.window_from ? `(お約束 ${hhmm(stop.window_from)}〜${hhmm(stop.window_to)})` : "")));
    if (!arrived && !m.at_stop && stop.kind === "stop") {
      card.append(el("button", { class: "big primary", id: "arrive", onclick: () => sendEvent("arrived", { stop_id: stop.stop_id }) }, "到着"));
    }
    if (!arrived) { // the phone's or tablet's own navigation app, to the next stop
      card.append(el("a", { class: "button big", id: "navigate", href: `geo:${stop.lat},${stop.lon}?q=${stop.lat},${stop.lon}(${encodeURIComponent(stop.name)})` }, "ナビで開く"));
    }
    for (const r of stop.riders) {
      const row = el("div", { class: "rider" },
        el("span", { class: "badge" + (r.action === "alight" ? " alight" : "") }, r.action === "board" ? "乗車" : "降車"),
        el("span", { class: "name" }, r.name + " 様"),
        r.late_by_min ? el("span", { class: "late-badge" }, `約${r.late_by_min}分遅れ`) : "",
        el("div", {}, `予約番号 ${r.reservation_number} / ${Object.entries(r.passengers).map(([k, v]) => `${({ adult: "大人", child: "小学生", disability: "障がい者", preschool: "未就学児" })[k] || k} ${v}人`).join("・")}`
          + (r.wheelchairs ? ` / 車いす ${r.wheelchairs}` : "") + (r.needs_help ? " / 乗り降りの手助け" : "")
          + (r.action === "board" ? ` / 運賃 ${r.fare_yen}円` : "")));
      if (arrived && r.action === "board" && r.status === "confirmed") {
        const pay = el("div", { class: "row pay" });
        for (const [method, label] of PAY) {
          pay.append(el("button", { class: "primary", "data-pay": method, onclick: () => sendEvent("boarded", { booking_id: r.booking_id, payment_method: method }) }, `乗車(${label})`));
        }
        pay.append(el("button", { class: "danger", onclick: () => sendEvent("no_show", { booking_id: r.booking_id }) }, "来なかった"));
        row.append(pay);
      }
      if (arrived && r.action === "alight" && r.status === "onboard") {
        row.append(el("button", { class: "primary", onclick: () => sendEvent("alighted", { booking_id: r.booking_id }) }, "降車"));
      }
      card.append(row);
    }
    if (arrived) card.append(el("button", { class: "big", id: "depart", onclick: () => sendEvent("departed", { stop_id: stop.stop_id }) }, "出発"));
    next.append(card);
  }
  const later = $("later");
  later.replaceChildren(...m.stops.slice(1).map((s) => el("li", {}, `${hhmm(s.planned)} ${s.name}(${s.riders.map((r) => (r.action === "board" ? "乗" : "降") + " " + r.name + (r.late_by_min ? ` 約${r.late_by_min}分遅れ` : "")).join("、")})`)));
  drawMap();
}

async function refresh() {
  if (!state.token) return;
  try {
    state.manifest = await api("GET", "/v1/driver/manifest");
    render();
  } catch (e) { say(e.message, true); }
}

function listen() {
  if (state.stream) state.stream.close();
  const es = new EventSource("/v1/driver/stream?token=" + encodeURIComponent(state.token));
  es.addEventListener("manifest", (e) => { state.manifest = JSON.parse(e.data); render(); });
  es.addEventListener("session_ended", () => { es.close(); signOut(); });
  es.onopen = () => { state.offline = false; $("conn").textContent = "接続中"; $("conn").className = "conn on"; status(); flushEvents(); };
  es.onerror = () => { $("conn").textContent = "再接続中…"; $("conn").className = "conn off"; status(); };
  state.stream = es;
}

// -- the map, drawn from our own road data ----------------------------------------------
function decode(str) {
  const pts = []; let i = 0, lat = 0, lon = 0;
  while (i < str.length) {
    for (const which of [0, 1]) {
      let b, shift = 0, result = 0;
      do { b = str.charCodeAt(i++) - 63; result |= (b & 0x1f) << shift; shift += 5; } while (b >= 0x20);
      const d = result & 1 ? ~(result >> 1) : result >> 1;
      if (which === 0) lat += d; else lon += d;
    }
    pts.push([lat / 1e5, lon / 1e5]);
  }
  return pts;
}

function drawMap() {
  const c = $("map"), g = c.getContext("2d"), m = withPending(state.manifest);
  g.fillStyle = "#eef0ea"; g.fillRect(0, 0, c.width, c.height);
  if (!state.roads || !m) return;
  const route = m.polyline ? decode(m.polyline) : [];
  const focus = [...route, ...m.stops.slice(0, 3).map((s) => [s.lat, s.lon])];
  if (m.position) focus.push([m.position.lat, m.position.lon]);
  let [s, w, n, e] = state.roads.bbox;
  if (focus.length) {
    s = Math.min(...focus.map((p) => p[0])); n = Math.max(...focus.map((p) => p[0]));
    w = Math.min(...focus.map((p) => p[1])); e = Math.max(...focus.map((p) => p[1]));
    const pad = Math.max(n - s, (e - w) * 0.8, 0.004) * 0.25;
    s -= pad; n += pad; w -= pad; e += pad;
  }
  const k = Math.cos(((s + n) / 2) * Math.PI / 180);
  const scale = Math.min(c.width / ((e - w) * k), c.height / (n - s));
  const x = (lon) => (lon - w) * k * scale + (c.width - (e - w) * k * scale) / 2;
  const y = (lat) => (n - lat) * scale + (c.height - (n - s) * scale) / 2;
  g.strokeStyle = "#b9b9b0"; g.lineWidth = 1.5;
  for (const line of state.roads.lines) {
    g.beginPath();
    for (let i = 0; i < line.length; i += 2) (i ? g.lineTo : g.moveTo).call(g, x(line[i + 1]), y(line[i]));
    g.stroke();
  }
  if (route.length) {
    g.strokeStyle = "#0b5cad"; g.lineWidth = 7; g.beginPath();
    route.forEach((p, i) => (i ? g.lineTo : g.moveTo).call(g, x(p[1]), y(p[0])));
    g.stroke();
  }
  m.stops.slice(0, 3).forEach((st, i) => {
    g.fillStyle = i === 0 ? "#1b7f3a" : "#6a8f6f";
    g.beginPath(); g.arc(x(st.lon), y(st.lat), i === 0 ? 13 : 9, 0, 7); g.fill();
  });
  if (m.position) {
    g.fillStyle = "#d0021b"; g.beginPath(); g.arc(x(m.position.lon), y(m.position.lat), 11, 0, 7); g.fill();
  }
}

// -- GPS: batched about every 5 seconds --------------------------------------------------
function startGps() {
  if (!navigator.geolocation) return;
  navigator.geolocation.watchPosition((p) => {
    state.gps.push({ t: p.timestamp / 1000, lat: p.coords.latitude, lon: p.coords.longitude,
      speed_mps: p.coords.speed ?? null, heading_deg: p.coords.heading ?? null, accuracy_m: p.coords.accuracy ?? null });
    if (state.gpsError) { state.gpsError = ""; status(); }
  }, (err) => { // said on screen: a van whose position does not arrive looks lost to the operators
    state.gpsError = err.code === 1 ? "位置情報が許可されていません" : "位置がわかりません";
    status();
  }, { enableHighAccuracy: true });
  setInterval(async () => {
    if (!state.gps.length || !state.token) return;
    const points = state.gps.splice(0);
    try { await api("POST", "/v1/driver/positions", { points }); } catch (e) { state.gps.unshift(...points.slice(-200)); }
  }, 5000);
}

// -- wiring ------------------------------------------------------------------------------
$("save-device").onclick = () => {
  state.device = $("device-token").value.trim();
  localStorage.setItem("drt.device", state.device);
  show("signin");
};
$("reset-device").onclick = () => { localStorage.removeItem("drt.device"); state.device = ""; show("setup"); };
$("do-signin").onclick = async () => {
  try {
    const s = await api("POST", "/v1/driver/sessions", { device_token: state.device, login: $("login").value, pin: $("pin").value });
    state.token = s.access_token; state.driver = `${s.driver_name}(${s.vehicle_id})`;
    sessionStorage.setItem("drt.token", state.token); sessionStorage.setItem("drt.driver", state.driver);
    $("who").textContent = state.driver;
    show("shift");
  } catch (e) { say(e.message, true); }
};
$("start-shift").onclick = async () => {
  try {
    const last = state.gps[state.gps.length - 1];
    await api("POST", "/v1/driver/shift/start", last ? { lat: last.lat, lon: last.lon } : {});
    await enterWork();
  } catch (e) { say(e.message, true); }
};
$("break").onclick = async () => {
  const minutes = Number($("break-min").value);
  try { await api("POST", "/v1/driver/break", { minutes }); say(`休憩を記録しました(${minutes}分。予定の休憩があればその長さです)。予定の時刻は一覧で確かめてください。`); } catch (e) { say(e.message, true); }
};
$("end-shift").onclick = async () => {
  if (!confirm("運行を終了しますか?")) return;
  try { await api("POST", "/v1/driver/shift/end"); say("おつかれさまでした。"); signOut(); } catch (e) { say(e.message, true); }
};

async function enterWork() {
  show("work");
  if (!state.roads) state.roads = await api("GET", "/v1/driver/map");
  await refresh();
  listen();
  flushEvents();
}

(async function boot() {
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/driver/sw.js").catch(() => {});
  tick(); setInterval(tick, 10000);
  startGps();
  $("who").textContent = state.driver;
  if (!state.device) return show("setup");
  if (!state.token) return show("signin");
  try {
    const m = await api("GET", "/v1/driver/manifest");
    if (m.service_vehicle_id) { state.manifest = m; await enterWork(); } else show("shift");
  } catch (e) { if (e instanceof Offline) say(e.message, true); show("signin"); }
})();
