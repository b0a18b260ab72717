// 報告: the town's report (ridership, refusals by reason, waits, on-time share), drawn by our own
// code as inline SVG (no chart library, nothing from the internet). Loaded after console.js,
// whose helpers ($, el, api, guard, state) it uses; console.js opens the page (show).
"use strict";
const SVG_NS = "http://www.w3.org/2000/svg";
const REASON_JA = {
  no_vehicle_in_service: "運行している車がない",
  vehicles_full: "車が満席",
  no_time_available: "その時間に迎えに行けない",
  ride_too_long: "乗る時間が長くなりすぎる",
  outside_vehicle_hours: "車の運行時間外",
  unknown: "理由の記録なし(以前の分)",
};

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

const minutes = (s) => (s === null || s === undefined ? "—" : `${(Math.round(s / 6) / 10).toFixed(1)}分`);
const percent = (share, part, whole) => (share === null || share === undefined ? "—" : `${Math.round(share * 100)}%(${part}/${whole}件)`);
const periodJa = (p, by) => {
  if (p === "total") return "合計";
  const [y, mo, d] = p.split("-").map(Number);
  return by === "month" ? `${y}年${mo}月` : `${mo}月${d}日`;
};

function reportParams(format) {
  const p = new URLSearchParams({ by: $("rp-by").value });
  if ($("rp-from").value) p.set("from", $("rp-from").value);
  if ($("rp-to").value) p.set("to", $("rp-to").value);
  if (format) p.set("format", format);
  return p;
}

// Bars per period: rides done (green) and refusals (red), side by side.
function periodChart(rows, by) {
  const W = 1300, H = 260, left = 50, bottom = 40, top = 16;
  const high = Math.max(1, ...rows.map((r) => Math.max(r.completed, r.refused)));
  const slot = (W - left - 10) / Math.max(1, rows.length);
  const bar = Math.max(2, Math.min(40, slot * 0.4));
  const y = (v) => top + (H - top - bottom) * (1 - v / high);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "bars", role: "img", "aria-label": "期間ごとの乗車とお断りの件数" });
  for (const v of new Set([0, Math.ceil(high / 2), high])) {
    chart.append(svg("line", { x1: left, x2: W, y1: y(v), y2: y(v), class: "grid" }),
      svg("text", { x: left - 8, y: y(v) + 6, class: "axis", "text-anchor": "end" }, String(v)));
  }
  const every = Math.ceil(rows.length / 16); // at most 16 labels under the bars
  rows.forEach((r, i) => {
    const x = left + i * slot + slot / 2;
    const done = svg("rect", { x: x - bar, y: y(r.completed), width: bar, height: y(0) - y(r.completed), class: "bar done" });
    done.append(svg("title", {}, `${periodJa(r.period, by)} 乗車 ${r.completed}回`));
    const refused = svg("rect", { x, y: y(r.refused), width: bar, height: y(0) - y(r.refused), class: "bar refused" });
    refused.append(svg("title", {}, `${periodJa(r.period, by)} お断り ${r.refused}件`));
    chart.append(done, refused);
    if (i % every === 0) chart.append(svg("text", { x, y: H - 12, class: "axis", "text-anchor": "middle" }, periodJa(r.period, by)));
  });
  return chart;
}

// Horizontal bars for a few named counts (大字, age bands, reasons).
function namedChart(counts, unit, none, labelOf = (k) => k) {
  const entries = Object.entries(counts);
  if (!entries.length) return el("p", { class: "empty" }, none);
  const W = 420, row = 36, left = 190, H = entries.length * row + 8;
  const high = Math.max(1, ...entries.map(([, v]) => v));
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "hbars", role: "img" });
  entries.forEach(([k, v], i) => {
    const yy = 4 + i * row, width = ((W - left - 70) * v) / high;
    chart.append(svg("text", { x: left - 8, y: yy + 24, class: "label", "text-anchor": "end" }, labelOf(k)),
      svg("rect", { x: left, y: yy + 6, width: Math.max(width, v ? 2 : 0), height: row - 12, class: "bar done" }),
      svg("text", { x: left + width + 8, y: yy + 24, class: "value" }, `${v}${unit}`));
  });
  return chart;
}

function reportRow(r, by) {
  const cells = [periodJa(r.period, by), r.bookings, r.completed, r.passengers, r.no_show, r.cancelled, r.refused,
    r.fares_yen.toLocaleString("ja-JP"), minutes(r.wait_mean_s), minutes(r.wait_p90_s), minutes(r.asap_wait_mean_s),
    percent(r.pickup_on_time_share, r.pickups_on_time, r.timed_rides),
    percent(r.dropoff_on_time_share, r.dropoffs_on_time, r.timed_dropoffs)];
  return el("tr", r.period === "total" ? { class: "total" } : {}, ...cells.map((c) => el("td", {}, String(c))));
}

async function reportsPage(ev) {
  if (ev && ev.preventDefault) ev.preventDefault();
  const d = await api("GET", "/v1/operator/reports/ridership?" + reportParams());
  $("rp-from").value = d.first;
  $("rp-to").value = d.last;
  const t = d.totals;
  $("rp-title").textContent = `${d.first} 〜 ${d.last}(${d.by === "month" ? "月ごと" : "日ごと"})`;
  $("rp-summary").replaceChildren(
    el("div", { class: "tile" }, el("span", {}, "乗車"), el("b", {}, `${t.completed}回`), el("span", {}, `${t.passengers}人`)),
    el("div", { class: "tile" }, el("span", {}, "お断り"), el("b", {}, `${t.refused}件`)),
    el("div", { class: "tile" }, el("span", {}, "お迎えの待ち(平均)"), el("b", {}, minutes(t.wait_mean_s)), el("span", {}, t.wait_p90_s === null ? "" : `10人に9人は ${minutes(t.wait_p90_s)}以内`)),
    el("div", { class: "tile" }, el("span", {}, "時間どおりのお迎え"), el("b", {}, percent(t.pickup_on_time_share, t.pickups_on_time, t.timed_rides))),
    el("div", { class: "tile" }, el("span", {}, "時間どおりの到着"), el("b", {}, percent(t.dropoff_on_time_share, t.dropoffs_on_time, t.timed_dropoffs))));
  $("rp-chart").replaceChildren(d.periods.length ? periodChart(d.periods, d.by) : el("p", { class: "empty" }, "この期間の予約はありません。"));
  $("rp-table").tBodies[0].replaceChildren(...d.periods.map((r) => reportRow(r, d.by)));
  $("rp-table").tFoot.replaceChildren(reportRow(t, d.by));
  $("rp-districts").replaceChildren(namedChart(d.riders_by_district, "人", "この期間に乗った人はいません。"));
  $("rp-ages").replaceChildren(namedChart(d.rides_by_age_band, "回", "この期間の乗車はありません。"));
  $("rp-reasons").replaceChildren(namedChart(t.refused_by_reason, "件", "この期間のお断りはありません。", (k) => REASON_JA[k] || k));
}

async function reportsCsv() {
  await saveFile("/v1/operator/reports/ridership?" + reportParams("csv"), "ridership.csv");
}

$("rp-form").addEventListener("submit", guard(reportsPage));
$("rp-csv").addEventListener("click", guard(reportsCsv));
