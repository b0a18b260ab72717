"""`drt bench faq`: how well each retrieval method answers the held-out phrasings.

The ground truth is `benchmarks/faq/<area>-heldout.yaml`: questions written the way older
residents type, each labelled with the entry of the area's `faq.yaml` that should answer it
or `none` (the bot should not answer). For every method of `town.faq.METHODS`:

- *top-1*: of the answerable questions, how many have the right entry ranked first;
- at a threshold (below it, no answer): *answered right* (right entry, at or above the
  threshold), *refused right* (a `none` question below it), and *overall* (both, over all
  questions);
- the threshold with the best overall accuracy on the whole set (optimistic: chosen on the
  figures it reports), and a two-fold estimate that is not (the threshold chosen on one half,
  counted on the other, both ways);
- the figures at the threshold shipped in `town.faq.THRESHOLDS`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
import yaml

from drt.bench import machine, write_section
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, handles_errors, print_json, print_table
from town.faq import DEFAULT_METHOD, METHODS, THRESHOLDS, Entry, Faq, area_file, parse_file

TRUTH_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "faq"
GRID = [round(0.05 + 0.01 * i, 2) for i in range(91)]  # thresholds tried: 0.05 .. 0.95


def load_cases(path: Path) -> list[tuple[str, str]]:
    """(question, expected entry id or "none") of a held-out file."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(c["q"]), str(c["expect"])) for c in doc["cases"]]


def _counts(ranked: list[tuple[str, str, float]], cases: list[tuple[str, str]],
            threshold: float) -> dict[str, int]:  # fmt: skip
    answered = refused = 0
    for (top, _q, score), (_, expect) in zip(ranked, cases, strict=True):
        if expect == "none":
            refused += score < threshold
        else:
            answered += top == expect and score >= threshold
    return {"answered_right": answered, "refused_right": refused, "right": answered + refused}


def _best(ranked: list[tuple[str, str, float]], cases: list[tuple[str, str]]) -> float:
    """The threshold with the most right; of a plateau of equals, its middle."""
    scores = [_counts(ranked, cases, t)["right"] for t in GRID]
    top = max(scores)
    plateau = [t for t, s in zip(GRID, scores, strict=True) if s == top]
    return plateau[len(plateau) // 2]


def measure(entries: tuple[Entry, ...], cases: list[tuple[str, str]]) -> dict[str, Any]:
    known = {e.id for e in entries}
    unknown = sorted({x for _, x in cases if x != "none" and x not in known})
    if unknown:
        raise typer.BadParameter(f"held-out cases name entries not in the file: {unknown}")
    answerable = sum(1 for _, x in cases if x != "none")
    nones = len(cases) - answerable
    rows = []
    for method in METHODS:
        faq = Faq(entries, method)
        started = time.perf_counter()
        ranked = []
        for q, _ in cases:
            entry, score = faq.ranked(q)[0]
            ranked.append((entry.id, q, score))
        ms = (time.perf_counter() - started) * 1000 / len(cases)
        top1 = sum(1 for (top, _, _), (_, x) in zip(ranked, cases, strict=True) if top == x)
        best_t = _best(ranked, cases)
        halves = [list(range(0, len(cases), 2)), list(range(1, len(cases), 2))]
        cv_right = 0
        for fit, held in (halves, halves[::-1]):
            t = _best([ranked[i] for i in fit], [cases[i] for i in fit])
            cv_right += _counts([ranked[i] for i in held], [cases[i] for i in held], t)["right"]
        shipped = THRESHOLDS[method]
        wrong = [{"q": q, "got": top, "score": round(s, 3), "expect": x}
                 for (top, q, s), (_, x) in zip(ranked, cases, strict=True)
                 if (x == "none") != (s < shipped) or (x != "none" and top != x)]  # fmt: skip
        rows.append({
            "method": method, "default": method == DEFAULT_METHOD, "top1": top1,
            "best_threshold": best_t, "at_best": _counts(ranked, cases, best_t),
            "two_fold_right": cv_right, "shipped_threshold": shipped,
            "at_shipped": _counts(ranked, cases, shipped), "ms_per_question": round(ms, 2),
            "wrong_at_shipped": wrong,
        })  # fmt: skip
    return {"entries": len(entries), "cases": len(cases), "answerable": answerable,
            "none": nones, "rows": rows}  # fmt: skip


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.1f} %)" if d else "-"


def _markdown(r: dict[str, Any]) -> str:
    m = r["machine"]
    a, n, c = r["answerable"], r["none"], r["cases"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} by `drt bench faq --write docs/benchmarks.md`: "
        f"the {r['entries']} entries of `{r['file']}` against the {c} held-out phrasings of "
        f"`{r['truth']}` ({a} with an entry that should answer, {n} that should get no "
        "answer). *Top-1*: the right entry ranked first. At a threshold: *answered right* "
        "(right entry, scoring at least the threshold), *refused right* (a no-answer question "
        "below it), *overall* (both). *Best threshold* is chosen on this same set (so its "
        "figure is optimistic); *two-fold* chooses it on every other question and counts the "
        "rest, both ways (an honest estimate). *Shipped*: `town.faq.THRESHOLDS`; the default "
        "method is marked **bold**.",
        "",
        "| method | top-1 | best threshold | overall there | two-fold overall "
        "| shipped threshold | answered right | refused right | overall | ms / question |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        name = f"**{row['method']}**" if row["default"] else row["method"]
        s = row["at_shipped"]
        lines.append(
            f"| {name} | {_pct(row['top1'], a)} | {row['best_threshold']:.2f} | "
            f"{_pct(row['at_best']['right'], c)} | {_pct(row['two_fold_right'], c)} | "
            f"{row['shipped_threshold']:.2f} | {_pct(s['answered_right'], a)} | "
            f"{_pct(s['refused_right'], n)} | {_pct(s['right'], c)} | {row['ms_per_question']} |"
        )
    default = next(row for row in r["rows"] if row["default"])
    if default["wrong_at_shipped"]:
        lines += ["", f"Wrong with the default ({default['method']}, threshold "
                      f"{default['shipped_threshold']:.2f}):", ""]  # fmt: skip
        for w in default["wrong_at_shipped"]:
            lines.append(f"- 「{w['q']}」: {w['got']} ({w['score']:.2f}), expected {w['expect']}")
    return "\n".join(lines) + "\n"


@handles_errors
def faq(
    typer_ctx: typer.Context,
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    cases: Path | None = typer.Option(None, help="a held-out file (default: the area's)"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """FAQ retrieval methods against held-out phrasings: top-1, refusals, overall."""
    ctx: AppContext = typer_ctx.obj
    area_dir = ctx.area.source.parent
    path = area_file(area_dir)
    if path is None:
        raise typer.BadParameter(f"no faq.yaml in {area_dir}")
    truth = cases or TRUTH_DIR / f"{ctx.area.name_en.lower()}-heldout.yaml"
    root = TRUTH_DIR.parent.parent
    result = {"machine": machine(), "file": str(path.relative_to(root)) if path.is_relative_to(root)
              else str(path), "truth": str(truth.relative_to(root)) if truth.is_relative_to(root)
              else str(truth), **measure(parse_file(path), load_cases(truth))}  # fmt: skip
    if write is not None:
        write_section(write, "faq", _markdown(result))
    if fmt == Format.json:
        print_json(result)
        return
    a, n, c = result["answerable"], result["none"], result["cases"]
    print_table(
        f"FAQ: {c} held-out questions ({a} answerable, {n} none)",
        ["method", "top-1", "best t", "overall@best", "two-fold", "shipped t", "answered",
         "refused", "overall"],
        [(("* " if r["default"] else "") + r["method"], _pct(r["top1"], a),
          f"{r['best_threshold']:.2f}", _pct(r["at_best"]["right"], c),
          _pct(r["two_fold_right"], c), f"{r['shipped_threshold']:.2f}",
          _pct(r["at_shipped"]["answered_right"], a), _pct(r["at_shipped"]["refused_right"], n),
          _pct(r["at_shipped"]["right"], c)) for r in result["rows"]],
    )  # fmt: skip
