# SalesInsights — `make help` lists the targets. Everything runs from .venv/ and binds to 127.0.0.1.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON_BOOTSTRAP ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SETUP_STAMP := $(VENV)/.setup-$(shell cat requirements.lock pyproject.toml jvm/*/pom.xml $$(find jvm -name '*.java' | sort) 2>/dev/null | sha256sum | cut -c1-16)

.PHONY: help setup up down status logs password test test-unit lint generate maintenance clv sql dq expectations chaos stream-reset \
	bench-stream bench-replay \
	bench-freshness bench-sql bench-clv clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: $(SETUP_STAMP) ## Virtualenv in .venv, pinned Python packages, JVM jars (idempotent)

$(SETUP_STAMP):
	scripts/require_tools.sh
	@test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	scripts/fetch_jars.sh
	scripts/build_sql_guard.sh
	$(PY) -m salesinsights.cli spark-defaults
	@rm -f $(VENV)/.setup-* && touch $@

up: setup ## Start the supervisor and every service under it (Kafka, producer, stream, dashboard, Airflow); returns once healthy
	$(PY) -m salesinsights.cli platform up

down: ## Stop every service cleanly, then the supervisor
	@if [ -x $(PY) ]; then $(PY) -m salesinsights.cli platform down; else echo "nothing set up"; fi

status: ## What runs, where, and how far behind it is
	@$(PY) -m salesinsights.cli platform status

logs: ## The last lines of every service log (LINES=n for more)
	@$(PY) -m salesinsights.cli platform logs --lines $(or $(LINES),40)

password: ## The Airflow admin login that Airflow generated at its first start
	@$(PY) -m salesinsights.cli platform password

lint: setup ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-unit: setup ## Fast tests only
	$(VENV)/bin/pytest -m "not e2e"

test: setup lint ## Lint, type check, unit and end-to-end tests (what CI runs)
	$(VENV)/bin/pytest

generate: setup ## Write the synthetic five months as monthly CSV files (SCALE=0.1 for a tenth)
	$(PY) -m salesinsights.cli generate $(if $(SCALE),--scale $(SCALE))

maintenance: setup ## Compact and vacuum the Delta tables now (what the nightly delta_maintenance DAG does)
	$(PY) -m salesinsights.cli maintenance

clv: setup ## A nightly CLV run by hand on the latest silver data (AS_OF=YYYY-MM-DD, HORIZON=months)
	$(PY) -m salesinsights.cli clv $(if $(AS_OF),--as-of $(AS_OF)) $(if $(HORIZON),--horizon-months $(HORIZON))

sql: setup ## Beeline (Hive's JDBC shell) on the SQL endpoint of the running platform
	$(PY) -m salesinsights.cli sql --shell

dq: setup ## Validate the newest complete day of the lake (DAY=YYYY-MM-DD); exits non-zero on failure
	$(PY) -m salesinsights.cli dq $(if $(DAY),--day $(DAY))

expectations: setup ## Rewrite expectations/*.json from the rulebook and the suites' code
	$(PY) -m salesinsights.quality.export

chaos: setup ## Faults against the running platform (use a scratch SALESINSIGHTS_DATA_DIR), then the lake checked exact
	$(PY) -m salesinsights.platform.chaos

stream-reset: setup ## Stop the streaming application, move its archive checkpoint aside, start it again
	$(PY) -m salesinsights.cli platform stop streaming
	$(PY) -m salesinsights.cli stream reset
	$(PY) -m salesinsights.cli platform start streaming

bench-stream: setup ## Streaming throughput and micro-batch durations, with and without the cart sessions query (DAYS=3, SCALE=1.0)
	$(PY) -m salesinsights.bench.stream $(if $(DAYS),--days $(DAYS)) $(if $(SCALE),--scale $(SCALE))

bench-replay: setup ## The whole source (five months, SCALE=1.0) landed, produced and streamed to gold; per-stage events/s, peak RSS, exact check, vs a plain Kafka→Delta append
	$(PY) -m salesinsights.bench.replay $(if $(SCALE),--scale $(SCALE))

bench-freshness: setup ## Seconds from landing file to purchase in the dashboard API, replay running and quiet (platform up; RATE=5000 DURATION=60 PHASES=both)
	$(PY) -m salesinsights.bench.freshness $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(PHASES),--phases $(PHASES))

bench-sql: setup ## BI queries through the SQL endpoint vs DuckDB on five months (SCALE=1.0); landing-to-SQL seconds if the platform is up
	$(PY) -m salesinsights.bench.sql $(if $(SCALE),--scale $(SCALE))

bench-clv: setup ## Whole CLV job (backtest and model choice included) on five months and on 10 %, and the RFM summary in Spark vs DuckDB
	$(PY) -m salesinsights.bench.clv

clean: down ## Remove runtime data (data/); keeps .venv and jars
	rm -rf data
