# sanpi — the two commands are `make up` and `make test`; `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
# Never let uv download an interpreter: the machine's Python 3.11 is the one we use.
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

PYPROJECTS := pyproject.toml uv.lock $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)

.PHONY: help venv kafka-jars up down status lint format test test-unit test-e2e bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.synced: $(PYPROJECTS)
	@$(PYTHON) -c 'import sys; v=sys.version_info; sys.exit(0 if (3,11)<=v[:2]<(3,12) else "sanpi needs Python 3.11; found %d.%d (set PYTHON=python3.11)" % v[:2])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) sync --locked --python $(PY)
	@touch $@

venv: $(VENV)/.synced ## create .venv with every package and tool, pinned by uv.lock

kafka-jars: ## resolve the Apache Kafka jars from Maven Central (into .run/kafka-libs)
	deploy/kafka/kafka.sh fetch

up: venv kafka-jars ## start Kafka and the three services on SQLite; prints URLs and the admin token
	$(PY) scripts/stack.py up $(if $(SKIP_DEMO),--skip-demo)

down: ## stop the services and Kafka (by recorded pid)
	@test -x $(PY) && $(PY) scripts/stack.py down || deploy/kafka/kafka.sh stop

status: venv ## what runs, where
	$(PY) scripts/stack.py status

format: venv ## rewrite the code in the house format
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: venv ## ruff (format and rules) and mypy --strict
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy libs services tests scripts

test: lint kafka-jars ## the whole suite: lint, unit, integration and end-to-end against a real Kafka
	$(VENV)/bin/pytest

test-unit: venv ## only the tests that need no broker
	$(VENV)/bin/pytest tests/unit

bench: venv ## print benchmark figures (registry list/filter latency at 20,000 projects)
	$(PY) bench/registry_list.py

clean: down ## stop everything and delete .run/ (Kafka data, databases, logs, tokens)
	rm -rf .run
