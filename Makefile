# The commands the README gives. Each creates .venv when absent and installs the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pytest-xdist workers for make test and test-quick: auto is one a CPU this process may use;
# PYTEST_WORKERS=0 runs the suite in one process (as python -m pytest does)
PYTEST_WORKERS ?= auto
PYTEST_XDIST := -n $(PYTEST_WORKERS) --dist worksteal

.PHONY: demo test test-quick lint bench bench-quality golden clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

## make demo: crawl the bundled demo publisher, build the site and serve it on http://127.0.0.1:8000
demo: $(VENV)/.installed
	$(BIN)/csrnews demo

## make test: ruff and the whole pytest suite on every CPU (browser tests need /usr/bin/chromium)
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_XDIST)

## make test-quick: ruff and the tests not marked slow (under 2 minutes on 2 cores)
test-quick: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_XDIST) -m "not slow"

## make lint: ruff (lint and format) and the type checker (mypy, see tests/typecheck.py)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.typecheck

## make bench: the benchmarks in bench/ (see docs/benchmarks.md)
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

## make bench-quality: extraction and enrichment scores on ../shared's development sets, when present
bench-quality: $(VENV)/.installed-test
	$(BIN)/python -m bench quality

## make golden: regenerate the golden site in tests/golden/ after an intended change
golden: $(VENV)/.installed-test
	$(BIN)/python -m tests.golden_site --regenerate

clean:
	rm -rf output index var reports .pytest_cache
