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
# APT_OPTIONS reaches apt on an intranet, e.g. APT_OPTIONS='-o Acquire::http::Proxy=http://proxy:3128'
# (a Debian mirror itself belongs in /etc/apt/sources.list; docs/zh/operations.md says how).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_OPTIONS ?=
APT_GET := $(SUDO) apt-get $(APT_OPTIONS)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends

# Deployment checks use the real kustomize and the official Compose Specification schema, both
# fetched as Go modules through the Go module proxy (pinned here) into .run/tools. On an intranet
# GOPROXY (and GOSUMDB) name a Go module mirror; UV_INDEX_URL and PIP_INDEX_URL a PyPI mirror
# (make venv); MAVEN_REPO or MAVEN_SETTINGS a Maven mirror (make kafka-jars, deploy/kafka/kafka.sh).
TOOLS := .run/tools
KUSTOMIZE_VERSION := v5.7.1
COMPOSE_GO_VERSION := v2.16.2

.PHONY: bench chaos fuzz help venv kafka-jars tools postgres-server prometheus alertmanager up down status backup restore backup-list lint format migration test test-sqlite test-postgres test-unit docs docs-check clean

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
	  ($(APT_GET) update && $(APT_INSTALL) postgresql)

prometheus: ## install Debian's Prometheus (prometheus, promtool) if missing
	@command -v promtool >/dev/null || $(APT_INSTALL) prometheus || \
	  ($(APT_GET) update && $(APT_INSTALL) prometheus)

alertmanager: ## install Debian's Alertmanager (prometheus-alertmanager, amtool) if missing
	@command -v amtool >/dev/null || $(APT_INSTALL) prometheus-alertmanager || \
	  ($(APT_GET) update && $(APT_INSTALL) prometheus-alertmanager)

# make up checks every port before it starts anything; each moves with its own variable:
# SANPI_<SERVICE>_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT (9095),
# PG_PORT. ALERT_WEBHOOK_URL receives the ops alerts; ALERTMANAGER_CONFIG replaces the whole config.
DB ?= sqlite
up: venv kafka-jars prometheus alertmanager $(if $(filter postgres,$(DB)),postgres-server) ## start Kafka, the services, Prometheus, Alertmanager (DB=sqlite|postgres, SKIP_DEMO=1); prints URLs and the admin token
	$(PY) scripts/stack.py up --db $(DB) $(if $(SKIP_DEMO),--skip-demo)

backup: venv ## back up the running stack: databases and Kafka positions, into .run/backups/<time>/ (DB=postgres)
	$(PY) -m scripts.backup backup --db $(DB)

# After `make down`: the broker (and the local PostgreSQL) must run for a restore, the services not.
restore: venv kafka-jars $(if $(filter postgres,$(DB)),postgres-server) ## restore a backup after `make down`: make restore BACKUP=.run/backups/<time> (DB=postgres); then make up
	@test -n "$(BACKUP)" || { echo 'usage: make restore BACKUP=.run/backups/<time>  (make backup-list shows them)' >&2; exit 2; }
	deploy/kafka/kafka.sh start
	$(if $(filter postgres,$(DB)),deploy/postgres/pg.sh start)
	$(PY) -m scripts.backup restore "$(BACKUP)" --db $(DB)

backup-list: venv ## the backups under .run/backups
	@$(PY) -m scripts.backup list

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
	$(VENV)/bin/mypy libs services tests scripts bench deploy/grafana deploy/k8s

# A new Alembic revision of one service's schema, autogenerated from its models against a scratch
# SQLite database at head. Review it by hand: it must run on SQLite and on PostgreSQL.
MIGRATION_DB := $(abspath .run/migration)/$(SERVICE).db
migration: venv ## new schema revision from the models: make migration SERVICE=registry MSG="add x"
	@case "$(SERVICE)" in registry|milestone|notification) ;; \
	  *) echo 'usage: make migration SERVICE=registry|milestone|notification MSG="what changes"' >&2; exit 2;; esac
	@test -n "$(MSG)" || { echo 'MSG="what changes" is required' >&2; exit 2; }
	@mkdir -p .run/migration && rm -f $(MIGRATION_DB)
	SANPI_$(shell echo '$(SERVICE)' | tr a-z A-Z)_DATABASE_URL=sqlite+aiosqlite:///$(MIGRATION_DB) \
	  sh -c '$(PY) -m sanpi.$(SERVICE) migrate && $(PY) -m sanpi.$(SERVICE) alembic revision --autogenerate -m "$$0"' "$(MSG)"

test: lint kafka-jars postgres-server prometheus alertmanager tools ## the whole suite, on SQLite and on PostgreSQL, against a real Kafka
	$(VENV)/bin/pytest
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest

test-sqlite: venv kafka-jars prometheus alertmanager tools ## the suite on SQLite only
	$(VENV)/bin/pytest

test-postgres: venv kafka-jars postgres-server prometheus alertmanager tools ## the suite on PostgreSQL only
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest

chaos: lint kafka-jars postgres-server prometheus alertmanager tools ## the long fault runs (tests marked chaos), on SQLite and on PostgreSQL
	$(VENV)/bin/pytest -m chaos
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest -m chaos

docs: venv ## write the generated parts of docs/ (events, JSON Schemas, OpenAPI, settings) and deploy/k8s/base/monitoring
	$(PY) scripts/docs_gen.py
	$(PY) deploy/k8s/monitoring.py

# make test runs the same check (tests/docs); this target runs only it, with its report.
docs-check: venv kafka-jars prometheus alertmanager tools ## run every shell command of README.md and docs/ against a stack on free ports
	$(PY) scripts/docs_gen.py --check
	$(PY) -m scripts.docs_check

bench: venv kafka-jars ## benchmarks: a table on stdout, JSON in .run/bench/ (DB=postgres for PostgreSQL)
	$(PY) -m bench --db $(DB)

FUZZ_EXAMPLES ?= 200
fuzz: venv $(if $(filter postgres,$(DB)),postgres-server) ## schemathesis on every operation as admin, operator and viewer, stateless and stateful (FUZZ_EXAMPLES, random seeds; DB=postgres)
	SANPI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(if $(filter postgres,$(DB)),SANPI_TEST_DB=postgres) \
	  $(VENV)/bin/pytest tests/unit/test_hostile_input.py

test-unit: venv ## only the tests that need no broker
	$(VENV)/bin/pytest tests/unit

clean: down ## stop everything and delete .run/ (Kafka data, databases, logs, tokens)
	@# The local PostgreSQL's files may live outside .run (deploy/postgres/pg.sh says where).
	@if [ -d .run/postgres ]; then deploy/postgres/pg.sh destroy; fi
	rm -rf .run
