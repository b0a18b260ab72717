"""The driver side runs in the booking service's app: reuse its fixtures."""

from tests.booking.conftest import graph_dir, svc, world  # noqa: F401
