# RecordsDesk: `make demo` and `make test` do all set-up on a fresh Debian machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install services migrate demo test lint typecheck bench run clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

services:
	bash infra/ensure-services.sh
	bash infra/ensure-test-tools.sh

migrate: install services
	$(BIN)/recordsdesk migrate

demo: migrate
	$(BIN)/recordsdesk demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

test: install services lint typecheck
	$(BIN)/python -m pytest -q

bench: install services
	$(BIN)/python bench/mail_pipe.py
	$(BIN)/python bench/mailroom.py
	$(BIN)/python bench/notify.py

run: migrate
	$(BIN)/recordsdesk run all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
