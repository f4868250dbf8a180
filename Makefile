# Lagebild – developer entry points. Only Python 3.11+ and pip are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-e2e bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Creates the venv, migrates, loads the demo city and serves it (LAGEBILD_ADDR, default 127.0.0.1:8000).
demo: $(STAMP)
	LAGEBILD_DEBUG=$${LAGEBILD_DEBUG:-1} $(BIN)/lagebild demo --addrport $${LAGEBILD_ADDR:-127.0.0.1:8000}

# Runs every test (unit, integration, browser) against DATABASE_URL or the embedded SQLite,
# in PYTEST_WORKERS parallel processes (pytest-xdist; 0 = in this process). LAGEBILD_TEST_NOW
# runs every test at a chosen instant (tests/clock.py).
PYTEST_WORKERS ?= auto
test: $(STAMP)
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
