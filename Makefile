# AnyTrack / Spot customer portal. `make run` serves it; `make test` tests it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: install run test load lint translations-extract translations-compile clean \
	bench bench-dataset bench-scale bench-explain bench-purge bench-profile

install: $(STAMP) translations-compile

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=python3.12 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations-compile: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations

translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching

# Links in mail point at the address this serves on, unless PORTAL_BASE_URL says otherwise.
run: export PORTAL_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops); mail is printed here"
	$(BIN)/flask mail deliver --loop --interval 2 & deliverer=$$!; \
		trap 'kill $$deliverer 2>/dev/null' EXIT INT TERM; \
		$(BIN)/flask run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# 50 clients through the real forms against gunicorn (4 workers) for LOAD_SECONDS on SQLite,
# then on PostgreSQL: the local server's database portal_load (recreated), or the EMPTY
# database LOAD_DATABASE_URL names (see bench/load.py). Rate limits in LOAD_REDIS_URL.
LOAD_SECONDS ?= 300
LOAD_DATABASE_URL ?= postgresql
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/1
load: install
	$(BIN)/python bench/load.py --seconds $(LOAD_SECONDS) --database sqlite \
		--database $(LOAD_DATABASE_URL) --redis $(LOAD_REDIS_URL)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check portal tests

# Measuring tools (bench/README.md). BENCH_ARGS passes options, e.g.
# make bench BENCH_ARGS="--database sqlite --rounds 2 --seconds 3".
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-dataset: install
	$(BIN)/python bench/dataset.py $(BENCH_ARGS)

bench-scale: install
	$(BIN)/python bench/scale.py $(BENCH_ARGS)

bench-explain: install
	$(BIN)/python bench/explain.py $(BENCH_ARGS)

bench-purge: install
	$(BIN)/python bench/purge.py $(BENCH_ARGS)

# Where one page's time goes, in process: make bench-profile BENCH_ARGS="/account".
bench-profile: install
	$(BIN)/python bench/profiler.py $(or $(BENCH_ARGS),/account)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
