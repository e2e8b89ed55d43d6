# One entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONPATH := $(CURDIR)/lambdas:$(CURDIR)
CDK := node_modules/.bin/cdk
CDK_FLAGS := --no-notices --no-version-reporting

.PHONY: help install demo synth lint typecheck unit test mutation local-run preflight deploy destroy schemas bench-imports bench-demo bench-prep bench-train bench-quality bench-npmi clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Set-up output goes to stderr, so `make local-run > events.jsonl` captures events only.
$(VENV)/.installed: requirements.txt requirements-lambda.txt requirements-cli.txt requirements-dev.txt requirements-train.txt
	@echo "Setting up $(VENV) (Python packages, PyTorch CPU and Optuna for local training)..." >&2
	@$(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/pip install --quiet --upgrade pip >&2
	@$(BIN)/pip install --quiet -r requirements-dev.txt -r requirements-train.txt >&2
	@# The ntm-tuning command, from this checkout (editable: code changes need no reinstall).
	@$(BIN)/pip install --quiet --no-deps -e . >&2
	@touch $@

$(CDK): package.json
	@echo "Installing the CDK CLI (local node_modules)..." >&2
	@npm install --no-audit --no-fund --loglevel=error >&2
	@touch $@

install: $(VENV)/.installed $(CDK) ## Virtual environment, Python packages and the CDK CLI (local)

CORPUS ?=
demo: install ## The whole product offline: corpus -> preparation -> real NTM tuning -> event
	@python -m offline.demo $(if $(CORPUS),--corpus $(CORPUS)) $(ARGS)

synth: install ## Synthesize the CloudFormation template (no AWS credentials needed)
	$(CDK) synth $(CDK_FLAGS) --quiet
	@echo "Template: cdk.out/$$(cd cdk.out && ls *.template.json | head -1)"

lint: install ## ruff (lint and format check)
	ruff check .
	ruff format --check .

typecheck: install ## mypy
	mypy lambdas infra offline preparation trainer benchmarks tools ntm_cli app.py

# Test modules run in parallel, one module per worker at a time (its fixtures are built once).
PYTEST_WORKERS ?= auto
PYTEST := pytest -q -n $(PYTEST_WORKERS) --dist loadfile

unit: install ## pytest only
	$(PYTEST)

test: lint typecheck synth ## Lint, type check, synth + cfn-lint, all tests
	cfn-lint
	$(PYTEST)

mutation: install ## Mutation score of the domain packages (mutmut, minutes); not part of test
	python tools/mutation.py $(ARGS)

REQUEST ?= examples/requests/tune-ntm.json
DATA ?= examples/data
local-run: install ## Run REQUEST through the offline workflow, with DATA as the data bucket
	@python -m offline $(REQUEST) $(if $(DATA),--data $(DATA)) $(ARGS)

preflight: install ## Read-only checks of the target account and region before a deploy
	@python -m infra.preflight $(ARGS)

deploy: install ## Deploy to the account and region of your AWS credentials
	$(CDK) deploy $(CDK_FLAGS) --require-approval broadening $(ARGS)

destroy: install ## Delete the stack (retained buckets stay unless ntm:removalPolicy=destroy)
	$(CDK) destroy $(CDK_FLAGS) $(ARGS)

schemas: install ## Regenerate the JSON Schemas from the pydantic models
	python -m ntm_tuning.schemas schemas

bench-imports: synth ## Cold import of every handler from its cdk.out asset, as Lambda runs it, vs boto3
	python benchmarks/handler_imports.py $(ARGS)

$(VENV)/.bench: requirements-bench.txt $(VENV)/.installed
	@$(BIN)/pip install --quiet -r requirements-bench.txt >&2
	@touch $@

bench-demo: install ## make demo's corpus loading and preparation stages against prepare() alone
	python benchmarks/demo.py $(ARGS)

bench-prep: install $(VENV)/.bench ## Dataset preparation vs CountVectorizer, 100k documents
	python benchmarks/prep.py $(ARGS)

bench-train: install ## Local NTM training throughput (documents/s per epoch), CPU and CUDA if present
	python benchmarks/train.py $(ARGS)

bench-quality: install $(VENV)/.bench ## Local NTM vs scikit-learn LDA over 3 fixed seeds (ARGS=--per-job: every job)
	python benchmarks/quality.py $(ARGS)

bench-npmi: install ## The summary's NPMI step (stdlib, streamed) vs the trainer's NumPy NPMI, same channel
	python benchmarks/npmi.py $(ARGS)

clean: ## Remove build outputs (keeps the virtual environment)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
