# LedgerLou developer commands. `make run` and `make test` install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 3000
CHART ?= skr03
STACK ?= ledgerlou-dev
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/core/python

.PHONY: run test test-fast lint bench openapi openapi-check validate build deploy tenant verify clean install

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

run: install  ## serve the whole API on http://127.0.0.1:$(PORT) (moto as AWS)
	@$(PY) -m local --port $(PORT)

test: install  ## the whole suite: unit, integration (moto), e2e (HTTP against the local runtime)
	@$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: install
	@$(PY) -m pytest -q -x -m "not e2e and not slow"

lint: install  ## ruff + mypy + cfn-lint + OpenAPI drift
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/mypy layers/core/python/ledgerlou functions local
	@$(VENV)/bin/cfn-lint template.yaml
	@$(MAKE) --no-print-directory openapi-check

bench: install  ## throughput/latency figures as JSON in bench/results/
	@$(PY) -m bench

openapi: install  ## regenerate functions/openapi/openapi.json from the route models
	@$(PY) -m local.openapi_gen --write

openapi-check: install
	@$(PY) -m local.openapi_gen --check

validate:  ## sam validate --lint (needs aws-sam-cli, kept in its own venv: it pins its own boto3)
	@test -x .venv-sam/bin/sam || { $(PYTHON) -m venv .venv-sam && .venv-sam/bin/pip install -q aws-sam-cli==1.170.0; }
	@.venv-sam/bin/sam validate --lint

build: validate  ## sam build (no Docker needed for python3.11)
	@.venv-sam/bin/sam build --cached --parallel

deploy: build  ## sam deploy (needs an AWS account; parameters in samconfig.toml)
	@.venv-sam/bin/sam deploy --config-env $(or $(STAGE),default)

tenant: install  ## create a tenant (local stack on PORT, or LEDGERLOU_TARGET=aws) and print its admin key
	@test -n "$(NAME)" || { echo "usage: make tenant NAME=<name> [CHART=skr03|skr04]"; exit 2; }
	@$(PY) -m local.tenant --name "$(NAME)" --chart "$(CHART)" --port $(PORT) --stack $(STACK)

verify: install  ## verify an exported journal offline: make verify FILE=export.jsonl
	@$(PY) -m ledgerlou.verify "$(FILE)"

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache bench/results
