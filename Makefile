# approute developer tasks. `make run` gives a working system with demo data; `make test` is what CI runs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000
# Bundle folders: those holding a .bpmn (so processes/__pycache__/ is never taken for one).
BUNDLES = $(sort $(dir $(wildcard processes/*/*.bpmn)))

.PHONY: run test bench conformance lint format venv

venv: $(BIN)/python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

run: venv
	$(BIN)/pip install -q -e .
	$(BIN)/approute init
	$(BIN)/approute deploy $(BUNDLES)
	$(BIN)/approute demo
	$(BIN)/approute serve --host $(HOST) --port $(PORT)

test: venv
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider tests $(PYTEST_ARGS)

conformance: venv
	$(BIN)/python -W ignore::DeprecationWarning -m tests.conformance.corpus
	$(BIN)/python -m tests.conformance.dmn_tck

bench: venv
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/staff_import_bench.py
	$(BIN)/python bench/background_bench.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
