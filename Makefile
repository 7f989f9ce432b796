# GridPatrol: `make run` serves the app on the embedded database with the demo town; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PORT
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/gridpatrol_test
PWA_SOURCES := $(shell find pwa/src pwa/public pwa/scripts pwa/index.html pwa/vite.config.ts pwa/package.json -type f 2>/dev/null)

.PHONY: run test test-python test-postgis test-api test-pwa test-e2e bench deps pwa spatialite lint clean

run: deps pwa spatialite
	$(VENV)/bin/gridpatrol bootstrap
	exec $(VENV)/bin/gunicorn -c gunicorn.conf.py backend.wsgi:app

test: deps spatialite pwa
	$(MAKE) lint test-python test-postgis test-api test-pwa test-e2e

# SpatiaLite, the embedded default: even when TEST_DATABASE_URL is in the environment (CI exports it for the
# PostGIS run below), this run must not pick it up.
test-python:
	env -u TEST_DATABASE_URL $(PY) -m pytest -n auto

PG_REACHABLE = $(PY) -c "import psycopg, sys; from sqlalchemy.engine import make_url; u = make_url('$(TEST_DATABASE_URL)'); \
	  psycopg.connect(host=u.host or 'localhost', port=u.port or 5432, user=u.username, password=u.password, \
	  dbname='postgres', connect_timeout=3).close()" 2>/dev/null

# PostGIS is production: the same backend tests again, when a PostgreSQL server is reachable.
test-postgis:
	@if $(PG_REACHABLE); then \
	  TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(PY) -m pytest -n auto tests --ignore=tests/geo; \
	else echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): the PostGIS run was NOT done"; fi

# Schemathesis over the whole API (every phase, several roles) against a real gunicorn: 0 server errors and every
# answer as documented, on SpatiaLite and, when reachable, PostGIS.
test-api: deps spatialite
	@dbs="--database spatialite"; if $(PG_REACHABLE); then dbs="$$dbs --database postgis"; \
	else echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL): the PostGIS schemathesis run was NOT done"; fi; \
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(PY) scripts/fuzz_api.py $$dbs

# vue-tsc first: a type error fails the run before the unit tests
test-pwa: pwa/node_modules/.installed
	cd pwa && npm run typecheck && npm test

test-e2e: pwa
	$(PY) scripts/e2e.py

# Speed targets: each script prints its figures and a ratio against a baseline measured in the same run.
bench: deps spatialite pwa
	$(PY) bench/coverage_township_day.py
	$(PY) bench/http_batch.py
	$(PY) bench/coverage_query.py
	$(PY) bench/evidence_pipeline.py
	$(PY) bench/case_queries.py
	$(PY) bench/inspections.py
	node bench/lighthouse.mjs

deps: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

pwa/node_modules/.installed: pwa/package-lock.json
	@command -v npm >/dev/null || { echo "Node 20+ and npm are required to build the PWA"; exit 1; }
	cd pwa && npm ci --no-audit --no-fund
	touch $@

pwa: pwa/dist/index.html

pwa/dist/index.html: pwa/node_modules/.installed $(PWA_SOURCES)
	cd pwa && npm run build

spatialite: deps
	@scripts/ensure-spatialite.sh $(PY)

# ruff, then mypy (geo/ at --strict, backend/ checked: pyproject.toml [tool.mypy]); mypy's cache in .mypy_cache
lint: deps
	$(PY) -m ruff check backend geo tests migrations scripts bench
	$(PY) -m mypy geo backend

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist
