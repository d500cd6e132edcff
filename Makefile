# rollupkit's two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both set up everything they need on a fresh machine: a Python virtual environment in
# .venv with rollupkit installed from this checkout, and the npm packages (the Solidity
# compiler) in node_modules.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test processes (pytest-xdist): the suite's end-to-end tests mostly wait on nodes, L1s and
# subprocesses, so two workers halve it even on two cores.
JOBS ?= 2

.PHONY: setup demo test test-quick lint bench clean

setup: $(VENV)/.installed node_modules/.installed

# pip's own output goes to a log, shown only if the install fails: an editable install of a
# package-dir layout always ends with setuptools' notice about its import finder.
$(VENV)/.installed: pyproject.toml
	@echo "setting up $(VENV): rollupkit from this checkout and its dependencies (log: $(VENV)/pip.log)"
	@$(PYTHON) -m venv $(VENV)
	@( $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -e ".[test]" ) \
		> $(VENV)/pip.log 2>&1 || { tail -n 40 $(VENV)/pip.log; exit 1; }
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "installing the npm packages (the Solidity compiler, anvil, cast)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: setup
	$(BIN)/rollupkit demo

test: setup lint
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

test-quick: setup
	$(BIN)/python -m pytest -n $(JOBS) -m "not slow" $(PYTEST_ARGS)

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
