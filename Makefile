# Two commands matter: `make run` (the whole stack on this machine) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test lint install clean package lint-template

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m devstack

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/pytest

# The deployable template of one stage: build/$(STAGE)/sam.json + deployment.zip (README, "Deploying to AWS").
package: $(STAMP)
	$(BIN)/python infra/package.py --stage $(STAGE) --out build/$(STAGE)

# `make test` checks both stages too (tests/test_package.py); this is the same check on build/$(STAGE).
lint-template: package
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
