"""`drt bench readings`: how well each reading library reads the town's meeting-point names.

The ground truth is `benchmarks/readings/<area>.toml` (see its header for where each reading
comes from). Each library is measured twice: on the whole name, and as the service uses it
(`routing.readings.Reader`: the area's own words and the name template's words first, the
library for the rest). A library that is not installed is reported as such; install the
`readings-bench` extra to measure them all.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import typer

from common.japanese import hiragana
from drt.bench import machine, write_section
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, handles_errors, print_json, print_table
from routing.readings import (
    Backend,
    Reader,
    same_reading,
    sudachi_reading,
    true_reading,
)

TRUTH_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "readings"


def _pykakasi() -> Backend:
    import pykakasi  # GPL-3.0-or-later: measured here only

    kks = cast(Any, pykakasi).kakasi()  # untyped where installed, absent (Any) where not
    return lambda text: "".join(str(x["hira"]) for x in kks.convert(text))


def _unidic() -> Backend:
    import fugashi  # with unidic-lite, the dictionary cutlet uses

    tagger = fugashi.Tagger()

    def read(text: str) -> str:
        out = []
        for w in tagger(text):
            kana = getattr(w.feature, "kana", None)
            symbol = w.feature.pos1 in ("補助記号", "記号") or w.surface.isdigit()
            out.append(w.surface if symbol or not kana or kana == "*" else kana)
        return hiragana("".join(out))

    return read


LIBRARIES: dict[str, tuple[str, Callable[[], Backend]]] = {
    "sudachipy (core dictionary)": ("Apache-2.0", lambda: sudachi_reading),
    "pykakasi": ("GPL-3.0-or-later", _pykakasi),
    "fugashi + unidic-lite": ("MIT / BSD", _unidic),
}


def measure(names: list[str], truth_file: Path, local: dict[str, str]) -> dict[str, Any]:
    truth = tomllib.loads(truth_file.read_text(encoding="utf-8"))
    words = {**truth.get("district", {}), **truth.get("words", {})}
    unknown = truth.get("unknown", {}).get("words", [])
    cases = {}
    for name in names:
        if any(u in name for u in unknown):
            continue
        reading = true_reading(name, words)
        if reading is None:
            raise typer.BadParameter(f"no ground truth for a part of 「{name}」 in {truth_file}")
        cases[name] = reading
    rows = []
    for library, (licence, load) in LIBRARIES.items():
        try:
            backend = load()
        except ImportError:
            rows.append({"library": library, "licence": licence, "installed": False})
            continue
        reader = Reader(local, backend)
        row: dict[str, Any] = {"library": library, "licence": licence, "installed": True}
        for mode, read in (("whole", backend), ("service", reader.hiragana)):
            started = time.perf_counter()
            wrong = [(n, read(n), r) for n, r in cases.items() if not same_reading(read(n), r)]
            row[mode] = {
                "right": len(cases) - len(wrong),
                "share": round((len(cases) - len(wrong)) / len(cases), 4),
                "ms_per_name": round((time.perf_counter() - started) * 1000 / len(cases), 3),
                "wrong": [{"name": n, "read": g, "truth": r} for n, g, r in wrong],
            }
        rows.append(row)
    return {"names": len(names), "measured": len(cases), "left_out": len(names) - len(cases),
            "truth": str(truth_file.relative_to(TRUTH_DIR.parent.parent)), "rows": rows}  # fmt: skip


def _markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} by `drt bench readings`: the {r['measured']} of "
        f"{r['names']} meeting-point names that have a ground truth ({r['left_out']} left out: a "
        f"shop's own name nobody has read for us), against `{r['truth']}`. *Whole*: the library "
        "reads the whole name. *Service*: as `routing.readings.Reader` reads it, the area's "
        "own words (`[stops.readings]`) and the name template's words first. A name counts "
        "as right only if every kana is right.",
        "",
        "| library | licence | whole name | as the service reads |",
        "|---|---|---|---|",
    ]
    for row in r["rows"]:
        if not row["installed"]:
            lines.append(f"| {row['library']} | {row['licence']} | not installed | |")
            continue
        w, s = row["whole"], row["service"]
        lines.append(
            f"| {row['library']} | {row['licence']} | {w['right']} ({100 * w['share']:.1f} %) "
            f"| {s['right']} ({100 * s['share']:.1f} %) |"
        )
    lines.append("")
    for row in r["rows"]:
        if row["installed"] and row["service"]["wrong"]:
            shown = ", ".join(
                f"「{x['name']}」 {x['read']} (truth {x['truth']})"
                for x in row["service"]["wrong"][:3]
            )
            lines.append(f"- {row['library']}, as the service reads, wrong: {shown}")
    return "\n".join(lines) + "\n"


@handles_errors
def readings(
    typer_ctx: typer.Context,
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Reading libraries against the ground truth of the town's meeting-point names."""
    ctx: AppContext = typer_ctx.obj
    truth_file = TRUTH_DIR / f"{ctx.area.name_en.lower()}.toml"
    names = [p.name for p in ctx.stops().points]
    result = {"machine": machine(), **measure(names, truth_file, ctx.area.stops.readings)}
    if write is not None:
        write_section(write, "readings", _markdown(result))
    if fmt == Format.json:
        print_json(result)
        return
    print_table(
        f"readings of {result['measured']} meeting-point names",
        ["library", "licence", "whole name", "as the service reads"],
        [(r["library"], r["licence"],
          f"{100 * r['whole']['share']:.1f} %" if r["installed"] else "not installed",
          f"{100 * r['service']['share']:.1f} %" if r["installed"] else "")
         for r in result["rows"]],
    )  # fmt: skip
