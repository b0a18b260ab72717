# syntax=docker/dockerfile:1
# The Kurate DRT booking service: `drt serve` on PostgreSQL and Redis.
#
#   docker build -t kurate-drt .          (docker-compose.yml builds it for you)
#
# How to run it, configure it and upgrade it: docs/operations.md. The commands below are
# checked against the CLI by tests/server/test_compose.py; no browser is installed (Chromium
# is for the tests only).

# -- build: the exact versions of requirements-runtime.lock (the service's dependencies, no test
# or lint tools), then the project itself, in /opt/venv -------------------------------------
FROM python:3.11-slim-bookworm AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# the lockfile first: its layer stays cached while only the code changes
COPY requirements-runtime.lock ./
RUN pip install --no-deps -r requirements-runtime.lock

COPY pyproject.toml README.md ./
COPY common/ common/
COPY routing/ routing/
COPY dispatch/ dispatch/
COPY residents/ residents/
COPY core/ core/
COPY town/ town/
COPY booking/ booking/
COPY driver_app_api/ driver_app_api/
COPY line_channel/ line_channel/
COPY server/ server/
COPY sim/ sim/
COPY loadtests/ loadtests/
COPY drt/ drt/
# not editable: the code, its pages and migrations live in the venv (pyproject's package-data)
RUN pip install --no-deps . && pip check

# -- run: the venv, the area files and a non-root user; nothing else -------------------------
FROM python:3.11-slim-bookworm

RUN groupadd --system --gid 10001 drt \
    && useradd --system --uid 10001 --gid drt --home-dir /home/drt --create-home \
        --shell /usr/sbin/nologin drt \
    && install -d -o drt -g drt -m 0750 /var/cache/drt

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# the town: area file, OSM extract, meeting points, service promises (read-only for the service;
# mount your own folder over /app/areas to serve another town, see docs/operations.md)
COPY areas/ areas/

# DRT_* are the service's settings (common/settings.py); DRT_WORKERS is read by the CMD below.
# The cache (road graph, numba's compiled kernels, metrics of the workers) is the one
# folder the service writes: docker-compose.yml keeps it in a volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DRT_AREA=/app/areas/kurate/area.toml \
    DRT_CACHE_DIR=/var/cache/drt \
    NUMBA_CACHE_DIR=/var/cache/drt/numba \
    MPLCONFIGDIR=/var/cache/drt/matplotlib \
    DRT_WORKERS=2

USER drt:drt
# compile the road graph once, into the image: the first start does not wait for it
RUN drt routing build

EXPOSE 8000
# alive (the process answers); docker-compose.yml checks readiness on /readyz instead
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# the shell only expands DRT_WORKERS; exec hands PID 1 to drt (it gets the stop signal)
CMD ["/bin/sh", "-c", "exec drt serve --host 0.0.0.0 --port 8000 --workers \"${DRT_WORKERS:-2}\""]
