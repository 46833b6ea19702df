# Everything a newcomer or CI needs, from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# The suite runs on every core (at most 4): each pytest worker has its own throw-away database;
# idle workers steal queued tests, so a few long fault tests at the end do not leave a core idle.
TEST_WORKERS ?= --numprocesses=auto --maxprocesses=4 --dist=worksteal

.PHONY: install run worker migrate jira-sim test test-pg lint format openapi clean demo bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

run: install  ## serve the API on SQLite at 127.0.0.1:8080 (worker in-process)
	$(PY) -m app serve

worker: install
	$(PY) -m app worker

migrate: install
	$(PY) -m app migrate

jira-sim: install  ## a Jira REST simulator at 127.0.0.1:8090 (demo project and user)
	$(PY) -m app jira-sim

test: install  ## the whole suite; on SQLite unless TEST_DATABASE_URL names a PostgreSQL server
	$(PY) -m pytest -q $(TEST_WORKERS) $(PYTEST_ARGS)

test-pg: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test} \
		$(PY) -m pytest -q $(TEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check app jirasim tests migrations bench scripts
	$(VENV)/bin/ruff format --check app jirasim tests migrations bench scripts
	$(VENV)/bin/mypy app jirasim
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format app jirasim tests migrations bench scripts
	$(VENV)/bin/ruff check --fix app jirasim tests migrations bench scripts

openapi: install  ## write openapi/openapi.json (a test keeps it in sync)
	$(PY) -m app openapi --output openapi/openapi.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

demo: install  ## the whole loop against the Jira simulator, step by step with timings
	$(PY) scripts/demo.py

bench: install  ## benchmarks on PostgreSQL (not part of the tests); writes bench/results.json
	$(PY) -m bench.run
