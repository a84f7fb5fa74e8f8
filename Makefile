# Two commands matter: `make run` (the whole stack on this machine) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STAGE ?= dev

.PHONY: run test lint install clean package lint-template bench e2e openapi client soak admin

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# make e2e and make bench: playwright, matplotlib and tqdm on top (requirements-tools.txt).
TOOLS_STAMP := $(VENV)/.installed-tools
$(TOOLS_STAMP): $(STAMP) requirements-tools.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $(TOOLS_STAMP)

run: $(STAMP)
	$(BIN)/python -m devstack

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	$(BIN)/pytest -n auto

# The OpenAPI document, built from the code (chalicelib/openapi.py); tests/test_openapi.py fails while the
# committed openapi.json is stale.
openapi: $(STAMP)
	$(BIN)/python -m tools.openapi

# The TypeScript client (clients/typescript): install its pinned packages, generate src/schema.d.ts from
# openapi.json (generated, never committed), type-check the client and its example purchase flow, build dist/.
client:
	cd clients/typescript && npm ci --no-audit --no-fund && npm run typecheck && npm run build

# The back office (admin/): the client's types first (make client), then its pinned packages, type-check and
# the static build in admin/dist, which `make run` serves on 127.0.0.1:$(ADMIN_PORT:-8081) and infra/ deploys.
admin: client
	cd admin && npm ci --no-audit --no-fund && npm run build

# The demo storefront in headless Chromium (Debian's: Playwright's own browser builds cannot be
# downloaded here) against the local stack on free ports; screenshot in test-artifacts/.
CHROMIUM ?= /usr/bin/chromium
E2E_TIMEOUT ?= 480
e2e: $(TOOLS_STAMP)
	@test -x $(CHROMIUM) || { apt-get update && apt-get install -y --no-install-recommends chromium; }
	CHROMIUM=$(CHROMIUM) timeout -k 10 $(E2E_TIMEOUT) $(BIN)/pytest e2e

# Benchmarks, not part of `make test` (README, "Benchmarks and reliability"): results in bench/results/.
bench: $(TOOLS_STAMP)
	$(BIN)/python -m bench

# Soak run (README, "Soak run"): SOAK_USERS shoppers (default 50) doing full purchases for SOAK_SECONDS
# (default 300) against the local stack on loopback, with dropped webhooks, duplicate charges and DynamoDB
# timeouts injected; summary in bench/results/soak.json, the stack's log beside it.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

# The deployable template of one stage: build/$(STAGE)/sam.json + deployment.zip (README, "Deploying to AWS").
package: $(STAMP)
	$(BIN)/python infra/package.py --stage $(STAGE) --out build/$(STAGE)

# `make test` checks both stages too (tests/test_package.py); this is the same check on build/$(STAGE).
lint-template: package
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
