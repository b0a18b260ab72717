"""A simulated day's files: kpis.json, kpis_by_hour.csv and trips.csv."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.records import DayResult


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """Rows with the same keys as one CSV file (UTF-8 with a BOM, so Excel reads Japanese)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        if rows:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_day(
    out: Path, day: DayResult, kpis: dict[str, Any], by_hour: Sequence[dict[str, Any]]
) -> list[Path]:
    """The three data files of a day into ``out``."""
    return [
        write_json(out / "kpis.json", kpis),
        write_csv(out / "kpis_by_hour.csv", by_hour),
        write_csv(out / "trips.csv", [t.row() for t in day.trips]),
    ]
