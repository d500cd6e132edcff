# rollupkit's two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both set up everything they need on a fresh machine: a Python virtual environment in
# .venv with rollupkit installed from this checkout, and the npm packages (the Solidity
# compiler) in node_modules.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: setup demo test test-quick lint bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/rollupkit demo

test: setup lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-quick: setup
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/execute_evm.py
	$(BIN)/python benchmarks/execute_worst.py
	$(BIN)/python benchmarks/l1.py
	$(BIN)/python benchmarks/journey.py

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
