# OpinionDesk — `make run` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12+ (Django 6.1 needs it): the first that really runs, from PATH or pyenv.
PY_CANDIDATES := python3.13 python3.12 \
	$(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) \
	$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) \
	$(wildcard /usr/local/bin/python3.1[23] /usr/bin/python3.1[23]) python3
PYTHON ?= $(shell for p in $(PY_CANDIDATES); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { echo "$$p"; break; }; done)
UV_VERSION := 0.13.8
# Python's bytecode caches make every process start (each test worker, the server) seconds
# faster; some shells turn them off with PYTHONDONTWRITEBYTECODE, which an empty value undoes.
export PYTHONDONTWRITEBYTECODE :=
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# One ASGI worker unless Redis joins them: the in-process channel layer cannot reach the other
# worker, so a patient and a doctor on two workers would never meet in the video room.
WORKERS ?= $(if $(REDIS_URL),2,1)
# The demo runs with an embedded default: SQLite, local files, in-process channel layer.
# Links in the demo's mails point where it is served (make run PORT=8301), unless SITE_URL says.
SITE_URL ?= http://$(HOST):$(PORT)
DEMO_ENV := DEMO_MODE=true SITE_URL=$(SITE_URL)
TEST_ENV := SECRET_KEY=test-only-secret-key DEMO_MODE=false DEBUG=false
# pytest-xdist: one worker per core; each worker has its own test database.
TEST_WORKERS ?= auto
# With two cores or more, the SQLite and PostgreSQL halves run side by side (bin/test-both).
TEST_SIDE_BY_SIDE ?= $(shell [ "$$(nproc 2>/dev/null || echo 1)" -ge 2 ] && echo 1 || echo 0)
# Side by side, the PostgreSQL half (about a third of the suite's CPU) gets half the cores'
# workers: with one per core in both halves, 2 cores ran 4 workers, all saturated, and the
# suite took 450 s; with 2 + 1, 398 s (bench/README.md, "The test suite's time").
TEST_WORKERS_POSTGRES_BESIDE ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n / 2 > 1 ? n / 2 : 1 )))
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

.PHONY: help setup run run-scaled serve worker test test-sqlite test-postgres lint format bench bench-upload bench-downloads bench-s3 bench-scheduling bench-consults bench-receipts bench-audit messages clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(BIN)/.synced: pyproject.toml uv.lock
	@if [ -z "$(PYTHON)" ]; then \
		echo "OpinionDesk needs Python 3.12 or newer (python3.13 or python3.12), none found."; \
		echo "Install one, e.g. 'apt-get install python3.12 python3.12-venv' or 'pyenv install 3.13',"; \
		echo "or point to it: make PYTHON=/path/to/python3.13 ..."; exit 1; fi
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@[ -x $(BIN)/uv ] || $(BIN)/pip install -q "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --frozen --python $(BIN)/python
	@touch $@

setup: $(BIN)/.synced ## Create the virtual environment from the lock file

run: setup ## Set up, migrate, load the demo data and serve on http://127.0.0.1:8000
	@umask 077 && mkdir -p var && chmod 700 var
	$(DEMO_ENV) $(BIN)/python manage.py create_audit_keys
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py collectstatic --no-input -v0
	$(DEMO_ENV) $(BIN)/python manage.py load_demo
	$(DEMO_ENV) $(BIN)/python manage.py seal_audit_log --schedule
	$(DEMO_ENV) HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) BIN=$(BIN) bin/serve

# The hospital's topology on this machine (bin/run_scaled.py): PostgreSQL, Redis, SeaweedFS (S3),
# coturn and nginx (TLS) in front of three ASGI workers, two task workers; all under var/scaled/.
run-scaled: setup ## PostgreSQL, Redis, S3, coturn, nginx (TLS) before 3 ASGI workers, 2 task workers: https://127.0.0.1:8443
	BIN=$(BIN) bin/run-scaled run

test: setup ## Set up and run the whole suite (SQLite, and PostgreSQL when DATABASE_URL is set)
	@if [[ "$$DATABASE_URL" != postgres* ]]; then \
		$(MAKE) --no-print-directory test-sqlite && \
		echo "DATABASE_URL is not a PostgreSQL URL: PostgreSQL run skipped."; \
	elif [ "$(TEST_SIDE_BY_SIDE)" = 1 ]; then \
		MAKE="$(MAKE)" POSTGRES_WORKERS="$(TEST_WORKERS_POSTGRES_BESIDE)" bin/test-both; \
	else $(MAKE) --no-print-directory test-sqlite && $(MAKE) --no-print-directory test-postgres; fi

# The PostgreSQL-only tests are deselected, not skipped: under CI=true a skipped one fails.
test-sqlite: setup
	@echo "== tests on SQLite =="
	env -u DATABASE_URL $(TEST_ENV) $(PYTEST) -m "not postgresql" $(PYTEST_ARGS)

# The SQLite suite, without the browser tests, as if at AT (opiniondesk/testing/clock.py).
test-as-if: setup ## The suite as if at AT="2027-01-04 09:00 +0900": a weekend, holiday or year-end before it comes
	@[ -n "$(AT)" ] || { echo 'Say when, e.g. make test-as-if AT="2027-01-04 09:00 +0900"'; exit 2; }
	env -u DATABASE_URL TEST_AS_IF_AT="$(AT)" $(TEST_ENV) $(PYTEST) -m "not postgresql and not browser" $(PYTEST_ARGS)

# On PostgreSQL everything that reaches the database runs, except what tests no database
# behaviour and costs most: the API contract fuzzers and the header walks (marker `contract`) and the browser tests
# (`browser`: the pages and scripts in Chromium; the services and views under them run here),
# which run in the SQLite half. The PostgreSQL-only browser test (two servers) stays. Tests of
# an SQLite installation's own file (marker `sqlite`: backups) have PostgreSQL twins. Tests that
# touch no database at all (pure rules, parsers: two thirds of them) ran in the SQLite half and
# would test nothing new here (conftest.py: TESTS_NEEDING_A_DATABASE_ONLY). Through the
# connection pool, as a hospital runs it (DATABASE_POOL, docs/deploy.md), unless told otherwise.
test-postgres: setup
	@echo "== tests on PostgreSQL ($$DATABASE_URL) =="
	$(TEST_ENV) DATABASE_POOL=$${DATABASE_POOL:-true} TESTS_NEEDING_A_DATABASE_ONLY=true $(PYTEST) -m "not contract and not sqlite and (not browser or postgresql)" $(PYTEST_ARGS)

# Every file of .ci/, bin/ and bench/ that starts as a shell script.
SHELL_SCRIPTS = $(shell for f in .ci/* bin/* bench/*/*.sh; do \
	head -n1 "$$f" 2>/dev/null | grep -qE '^\#!.*[/ ](ba)?sh$$' && echo "$$f"; done)

lint: setup ## ruff, ruff format --check, mypy (strict on the pure rule modules), the layers (import-linter), shellcheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo
	$(BIN)/shellcheck $(SHELL_SCRIPTS)

format: setup ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

messages: setup ## Update the translation catalogs and compile them (needs polib only)
	$(DEMO_ENV) $(BIN)/python manage.py makemessages -l ja -l en --no-obsolete --no-location
	$(BIN)/python bin/compile_messages.py

bench: setup ## Benchmark the eligibility API against a bare Django view (needs wrk)
	@command -v wrk >/dev/null || apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
	$(BIN)/python bench/eligibility_api.py $(BENCH_ARGS)

bench-upload: setup ## Upload benchmark: 1 GiB through the documents page vs a copy on the same disk
	$(BIN)/python bench/upload.py $(BENCH_ARGS)

bench-downloads: setup ## Download benchmark: 4 clients x 150 MiB, each worker's peak RSS vs idle, vs reading from disk
	$(BIN)/python bench/downloads.py $(BENCH_ARGS)

bench-s3: setup ## Documents in S3 (SeaweedFS): memory and time of a 100 MiB upload and download, vs stock django-storages
	$(BIN)/python bench/s3.py $(BENCH_ARGS)

bench-scheduling: setup ## Scheduling benchmark: a year of slots, booking under 32 clients
	$(BIN)/python bench/scheduling.py $(BENCH_ARGS)

bench-consults: setup ## Consult benchmark: signalling round trip, 1,000 idle rooms, call-in to video
	@[ -x /usr/bin/chromium ] || { echo "bench-consults needs Chromium: apt-get install chromium"; exit 2; }
	$(BIN)/python bench/consults.py $(BENCH_ARGS)

bench-audit: setup ## Audit log benchmark (PostgreSQL: DATABASE_URL): writers vs a plain insert, sealer, verification
	$(BIN)/python bench/audit.py $(BENCH_ARGS)

bench-receipts: setup ## Receipt benchmark: PDF per receipt (target < 0.5 s) vs a one-line PDF; a month's CSV of 10,000 charges
	$(BIN)/python bench/receipts.py $(BENCH_ARGS)

bench-scale: setup ## Hospital-scale data (PostgreSQL: DATABASE_URL): pages at 10,000 and 100,000 cases
	@[[ "$$DATABASE_URL" == postgres* ]] || { echo "bench-scale needs DATABASE_URL=postgres://..."; exit 2; }
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

bench-load: setup ## Load test (locust): 200 people for 5 min on make run-scaled (a worker, Redis, S3 killed) and on make run
	$(BIN)/python bench/load.py $(BENCH_ARGS)

clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) var
