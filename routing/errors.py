"""Domain errors of the routing core. Front ends render them through ``DrtError.to_dict``."""

from __future__ import annotations

from common.errors import DrtError


class OutsideServiceArea(DrtError):
    code = "outside_service_area"
    http_status = 422


class TooFarFromRoad(DrtError):
    code = "too_far_from_road"
    http_status = 422


class UnknownLocation(DrtError):
    code = "unknown_location"
    http_status = 404
