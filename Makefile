# The two commands the README opens with: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install install-dev services lint unit bench clean

# `make run PORT=8001` serves on another port.
PORT ?= 8000
run: install
	$(BIN)/velora serve --port $(PORT)

# One test file per worker (module fixtures stay in one process), a worker per core up to 4.
test: install-dev services lint
	. ./.velora-test.env && $(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

# Starts (or reuses) PostgreSQL and MariaDB, and writes the URLs the tests read.
services:
	bash scripts/services.sh .velora-test.env

lint: install-dev
	$(BIN)/ruff check domain eventstore projections services adapters api migrations tests bench scripts
	$(BIN)/mypy domain eventstore projections services adapters api
	$(BIN)/lint-imports

bench: install-dev services
	. ./.velora-test.env && $(BIN)/python bench/eventstore.py
	. ./.velora-test.env && $(BIN)/python bench/relay.py
	$(BIN)/python bench/search.py
	. ./.velora-test.env && $(BIN)/python bench/checkout.py --quick

clean:
	rm -rf $(VENV) .velora .velora-test.env .pytest_cache .mypy_cache .ruff_cache
