# One task runner for the project. Every target works from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock demo test lint format typecheck check bench clean

# The exact versions of requirements.lock (every dependency, the dev tools included), then the
# project itself without resolving anything again: a fresh machine installs what CI tested.
$(STAMP): pyproject.toml requirements.lock
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)  ## create .venv with the `drt` command in it

lock: $(STAMP)  ## pin every dependency again: requirements.lock (with the dev extra, for make and CI), requirements-runtime.lock (without, for the image)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--annotation-style line --custom-compile-command "make lock" -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
		--annotation-style line --custom-compile-command "make lock" \
		--constraint requirements.lock -o requirements-runtime.lock

demo: $(STAMP)  ## the main job: the booking service on the embedded default (Ctrl-C stops it)
	$(BIN)/drt demo

test: $(STAMP)  ## lint, type-check and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)  ## measure everything and write docs/benchmarks.md (about 45 minutes)
	$(BIN)/drt bench routing --write docs/benchmarks.md
	$(BIN)/drt bench stops --write docs/benchmarks.md
	$(BIN)/drt bench offers --write docs/benchmarks.md
	$(BIN)/drt bench sim --write docs/benchmarks.md
	$(BIN)/drt bench promises --scenarios kurate-today,kurate-2028,city-scale --variant "promise_slack_s=0;asap_wait_stages_s=" --variant "peak_traffic=false" --variant "promise_slack_s=300" --write docs/benchmarks.md
	$(BIN)/pip install --quiet -e '.[dev,readings-bench]'  # the reading libraries compared
	$(BIN)/drt bench readings --write docs/benchmarks.md
	$(BIN)/drt bench darp --set a,b,pr --time-limit 60 --jobs 2 --write docs/benchmarks.md --write-solutions docs/darp-solutions

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache build *.egg-info
