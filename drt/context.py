"""What every command needs: settings, the area, and (lazily) the router and meeting points."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from common.settings import Settings, load_settings
from drt.output import steps
from routing import load_router
from routing.build import cache_path
from routing.config import AreaConfig, load_area
from routing.router import Router
from routing.stops import MeetingPointSet, load_stops, stop_nodes

BUILD_STEPS = 6


@dataclass
class AppContext:
    settings: Settings
    area_path: Path
    _area: AreaConfig | None = None
    _router: Router | None = None
    _stops: MeetingPointSet | None = None
    _stop_nodes: list[int] = field(default_factory=list)

    @classmethod
    def create(cls, area: Path | None) -> AppContext:
        settings = load_settings()
        return cls(settings=settings, area_path=area or settings.area)

    @property
    def area(self) -> AreaConfig:
        if self._area is None:
            self._area = load_area(self.area_path)
        return self._area

    def router(self, *, rebuild: bool = False, quiet: bool = False) -> tuple[Router, bool]:
        """The router, building the graph (with a progress bar) when the cache is cold."""
        if self._router is None or rebuild:
            cold = rebuild or not cache_path(self.area, self.settings.cache_dir).is_file()
            with steps(BUILD_STEPS, quiet=quiet or not cold) as step:
                self._router, cached = load_router(
                    self.area, self.settings.cache_dir, rebuild=rebuild, step=step
                )
            return self._router, cached
        return self._router, True

    def stops(self) -> MeetingPointSet:
        if self._stops is None:
            self._stops = load_stops(self.area.meeting_points)
        return self._stops

    def stop_nodes(self) -> list[int]:
        if not self._stop_nodes:
            router, _ = self.router(quiet=True)
            self._stop_nodes = stop_nodes(router, self.stops())
        return self._stop_nodes
