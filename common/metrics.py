"""Prometheus metrics of the service: one place that names them all (served at ``/metrics``).

Under ``drt serve --workers N`` every worker is its own process: ``drt serve`` points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder before the workers start, each worker writes its
samples there, and ``/metrics`` (whichever worker answers) reads them all. Without it (tests,
``drt demo``: one process) the samples live in the process.

Labels are few and bounded: a route's template (never a path with ids), a status code, an
outcome or a refusal code, a vehicle count; never a person, a phone or a token.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "drt_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "drt_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
QUOTES = Counter(
    "drt_quotes_total",
    "Quotes by outcome (offer, alternatives, refused) and the refusal's code",
    ["outcome", "reason"],
)
TURN_SECONDS = Histogram(
    "drt_writer_turn_seconds",
    "Time a writer turn held the area's lock (use cases, log, commit)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOCK_WAIT_SECONDS = Histogram(
    "drt_writer_lock_wait_seconds",
    "Time a writer turn waited for the area's lock",
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0),
)
REPLICA_SEQ = Gauge(
    "drt_replica_seq",
    "The last dispatch log entry this worker's replica has applied",
    multiprocess_mode="all",  # one series per worker (label pid); a replaced worker's stays
)
LOG_HEAD_SEQ = Gauge(
    "drt_log_head_seq",
    "The newest committed dispatch log entry, as last seen by a worker",
    multiprocess_mode="max",
)
VEHICLES_BEHIND = Gauge(
    "drt_vehicles_behind",
    "Vehicles whose plan the road has overtaken (re-timed in the last writer turn)",
    multiprocess_mode="mostrecent",
)
RIDERS_AT_RISK = Gauge(
    "drt_riders_at_risk",
    "Riders whose promise a late vehicle could not keep (told, widened) in the last re-timing",
    multiprocess_mode="mostrecent",
)
LINE_PUSHES = Counter("drt_line_pushes_total", "LINE pushes by result (sent, failed)", ["result"])


def exposition() -> tuple[bytes, str]:
    """The text format of every metric (all workers' under multiprocess mode), its type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
