"""The planner's report: one self-contained HTML page with the key figures and four plots.

Japanese first with English alongside, plots embedded as PNG (base64) so the file can be
mailed or put on a council slide as it is. Plots are drawn with matplotlib (Japanese labels
with the IPAexGothic font of matplotlib-fontja); the map is drawn from our own road data.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from sim.hindsight import Hindsight
from sim.kpi import wait_s
from sim.maps import MapLayer
from sim.records import DayResult, Outcome, State
from sim.scenario import Scenario, clock_text
from sim.world import World

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OSM_CREDIT = "Map data © OpenStreetMap contributors, ODbL"

#: (key, Japanese, English, unit) of the figures in the table, in order.
KPI_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("requests", "申し込み", "Requests", "count"),
    ("served", "乗れた人(件)", "Served", "count"),
    (
        "served_share",
        "乗れた割合(取消・不在を除く)",
        "Served share (of riders who still wanted to go)",
        "share",
    ),
    ("rejected", "お断り(件)", "Refused", "count"),
    ("cancelled", "お客様の取消(件)", "Cancelled by the rider", "count"),
    ("no_show", "来られなかった(件)", "No-shows", "count"),
    (
        "alternatives_taken",
        "別の時間・場所の提案で乗った",
        "Served on an alternative offer",
        "count",
    ),
    ("wait_mean_s", "平均の待ち時間", "Mean wait", "minutes"),
    ("wait_median_s", "待ち時間(中央値)", "Median wait", "minutes"),
    ("wait_p90_s", "待ち時間(9割の人がこれ以内)", "Wait, 90th percentile", "minutes"),
    (
        "pickup_deviation_mean_s",
        "お迎え時刻のずれ(平均、約束の予定時刻から)",
        "Pickup vs promised time, mean",
        "minutes",
    ),
    (
        "pickup_deviation_abs_p90_s",
        "お迎え時刻のずれ(9割がこれ以内)",
        "Pickup deviation, 90th percentile",
        "minutes",
    ),
    ("promises_broken", "約束を守れなかった(件)", "Promises broken", "count"),
    ("promises_broken_over_5min", "うち5分を超えた遅れ(件)", "… by more than 5 minutes", "count"),
    (
        "on_time_pickup_share",
        "約束の時間内にお迎え",
        "Picked up within the promised window",
        "share",
    ),
    ("on_time_dropoff_share", "約束の時刻までに到着", "Dropped off by the promised time", "share"),
    ("at_risk_reports", "遅れのお知らせ(回)", "Delay notices (AtRisk)", "count"),
    ("ride_mean_s", "平均の乗車時間", "Mean ride time", "minutes"),
    (
        "detour_factor_mean",
        "遠回りの度合い(平均、直行=1)",
        "Detour factor, mean (direct = 1)",
        "ratio",
    ),
    (
        "passenger_trips_per_vehicle_hour",
        "1台1時間あたりの乗客数",
        "Passenger trips per vehicle revenue hour",
        "ratio",
    ),
    ("occupancy", "平均乗車人数(人キロ÷車キロ)", "Occupancy (passenger-km / vehicle-km)", "ratio"),
    ("pooling_rate", "相乗りになった割合", "Pooling rate", "share"),
    ("vehicle_hours", "車の運行時間", "Vehicle hours", "hours"),
    ("vehicle_km", "走行距離", "Vehicle kilometres", "km"),
    ("empty_km", "空車の走行距離", "Empty kilometres", "km"),
)

REASONS_JA: dict[str, str] = {
    "no_time_available": "希望の時間帯に空きがない",
    "vehicles_full": "満席",
    "ride_too_long": "乗車時間が長くなりすぎる",
    "outside_vehicle_hours": "車の運行時間外",
    "no_vehicle_in_service": "運行中の車がない",
    "outside_service_hours": "運行時間外の希望",
    "request_invalid": "受け付けできない内容(時刻が近すぎる等)",
    "too_many_passengers": "人数が多すぎる",
    "offer_expired": "提案の期限切れ",
}

STATE_STYLE: dict[State, tuple[str, str]] = {
    State.DRIVE_LOADED: ("お客様を乗せて走行 / driving with riders", "#1b9e77"),
    State.DRIVE_EMPTY: ("空車で走行 / driving empty", "#d95f02"),
    State.SERVE: ("乗り降り / boarding, alighting", "#7570b3"),
    State.WAIT: ("乗降場所で待つ / waiting at a stop", "#e7298a"),
    State.IDLE: ("待機 / idle", "#bbbbbb"),
    State.BREAK: ("休憩 / break", "#66a61e"),
}


def fmt(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "minutes":
        return f"{value / 60:.1f} 分 / min"
    if unit == "hours":
        return f"{value:.1f} 時間 / h"
    if unit == "km":
        return f"{value:,.1f} km"
    if unit == "ratio":
        return f"{value:.2f}"
    return f"{value:,}"


def pyplot() -> Any:
    """matplotlib.pyplot without a display, with the Japanese font (imported when needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib_fontja  # noqa: F401  (sets the Japanese font)

    return plt


def new_figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, Any]:
    """A figure and its axes (one, or a row of ``ncols``)."""
    fig, axes = pyplot().subplots(1, ncols, figsize=(width, height))
    return cast("Figure", fig), axes


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=110)
    pyplot().close(fig)
    return buf.getvalue()


def png_base64(fig: Figure) -> str:
    return base64.b64encode(png_bytes(fig)).decode("ascii")


def demand_figure(by_hour: Sequence[dict[str, Any]]) -> Figure:
    fig, ax = new_figure(9, 4)
    hours = np.array([r["hour"] for r in by_hour])
    served = np.array([r["served"] for r in by_hour])
    rejected = np.array([r["rejected"] for r in by_hour])
    other = np.array([r["requests"] - r["served"] - r["rejected"] for r in by_hour])
    ax.bar(hours, served, color="#1b9e77", label="乗れた / served")
    ax.bar(hours, rejected, bottom=served, color="#d95f02", label="お断り / refused")
    ax.bar(
        hours,
        other,
        bottom=served + rejected,
        color="#bbbbbb",
        label="取消・不在 / cancelled, no-show",
    )
    ax.set_xlabel("希望の時刻(時)/ desired hour of travel")
    ax.set_ylabel("件数 / requests")
    ax.set_xticks(hours)
    ax.set_title("時間帯別の申し込み / Demand by hour")
    ax.legend(frameon=False)
    return fig


def wait_figure(day: DayResult) -> Figure:
    waits = np.array([w for t in day.trips if (w := wait_s(t)) is not None], dtype=float) / 60
    fig, ax = new_figure(9, 4)
    if waits.size:
        ax.hist(waits, bins=np.arange(0, max(waits.max(), 1) + 5, 5), color="#7570b3")
        for value, label, style in (
            (waits.mean(), "平均 / mean", "-"),
            (np.median(waits), "中央値 / median", "--"),
            (np.percentile(waits, 90), "90%", ":"),
        ):
            ax.axvline(value, color="black", linestyle=style, label=f"{label} {value:.0f} 分")
        ax.legend(frameon=False)
    ax.set_xlabel("待ち時間(分)/ wait (minutes) from the wished time to the pickup")
    ax.set_ylabel("人数 / riders")
    ax.set_title("待ち時間の分布 / Wait distribution")
    return fig


def utilisation_figure(day: DayResult, bin_s: int = 600) -> Figure:
    start = min((iv.start_s for iv in day.intervals), default=day.service_start_s)
    end = max((iv.end_s for iv in day.intervals), default=day.service_end_s)
    start, end = start // bin_s * bin_s, -(-end // bin_s) * bin_s
    edges = np.arange(start, end + bin_s, bin_s)
    share = {s: np.zeros(edges.size - 1) for s in State}
    for iv in day.intervals:
        lo = np.maximum(edges[:-1], iv.start_s)
        hi = np.minimum(edges[1:], iv.end_s)
        share[iv.state] += np.clip(hi - lo, 0, None) / bin_s
    fig, ax = new_figure(9, 4)
    mids = (edges[:-1] + edges[1:]) / 2 / 3600
    ax.stackplot(
        mids,
        [share[s] for s in STATE_STYLE],
        labels=[STATE_STYLE[s][0] for s in STATE_STYLE],
        colors=[STATE_STYLE[s][1] for s in STATE_STYLE],
    )
    ax.set_xlabel("時刻 / time of day (h)")
    ax.set_ylabel("台数 / vehicles")
    ax.set_title("車両の一日(10分ごと)/ Fleet utilisation over the day")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    return fig


def map_figure(layer: MapLayer, world: World, day: DayResult) -> Figure:
    from matplotlib.collections import LineCollection

    fig, ax = new_figure(9, 9)
    if layer.background:
        ax.add_collection(LineCollection(layer.background, linewidths=0.4, colors="0.82"))
    if layer.major:
        ax.add_collection(LineCollection(layer.major, linewidths=1.0, colors="0.6"))
    for ring in layer.boundary:
        ax.plot(ring[:, 0], ring[:, 1], color="black", linewidth=1.2)
    for pieces, colour, label in (
        (layer.empty, "#d95f02", "空車 / empty"),
        (layer.loaded, "#1b9e77", "お客様あり / with riders"),
    ):
        if pieces:
            counts = np.array([n for _, n in pieces], dtype=float)
            widths = 0.6 + 3.4 * np.sqrt(counts / counts.max())
            ax.add_collection(
                LineCollection(
                    [p for p, _ in pieces],
                    linewidths=widths,
                    colors=colour,
                    alpha=0.75,
                    label=label,
                )
            )
    boards = np.zeros(world.size)
    for t in day.trips:
        if t.outcome == Outcome.SERVED:
            boards[t.origin] += 1
    used = boards > 0
    ax.scatter(world.x[~used], world.y[~used], s=6, c="0.5", zorder=3)
    size = 8 + 80 * boards[used] / max(float(boards.max()), 1.0)  # area by riders picked up
    ax.scatter(
        world.x[used], world.y[used], s=size, c="#1f78b4",
        edgecolors="white", linewidths=0.5, zorder=4, label="乗車地点(大きさ=人数)/ pickups",
    )  # fmt: skip
    depots = list(world.depots)
    ax.scatter(
        world.x[depots],
        world.y[depots],
        marker="s",
        s=60,
        c="black",
        zorder=5,
        label="車庫 / depot",
    )
    ax.autoscale()
    if layer.boundary:  # the town, not the whole graph around it
        ring = np.vstack(layer.boundary)
        pad = 0.05 * float(np.ptp(ring[:, 1]))
        ax.set_xlim(ring[:, 0].min() - pad, ring[:, 0].max() + pad)
        ax.set_ylim(ring[:, 1].min() - pad, ring[:, 1].max() + pad)
    if layer.geographic:
        mid = float(np.mean(world.y))
        ax.set_aspect(1 / np.cos(np.radians(mid)))
        ax.text(
            0.99, 0.005, OSM_CREDIT, transform=ax.transAxes, ha="right", va="bottom", fontsize=8
        )
    else:
        ax.set_aspect(1)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("運行の地図(線の太さ=通った回数)/ Trips on the road network")
    legend = ax.legend(loc="upper left", frameon=True, fontsize=9)
    for handle in legend.legend_handles:
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([30])
    return fig


def _table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _hindsight_html(h: Hindsight) -> str:
    rows = [
        ("検討した申し込み", "Requests compared", f"{h.requests:,}"),
        (
            "乗れた人: 実際 / 後から見た最善",
            "Served: online / offline",
            f"{h.online_served:,} / {h.offline_served:,}",
        ),
        (
            "走行距離: 実際 / 後から見た最善",
            "Vehicle km: online / offline",
            f"{h.online_km:,.1f} / {h.offline_km:,.1f}",
        ),
        ("乗れた人の比", "Served ratio (online / offline)", fmt(h.served_ratio, "ratio")),
        ("走行距離の比", "Vehicle-km ratio (online / offline)", fmt(h.km_ratio, "ratio")),
        ("1人あたり距離の比", "Km per served trip ratio", fmt(h.km_per_trip_ratio, "ratio")),
        (
            "計算時間",
            "Offline solver time",
            f"{h.seconds:.1f} s (limit {h.time_limit_s:g} s, {h.iterations:,} iterations)",
        ),
    ]
    return (
        "<h2>後から見た最善との比較 <span class=en>Hindsight</span></h2>"
        "<p>同じ日の申し込みを最初から全部知っていたら(静的な最適化、時間制限あり)と比べます。"
        "<span class=en>The same riders solved offline with the static solver (a heuristic under a "
        "time limit), with the windows each rider was offered a search in, and the same vehicle hours and breaks.</span></p>"
        + _table(rows, ("項目", "What", "値 / value"))
    )


def render_report(
    path: Path,
    scenario: Scenario,
    world: World,
    day: DayResult,
    kpis: dict[str, Any],
    by_hour: Sequence[dict[str, Any]],
    layer: MapLayer,
    hindsight: Hindsight | None = None,
) -> Path:
    """Write the HTML report to ``path``."""
    plots = [
        ("時間帯別の利用", "Demand by hour", demand_figure(by_hour)),
        ("待ち時間", "Waiting time", wait_figure(day)),
        ("車両の一日", "Fleet utilisation over the day", utilisation_figure(day)),
        ("運行の地図", "Trips on the map", map_figure(layer, world, day)),
    ]
    kpi_rows = [(ja, en, fmt(kpis.get(key), unit)) for key, ja, en, unit in KPI_ROWS]
    reasons = [
        (REASONS_JA.get(code, code), code, str(n))
        for code, n in kpis["rejections_by_reason"].items()
    ]
    day_ja = "平日" if scenario.day == "weekday" else "土日祝"
    hours = f"{clock_text(scenario.service_start_s)}–{clock_text(scenario.service_end_s)}"
    sections = [
        f"<h1>{html.escape(scenario.title_ja)}</h1>",
        f"<p class=en>{html.escape(scenario.title_en)}</p>",
        "<p>"
        f"シナリオ {html.escape(scenario.name)}・{day_ja} {hours}・車 {day.vehicles} 台・乱数の種 {day.seed}"
        f"<br><span class=en>Scenario {html.escape(scenario.name)}, {scenario.day} {hours}, "
        f"{day.vehicles} vehicles, seed {day.seed}; simulated with the live dispatcher "
        f"({day.events:,} events in {day.wall_s:.1f} s).</span></p>",
        "<h2>主な数字 <span class=en>Key figures</span></h2>",
        _table(kpi_rows, ("項目", "What", "値 / value")),
    ]
    if reasons:
        sections += [
            "<h2>お断りの理由 <span class=en>Refusals by reason</span></h2>",
            _table(reasons, ("理由", "code", "件数 / count")),
        ]
    for ja, en, fig in plots:
        sections.append(
            f"<h2>{ja} <span class=en>{en}</span></h2>"
            f'<img alt="{html.escape(en)}" src="data:image/png;base64,{png_base64(fig)}">'
        )
    if hindsight is not None:
        sections.append(_hindsight_html(hindsight))
    sections.append(
        "<h2>この計算について <span class=en>About this simulation</span></h2><ul>"
        "<li>申し込みは乱数で作った想定です(実績ではありません)。<span class=en>Riders are "
        "generated from assumptions, not from records.</span></li>"
        "<li>配車は実際の運行と同じプログラムが決めています。<span class=en>Every offer and "
        "plan comes from the same dispatch engine as the live service.</span></li>"
        "<li>詳しくは docs/simulation.md をご覧ください。<span class=en>Definitions and "
        "assumptions: docs/simulation.md.</span></li></ul>"
    )
    credit = (
        OSM_CREDIT if layer.geographic else "架空の街(地図データなし)/ synthetic city, no map data"
    )
    page = f"""<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(scenario.title_ja)} – シミュレーション結果</title>
<style>
body {{ font-family: "Hiragino Sans", "Yu Gothic", Meiryo, "Noto Sans JP", IPAexGothic, sans-serif;
       font-size: 18px;
       line-height: 1.6; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #111; }}
h1 {{ font-size: 1.8em; margin-bottom: 0; }} h2 {{ margin-top: 1.6em; border-bottom: 2px solid #1b9e77; }}
.en {{ color: #555; font-size: 0.85em; }} table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }}
td:last-child {{ text-align: right; white-space: nowrap; font-weight: bold; }}
img {{ max-width: 100%; }} footer {{ margin-top: 2em; font-size: 0.8em; color: #555; }}
</style></head><body>
{"".join(sections)}
<footer>{html.escape(credit)}</footer>
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
