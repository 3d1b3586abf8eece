# Quick start: `make run` (analyse corpus/ into outputs/) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean train

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/reportminer run corpus --out outputs --codebook municipal-prevention

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src flows tests training scripts
	$(BIN)/ruff format --check src flows tests training scripts

# Re-train the bundled NER model from ../shared/data (see training/README.md).
train: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[train]"
	cd training && ../$(BIN)/python -m weasel run all

clean:
	rm -rf $(VENV) outputs/parquet outputs/csv outputs/reportminer.sqlite
