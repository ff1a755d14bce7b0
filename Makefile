# tongban: make run · make test · make conformance · make bench · make loadtest · make lint
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test conformance lint bench loadtest browser clean-var web

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Start embedded PostgreSQL + Redis (unless TONGBAN_DATABASE_URL / TONGBAN_REDIS_URL are set),
## migrate, seed demo data, run the web server and an arq worker. Ctrl-C stops them all.
run: $(STAMP)
	$(BIN)/tongban run

browser:
	@bash scripts/ensure_browser.sh

## The linters, then the whole suite against real PostgreSQL and Redis, browser tests included.
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -q

## The browser bundles (the collaborative editor in server/web/static/collab/, the drawing uploader in files/, the
## 开工一件事 SM2 signer in kaigong/; committed, so that run and test need no Node): rebuild them from
## server/web/src/ after changing their sources or dependencies.
web:
	cd server/web/src && npm ci && npm run build

## Conformance runs over the external corpus (../shared/data, or TONGBAN_CORPUS_DIR). Fails when it is missing.
conformance: $(STAMP)
	$(BIN)/pytest -q --conformance tests/conformance

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m loadtest.bench_skeleton

loadtest: $(STAMP)
	$(BIN)/python -m loadtest.run_locust

## Stop the embedded services of this checkout.
stop: $(STAMP)
	$(BIN)/tongban services stop
