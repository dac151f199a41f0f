# Tillbridge — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo's worker reaches the Fulfil sandbox and the POS simulator on the demo's own server.
export SITE_URL ?= http://$(HOST):$(PORT)

.PHONY: demo test test-fast e2e lint format bench soak migrate clean install

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Set up everything, seed the demo estate and trading day, then run web + worker together.
demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py setup_schedules
	@echo ""
	@echo "Tillbridge demo on http://$(HOST):$(PORT)/  (Ctrl-C stops web and worker)"
	@echo "Logins: ops / ops-demo-pass   finance / finance-demo-pass   admin / admin-demo-pass"
	@echo ""
	@trap 'kill 0' INT TERM EXIT; \
	  $(PY) manage.py qcluster & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT) & \
	  wait

# The whole suite. Browser tests need Debian's chromium (/usr/bin/chromium); they skip, saying why,
# when it is absent. CI (.ci/run) installs it so nothing is skipped there.
test: $(STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark in bench/, each in its own process; rewrites docs/performance.md. PostgreSQL only.
bench: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench needs DATABASE_URL=postgres://…"; exit 2; }
	$(PY) -m bench.run $(BENCH_ARGS)

# The long fault runs (tests marked slow: SIGKILL trials, database restart, rate-limited peak, the
# sandbox over a socket). PostgreSQL only; records the results in docs/performance.md.
soak: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make soak needs DATABASE_URL=postgres://…"; exit 2; }
	$(PY) -m tests.hardening.soak_report reset
	$(PY) -m pytest -m slow -p no:cacheprovider $(PYTEST_ARGS) \
	  && $(PY) -m tests.hardening.soak_report "all slow tests passed" \
	  || { $(PY) -m tests.hardening.soak_report "FAILED (see the pytest output)"; exit 1; }

clean:
	rm -rf var/*.sqlite3* var/staticfiles .pytest_cache
