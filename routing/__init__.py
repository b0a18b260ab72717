"""Road graph, travel times and meeting points for a service area (pure: no web, no database)."""

from __future__ import annotations

from pathlib import Path

from routing.area import ServiceArea
from routing.build import Step, load_or_build
from routing.config import AreaConfig
from routing.router import Router


def load_router(
    area_cfg: AreaConfig, cache_dir: Path, *, rebuild: bool = False, step: Step | None = None
) -> tuple[Router, bool]:
    """The area's router, from the on-disk cache when possible. Returns (router, from_cache)."""
    area = ServiceArea.from_file(
        area_cfg.boundary, area_cfg.name, area_cfg.routing.service_margin_m
    )
    graph, cached = load_or_build(area_cfg, area, cache_dir, rebuild=rebuild, step=step)
    return Router(graph, area, area_cfg.routing), cached
