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

# Debian packages the project needs beyond the machine's base (installed when missing).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends

# Deployment checks use the real kustomize and the official Compose Specification schema, both
# fetched as Go modules through the Go module proxy (pinned here) into .run/tools.
TOOLS := .run/tools
KUSTOMIZE_VERSION := v5.7.1
COMPOSE_GO_VERSION := v2.16.2

.PHONY: bench fuzz help venv kafka-jars tools postgres-server prometheus up down status lint format test test-sqlite test-postgres test-unit clean

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

tools: $(TOOLS)/bin/kustomize $(TOOLS)/compose-spec.json ## kustomize and the Compose Specification schema (Go module proxy)

$(TOOLS)/bin/kustomize:
	GOBIN=$(abspath $(TOOLS)/bin) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

$(TOOLS)/compose-spec.json:
	@mkdir -p $(TOOLS)
	cp "$$(go mod download -json github.com/compose-spec/compose-go/v2@$(COMPOSE_GO_VERSION) | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/schema/compose-spec.json" $@
	@chmod 644 $@

postgres-server: ## install Debian's PostgreSQL server if missing (for DB=postgres and the tests)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(APT_INSTALL) postgresql || \
	  ($(SUDO) apt-get update && $(APT_INSTALL) postgresql)

prometheus: ## install Debian's Prometheus (prometheus, promtool) if missing
	@command -v promtool >/dev/null || $(APT_INSTALL) prometheus || \
	  ($(SUDO) apt-get update && $(APT_INSTALL) prometheus)

DB ?= sqlite
up: venv kafka-jars prometheus $(if $(filter postgres,$(DB)),postgres-server) ## start Kafka and the services (DB=sqlite|postgres, SKIP_DEMO=1); prints URLs and the admin token
	$(PY) scripts/stack.py up --db $(DB) $(if $(SKIP_DEMO),--skip-demo)

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
	$(VENV)/bin/mypy libs services tests scripts bench deploy/grafana

test: lint kafka-jars postgres-server prometheus tools ## the whole suite, on SQLite and on PostgreSQL, against a real Kafka
	$(VENV)/bin/pytest
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest

test-sqlite: venv kafka-jars prometheus tools ## the suite on SQLite only
	$(VENV)/bin/pytest

test-postgres: venv kafka-jars postgres-server prometheus tools ## the suite on PostgreSQL only
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest

bench: venv kafka-jars ## benchmarks: a table on stdout, JSON in .run/bench/ (DB=postgres for PostgreSQL)
	$(PY) -m bench --db $(DB)

FUZZ_EXAMPLES ?= 200
fuzz: venv $(if $(filter postgres,$(DB)),postgres-server) ## schemathesis against every operation, FUZZ_EXAMPLES per operation and mode (random seeds; DB=postgres)
	SANPI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(if $(filter postgres,$(DB)),SANPI_TEST_DB=postgres) \
	  $(VENV)/bin/pytest tests/unit/test_hostile_input.py

test-unit: venv ## only the tests that need no broker
	$(VENV)/bin/pytest tests/unit

clean: down ## stop everything and delete .run/ (Kafka data, databases, logs, tokens)
	rm -rf .run
