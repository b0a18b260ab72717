"""`drt guide pdf OUT.pdf`: the residents' printable guide, A4 in large type: hours, fares,
how to book, the town's map of meeting points and a small map for each 大字 with its points.

The content is the public guide (``core.guide``): from a running service (``--url``, the
live meeting points and closures, through ``GET /v1/guide``) or from the area's own files.
Fonts: IPAexGothic from matplotlib-fontja, embedded as TrueType (the text stays searchable);
the maps are drawn from our own OpenStreetMap data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx
import typer

from drt.context import AppContext
from drt.output import console, handles_errors

app = typer.Typer(help="The residents' guide: `drt guide pdf OUT.pdf`.", no_args_is_help=True)
A4 = (8.27, 11.69)  # inches
PER_PAGE = 2  # districts per page after the overview


def guide_data(ctx: AppContext, url: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the guide, the road lines): from a running service, or from the area's files."""
    if url:
        base = url.rstrip("/")
        guide = httpx.get(f"{base}/v1/guide", timeout=30).raise_for_status().json()
        roads = httpx.get(f"{base}/v1/guide/roads", timeout=60).raise_for_status().json()
        return guide, roads
    from core.guide import guide as build
    from core.world import World

    router, _ = ctx.router(quiet=True)
    world = World.build(ctx.area, router)
    return build(world).model_dump(mode="json"), world.road_lines()


def _map(ax: Any, roads: dict[str, Any], points: list[dict[str, Any]], numbered: bool) -> None:
    from matplotlib.collections import LineCollection

    lats = [p["lat"] for p in points]
    lons = [p["lon"] for p in points]
    s, w, n, e = roads["bbox"] if len(points) > 40 else (min(lats), min(lons), max(lats), max(lons))
    pad = max(n - s, e - w, 0.006) * 0.15
    s, w, n, e = s - pad, w - pad, n + pad, e + pad
    k = math.cos(math.radians((s + n) / 2))
    segs = []
    for line in roads["lines"]:
        pts = [(line[i + 1] * k, line[i]) for i in range(0, len(line), 2)]
        if any(
            w - pad <= x / k <= e + pad and s - pad <= y <= n + pad
            for x, y in pts[:: max(1, len(pts) // 4)]
        ):
            segs.append(pts)
    ax.add_collection(LineCollection(segs, colors="#bdbdb4", linewidths=0.6))
    colour = ["#b00020" if p.get("closed_note") else "#0b5cad" for p in points]
    ax.scatter([x * k for x in lons], lats, s=28 if numbered else 10, c=colour, zorder=3)
    if numbered:
        for i, p in enumerate(points, 1):
            ax.annotate(
                str(i),
                (p["lon"] * k, p["lat"]),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=9,
            )
    ax.set_xlim(w * k, e * k)
    ax.set_ylim(s, n)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def render(guide: dict[str, Any], roads: dict[str, Any], out: Path) -> int:
    """Write the PDF; the number of pages."""
    from matplotlib.backends.backend_pdf import PdfPages

    from sim.report import pyplot

    plt = pyplot()
    plt.rcParams["pdf.fonttype"] = 42  # TrueType: searchable, copyable text
    pages = 0
    with PdfPages(out) as pdf:
        fig = plt.figure(figsize=A4)
        y = 0.95

        def line(text: str, size: int = 16, gap: float = 0.035, weight: str = "normal") -> None:
            nonlocal y
            fig.text(0.08, y, text, fontsize=size, weight=weight, va="top")
            y -= gap

        line(f"{guide['service']} ご利用案内", 28, 0.07)
        line("走る日と時間", 20, 0.045)
        for h in guide["hours"]:
            line(f"  {h['days']}  {h['opens']}〜{h['closes']}", 18)
        if guide["closed_days"]:
            line(f"  お休み: {'、'.join(guide['closed_days'])}", 14, 0.05)
        line("運賃(1回の乗車)", 20, 0.045)
        for f in guide["fares"]:
            line(f"  {f['who']}  {str(f['yen']) + '円' if f['yen'] else '無料'}", 18)
        y -= 0.015
        line("予約のしかた", 20, 0.045)
        line(f"  電話: {guide['phone']}", 24, 0.05)
        line("  乗る場所・降りる場所・時刻を伝えてください。", 16)
        line("  LINE: 町の公式LINEの「予約する」から。", 16)
        line(
            f"  予約は{guide['book_ahead_days']}日先まで。取り消しはお迎えの{guide['cancel_before_min']}分前まで",
            16,
        )
        line("  (それより後はお電話で)。", 16)
        fig.text(0.08, 0.04, guide["attribution"], fontsize=9)
        pdf.savefig(fig)
        plt.close(fig)
        pages += 1

        every = [p for d in guide["districts"] for p in d["points"]]
        fig = plt.figure(figsize=A4)
        fig.text(0.08, 0.96, "乗り降りの場所(町全体)", fontsize=22, va="top")
        _map(fig.add_axes((0.05, 0.08, 0.9, 0.82)), roads, every, numbered=False)
        fig.text(0.08, 0.04, guide["attribution"] + "  赤: いまは使えない場所", fontsize=9)
        pdf.savefig(fig)
        plt.close(fig)
        pages += 1

        districts = guide["districts"]
        for start in range(0, len(districts), PER_PAGE):
            fig = plt.figure(figsize=A4)
            for slot, d in enumerate(districts[start : start + PER_PAGE]):
                top = 0.97 - slot * 0.49
                fig.text(0.06, top, d["name"], fontsize=20, va="top")
                _map(fig.add_axes((0.04, top - 0.44, 0.5, 0.4)), roads, d["points"], numbered=True)
                for i, p in enumerate(d["points"][:18], 1):
                    note = "(いまは使えません)" if p.get("closed_note") else ""
                    fig.text(
                        0.57,
                        top - 0.04 - 0.022 * i,
                        f"{i}. {p['name']}{note}",
                        fontsize=10,
                        va="top",
                    )
                if len(d["points"]) > 18:
                    fig.text(
                        0.57,
                        top - 0.04 - 0.022 * 19,
                        f"ほか {len(d['points']) - 18} か所",
                        fontsize=10,
                        va="top",
                    )
            fig.text(0.06, 0.015, guide["attribution"], fontsize=8)
            pdf.savefig(fig)
            plt.close(fig)
            pages += 1
    return pages


@app.command("pdf")
@handles_errors
def pdf(
    typer_ctx: typer.Context,
    out: Path = typer.Argument(..., help="the PDF to write"),
    url: str | None = typer.Option(
        None, help="a running service (live meeting points), e.g. http://127.0.0.1:8000"
    ),
) -> None:
    """Write the printable guide (A4, large type) for residents."""
    ctx: AppContext = typer_ctx.obj
    guide, roads = guide_data(ctx, url)
    pages = render(guide, roads, out)
    console.print(
        f"{out}: {pages} pages, {sum(len(d['points']) for d in guide['districts'])} meeting points"
    )
