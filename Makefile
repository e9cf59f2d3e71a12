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
# Jaeger v2 for traces (`make up`, the tracing test): release 2.12.0 is Go module v1.75.0.
JAEGER_VERSION := v1.75.0
COMPOSE_GO_VERSION := v2.16.2

.PHONY: bench chaos fuzz help venv kafka-jars tools jaeger postgres-server prometheus alertmanager chromium office libreoffice poppler fonts-cjk portal-assets portal-messages screenshots up down status backup restore backup-list lint format migration test test-sqlite test-postgres test-unit docs docs-check clean

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

tools: $(TOOLS)/bin/kustomize $(TOOLS)/compose-spec.json $(TOOLS)/bin/jaeger ## kustomize, the Compose Specification schema and Jaeger (Go module proxy)

jaeger: $(TOOLS)/bin/jaeger ## build Jaeger (the `jaeger` program, pinned) into .run/tools/bin: the trace backend of make up

# Not `go install …@version`: Jaeger's go.mod has a replace directive, which go install refuses.
# Built inside the module as its own main module, with its go.sum (a few minutes the first time).
$(TOOLS)/bin/jaeger:
	@mkdir -p $(TOOLS)/bin
	cd "$$(go mod download -json github.com/jaegertracing/jaeger@$(JAEGER_VERSION) | $(PYTHON) -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')" && \
	  GOFLAGS=-mod=mod go build -trimpath -o $(abspath $(TOOLS)/bin)/jaeger ./cmd/jaeger

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

# Spreadsheet round trips run Debian's LibreOffice Calc headless; PDFs render to PNG with poppler's
# pdftoppm; the 通报 PDF embeds WenQuanYi Zen Hei, a CJK font with TrueType outlines (reportlab
# embeds TrueType only: Debian's Noto CJK is CFF-flavoured OpenType).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
libreoffice: ## install Debian's LibreOffice Calc (headless sheet round trips) if missing
	@command -v soffice >/dev/null || $(APT_INSTALL) libreoffice-calc || \
	  ($(APT_GET) update && $(APT_INSTALL) libreoffice-calc)

poppler: ## install Debian's poppler-utils (pdftoppm, pdffonts: PDFs to PNG) if missing
	@command -v pdftoppm >/dev/null || $(APT_INSTALL) poppler-utils || \
	  ($(APT_GET) update && $(APT_INSTALL) poppler-utils)

fonts-cjk: ## install the Chinese font the PDFs embed (Debian's fonts-wqy-zenhei) if missing
	@test -f $(CJK_FONT) || $(APT_INSTALL) fonts-wqy-zenhei || \
	  ($(APT_GET) update && $(APT_INSTALL) fonts-wqy-zenhei)

office: libreoffice poppler fonts-cjk ## everything the sheet and PDF tests use

alertmanager: ## install Debian's Alertmanager (prometheus-alertmanager, amtool) if missing
	@command -v amtool >/dev/null || $(APT_INSTALL) prometheus-alertmanager || \
	  ($(APT_GET) update && $(APT_INSTALL) prometheus-alertmanager)

chromium: ## install Debian's Chromium if missing (the portal's browser tests and screenshots)
	@command -v chromium >/dev/null || $(APT_INSTALL) chromium || \
	  ($(APT_GET) update && $(APT_INSTALL) chromium)

# The portal serves every script and font itself (no CDN): npm installs them from
# services/portal/package-lock.json, and the files the pages load are copied into an ignored folder.
PORTAL := services/portal
PORTAL_VENDOR := $(PORTAL)/src/sanpi/portal/static/vendor
PORTAL_NPM := $(PORTAL)/node_modules
portal-assets: $(PORTAL_VENDOR)/.installed ## htmx, ECharts and the Noto Sans SC font for the portal (npm ci, pinned by package-lock.json)

$(PORTAL_VENDOR)/.installed: $(PORTAL)/package.json $(PORTAL)/package-lock.json
	@command -v npm >/dev/null || $(APT_INSTALL) nodejs npm || ($(APT_GET) update && $(APT_INSTALL) nodejs npm)
	npm ci --prefix $(PORTAL) --no-audit --no-fund --ignore-scripts --loglevel=error
	rm -rf $(PORTAL_VENDOR) && mkdir -p $(PORTAL_VENDOR)/fonts/files $(PORTAL_VENDOR)/licenses
	cp $(PORTAL_NPM)/htmx.org/dist/htmx.min.js $(PORTAL_NPM)/echarts/dist/echarts.min.js $(PORTAL_VENDOR)/
	cp $(PORTAL_NPM)/@fontsource/noto-sans-sc/400.css $(PORTAL_NPM)/@fontsource/noto-sans-sc/700.css $(PORTAL_VENDOR)/fonts/
	cp $(PORTAL_NPM)/@fontsource/noto-sans-sc/files/*-400-normal.woff2 $(PORTAL_NPM)/@fontsource/noto-sans-sc/files/*-700-normal.woff2 $(PORTAL_VENDOR)/fonts/files/
	cp $(PORTAL_NPM)/htmx.org/LICENSE $(PORTAL_VENDOR)/licenses/htmx.txt
	cp $(PORTAL_NPM)/echarts/LICENSE $(PORTAL_VENDOR)/licenses/echarts.txt
	cp $(PORTAL_NPM)/@fontsource/noto-sans-sc/LICENSE $(PORTAL_VENDOR)/licenses/noto-sans-sc.txt
	@touch $@

# Messages of the portal: _() in its code and templates. After new ones, translate the empty
# msgstr lines of the Chinese catalogue (a test fails while one is missing).
PORTAL_LOCALE := $(PORTAL)/src/sanpi/portal/locale
portal-messages: venv ## extract the portal's messages and update its Chinese catalogue
	mkdir -p .run && cd $(PORTAL) && ../../$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header -o ../../.run/portal-messages.pot . >/dev/null
	$(VENV)/bin/pybabel update -i .run/portal-messages.pot -d $(PORTAL_LOCALE) -l zh --no-fuzzy-matching --ignore-obsolete --width 100

screenshots: venv kafka-jars chromium portal-assets ## photograph the portal's pages (desktop, phone) into docs/images on a stack of its own
	$(PY) scripts/portal_screenshots.py

# make up checks every port before it starts anything; each moves with its own variable:
# SANPI_<SERVICE>_PORT (SANPI_PORTAL_PORT: 8000), KAFKA_PORT, KAFKA_CONTROLLER_PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT (9095),
# JAEGER_PORT (16686), JAEGER_OTLP_PORT (4318), JAEGER_GRPC_PORT (16685), PG_PORT. ALERT_WEBHOOK_URL receives the ops alerts; ALERTMANAGER_CONFIG replaces the whole config.
DB ?= sqlite
up: venv kafka-jars prometheus alertmanager jaeger portal-assets fonts-cjk $(if $(filter postgres,$(DB)),postgres-server) ## start Kafka, the services, the portal, Prometheus, Alertmanager, Jaeger (DB=sqlite|postgres, SKIP_DEMO=1, TRACING=0); prints the portal URL first
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
	@case "$(SERVICE)" in registry|milestone|notification|portal) ;; \
	  *) echo 'usage: make migration SERVICE=registry|milestone|notification|portal MSG="what changes"' >&2; exit 2;; esac
	@test -n "$(MSG)" || { echo 'MSG="what changes" is required' >&2; exit 2; }
	@mkdir -p .run/migration && rm -f $(MIGRATION_DB)
	SANPI_$(shell echo '$(SERVICE)' | tr a-z A-Z)_DATABASE_URL=sqlite+aiosqlite:///$(MIGRATION_DB) \
	  sh -c '$(PY) -m sanpi.$(SERVICE) migrate && $(PY) -m sanpi.$(SERVICE) alembic revision --autogenerate -m "$$0"' "$(MSG)"

test: lint kafka-jars postgres-server prometheus alertmanager tools chromium portal-assets office ## the whole suite, on SQLite and on PostgreSQL side by side (PostgreSQL's output: .run/test-postgres.log), against a real Kafka
	VENV=$(VENV) scripts/test_passes.sh

test-sqlite: venv kafka-jars prometheus alertmanager tools chromium portal-assets office ## the suite on SQLite only
	$(VENV)/bin/pytest

test-postgres: venv kafka-jars postgres-server prometheus alertmanager tools chromium portal-assets office ## the suite on PostgreSQL only
	SANPI_TEST_DB=postgres $(VENV)/bin/pytest

chaos: lint kafka-jars postgres-server prometheus alertmanager tools ## the long fault runs (tests marked chaos) on SQLite and PostgreSQL: CHAOS_RUNS fresh seeds (printed); SANPI_CHAOS_SEED=<n> replays one
	$(VENV)/bin/pytest -m chaos
	SANPI_TEST_DB=postgres SANPI_CHAOS_RUNS=$(CHAOS_RUNS) $(VENV)/bin/pytest -m chaos

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

CHAOS_RUNS ?= 5

test-unit: venv portal-assets office ## only the tests that need no broker
	$(VENV)/bin/pytest tests/unit

clean: down ## stop everything and delete .run/ (Kafka data, databases, logs, tokens)
	@# The local PostgreSQL's files may live outside .run (deploy/postgres/pg.sh says where).
	@if [ -d .run/postgres ]; then deploy/postgres/pg.sh destroy; fi
	rm -rf .run
