"""`drt bench promises`: how well offers are kept under travel-time noise, by service setting.

Each scenario is simulated for each seed, once with the shipped settings and once per
``--variant``: ``key=value`` pairs separated by ``;``, where a key is a service parameter
(``dispatch.params.ServiceParams``, e.g. ``asap_wait_stages_s=600,1200``) or an operations
setting of the scenario (``sim.scenario.OperationsSpec``, e.g. ``peak_traffic=false``).
The table gives, averaged over the seeds (with the worst seed where it matters): the served
share, the shares of served riders picked up inside their promised window and dropped off by
the promised time, and the mean wait of "as soon as possible" riders.
"""

from __future__ import annotations

import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import typer

from common.errors import ConfigError
from dispatch.params import ServiceParams
from drt.bench import _loadavg, machine, write_section
from drt.context import AppContext
from drt.output import FORMAT_OPTION, Format, handles_errors, print_json, print_table
from drt.sim_cli import _scenario, service_params, world_for
from sim.scenario import OperationsSpec, Scenario

SHOWN = ("served_share", "on_time_pickup_share", "on_time_dropoff_share", "asap_wait_mean_s")


def _value(text: str, like: Any) -> Any:
    if isinstance(like, tuple):
        return tuple(int(x) for x in text.split(",") if x.strip())
    if isinstance(like, bool):
        return text.lower() in ("1", "true", "yes")
    return type(like)(text)


def apply_variant(
    variant: str, scenario: Scenario, params: ServiceParams
) -> tuple[Scenario, ServiceParams]:
    """The scenario and parameters with ``key=value;…`` applied (see the module docstring)."""
    service = {f.name for f in fields(ServiceParams)}
    operations = {f.name for f in fields(OperationsSpec)}
    for part in (p.strip() for p in variant.split(";")):
        if not part:
            continue
        key, sep, text = (x.strip() for x in part.partition("="))
        if not sep:
            raise ConfigError(f"設定は key=value で書いてください: {part}",
                              f"Write each setting as key=value: {part}")  # fmt: skip
        if key in service:
            params = replace(params, **{key: _value(text, getattr(params, key))})
        elif key in operations:
            ops = replace(
                scenario.operations, **{key: _value(text, getattr(scenario.operations, key))}
            )
            scenario = replace(scenario, operations=ops)
        else:
            raise ConfigError(f"不明な設定です: {key}", f"Unknown setting: {key}", key=key)
    return scenario, params


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": len(rows)}
    for key in SHOWN:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
        out[f"{key}_min"] = min(values) if values else None
        out[f"{key}_max"] = max(values) if values else None
    out["served"] = sum(r["served"] for r in rows)
    out["pickups_late"] = sum(r["pickups_late"] for r in rows)
    out["dropoffs_late"] = sum(r["dropoffs_late"] for r in rows)
    out["wall_s"] = round(sum(r["wall_s"] for r in rows), 1)
    return out


@handles_errors
def promises(
    typer_ctx: typer.Context,
    scenarios: str = typer.Option("kurate-today,kurate-2028", help="scenario names"),
    seeds: str = typer.Option("1,2,3,4,5", help="seeds, comma-separated"),
    variant: list[str] = typer.Option([], help="settings to compare, key=value;… (repeatable)"),
    workers: int = typer.Option(2, help="simulations run side by side"),
    write: Path | None = typer.Option(None, help="write the table into this markdown file"),
    label: str = typer.Option("promises", help="section name in the --write file"),
    fmt: Format = FORMAT_OPTION,
) -> None:
    """Offers kept under travel-time noise: served share, on-time shares, ASAP wait."""
    from sim.sweep import SweepJob, run_sweep

    ctx: AppContext = typer_ctx.obj
    names = [n.strip() for n in scenarios.split(",") if n.strip()]
    seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    variants = ["", *variant]
    base = service_params(ctx)
    jobs, keys = [], []
    for name in names:
        sc = _scenario(ctx, name, None)
        world = world_for(ctx, sc, quiet=True)
        for v in variants:
            vsc, vparams = apply_variant(
                v, sc, sc.service_params(base)
            )  # the town's, then the variant's
            for seed in seed_list:
                jobs.append(SweepJob(vsc, world, vparams, vsc.vehicle_count, seed))
                keys.append((name, v))
    started = time.monotonic()
    before = _loadavg()
    results = run_sweep(jobs, workers=workers)
    rows = []
    for name in names:
        for v in variants:
            mine = [r for r, k in zip(results, keys, strict=True) if k == (name, v)]
            rows.append({"scenario": name, "variant": v or "(shipped)", **_summary(mine)})
    result = {"machine": machine(), "rows": rows, "seeds": seed_list, "load_before": before,
              "load_after": _loadavg(), "wall_s": round(time.monotonic() - started, 1)}  # fmt: skip
    if write is not None:
        write_section(write, label, _markdown(result, scenarios, seeds, variant))
    if fmt == Format.json:
        print_json(result)
        return
    print_table(
        "promises under travel-time noise (mean over seeds)",
        ["scenario", "variant", "served", "on-time pickup", "on-time drop-off", "ASAP wait min"],
        [(r["scenario"], r["variant"], _pct(r["served_share"]), _pct(r["on_time_pickup_share"]),
          _pct(r["on_time_dropoff_share"]), _min(r["asap_wait_mean_s"])) for r in rows],
    )  # fmt: skip


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def _min(x: float | None) -> str:
    return "–" if x is None else f"{x / 60:.1f}"


def _markdown(r: dict[str, Any], scenarios: str, seeds: str, variants: list[str]) -> str:
    m = r["machine"]
    flags = "".join(f' --variant "{v}"' for v in variants)
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, with "
        f"`drt bench promises --scenarios {scenarios} --seeds {seeds}{flags}` ({r['wall_s']} s; "
        f"load average before {r['load_before']}, after {r['load_after']}). Each row: every "
        "seed simulated with the scenario's own travel-time noise; shares are means over the "
        "seeds (worst seed in brackets), late counts are totals.",
        "",
        "| scenario | settings | served share | picked up in the window | dropped off by the "
        "promised time | late pickups / drop-offs | mean ASAP wait |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(
            f"| {row['scenario']} | `{row['variant']}` | {_pct(row['served_share'])} | "
            f"{_pct(row['on_time_pickup_share'])} ({_pct(row['on_time_pickup_share_min'])}) | "
            f"{_pct(row['on_time_dropoff_share'])} ({_pct(row['on_time_dropoff_share_min'])}) | "
            f"{row['pickups_late']} / {row['dropoffs_late']} of {row['served']} | "
            f"{_min(row['asap_wait_mean_s'])} min |"
        )
    return "\n".join(lines) + "\n"
