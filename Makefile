# Lagebild – developer entry points. Only Python 3.11+ and pip are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo serve test bench lint format clean

# axe-core for the accessibility checks of the browser suite, from the npm registry (never a CDN).
AXE_VERSION := 4.11.4
AXE_STAMP := $(VENV)/axe/.axe-core-$(AXE_VERSION)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(AXE_STAMP): | $(STAMP)
	@if command -v npm >/dev/null; then \
	  npm install --prefix $(VENV)/axe --no-save --no-audit --no-fund --silent axe-core@$(AXE_VERSION) \
	  && touch $(AXE_STAMP); \
	else echo "npm not found: the accessibility tests need axe-core (Debian: apt-get install npm)"; fi

# Creates the venv, migrates, loads the demo city and serves it (LAGEBILD_ADDR, default 127.0.0.1:8000).
# Demo logins need no second factor (LAGEBILD_TWO_FACTOR_REQUIRED=1 to try it); allowed only with DEBUG on.
demo: $(STAMP)
	LAGEBILD_DEBUG=$${LAGEBILD_DEBUG:-1} LAGEBILD_TWO_FACTOR_REQUIRED=$${LAGEBILD_TWO_FACTOR_REQUIRED:-0} $(BIN)/lagebild demo --addrport $${LAGEBILD_ADDR:-127.0.0.1:8000}

# The production application server (gunicorn, docs/operations.md) on LAGEBILD_BIND (default
# 127.0.0.1:8000) with DEBUG off; static files are collected into var/collected-static so the
# test suite keeps serving them from the sources.
serve: $(STAMP)
	LAGEBILD_STATIC_ROOT=$${LAGEBILD_STATIC_ROOT:-var/collected-static} $(BIN)/lagebild serve

# Runs every test (unit, integration, browser) against DATABASE_URL or the embedded SQLite,
# in PYTEST_WORKERS parallel processes (pytest-xdist; 0 = in this process). LAGEBILD_TEST_NOW
# runs every test at a chosen instant (tests/clock.py).
PYTEST_WORKERS ?= auto
test: $(STAMP) $(AXE_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) var build *.egg-info
