# The one entry point for people and CI. `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

# uv: the one on PATH, else a private copy installed from PyPI into .tools/ (nothing global).
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
PYTHON ?= python3
PACKAGES := batteries-models batteries-crud batteries-migrate batteries-fixtures batteries-cli batteries-pytest
export UV_PYTHON_DOWNLOADS ?= never
# Trust the system's certificate store (some networks re-sign TLS with their own CA).
export UV_SYSTEM_CERTS ?= 1

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet uv

.PHONY: uv
uv: $(UV)

.venv/.synced: $(UV) uv.lock pyproject.toml $(wildcard packages/*/pyproject.toml)
	$(UV) sync --locked --all-packages --all-extras
	@touch $@

.PHONY: install
install: .venv/.synced ## Install uv if missing, then sync every package, extra and dev tool

.PHONY: lock
lock: $(UV) ## Re-resolve uv.lock after changing a pyproject.toml
	$(UV) lock

.PHONY: lint
lint: install ## ruff lint and format check
	$(UV) run ruff check .
	$(UV) run ruff format --check .

.PHONY: format
format: install ## Apply ruff fixes and formatting
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

.PHONY: typecheck
typecheck: install ## Strict mypy on every package
	$(UV) run mypy $(foreach p,$(PACKAGES),-p $(subst -,_,$(p)))
	$(UV) run mypy scripts tests-typing

.PHONY: contracts
contracts: install ## Import-boundary contracts and sibling version ranges
	$(UV) run lint-imports
	$(UV) run python scripts/check_versions.py

.PHONY: api
api: install ## Check each package's public API against its snapshot
	$(UV) run python scripts/api_snapshot.py check

.PHONY: api-update
api-update: install ## Rewrite the public API snapshots after an intended change
	$(UV) run python scripts/api_snapshot.py update

.PHONY: unit
unit: install ## Unit tests of every package
	$(UV) run pytest packages

.PHONY: integration
integration: install ## Integration suite on SQLite and PostgreSQL
	$(UV) run pytest tests-integration

.PHONY: isolated
isolated: $(UV) ## Each package's own tests in an environment holding only what it declares
	@for pkg in $(PACKAGES); do \
	  [ -d packages/$$pkg/tests ] || continue; \
	  echo "== $$pkg, alone"; \
	  UV_PROJECT_ENVIRONMENT=.venvs/$$pkg $(UV) sync --quiet --locked --package $$pkg --all-extras --group dev; \
	  UV_PROJECT_ENVIRONMENT=.venvs/$$pkg $(UV) run --no-sync --package $$pkg pytest -q $(ISOLATED_WORKERS) packages/$$pkg; \
	done

.PHONY: smoke
smoke: $(UV) ## Build each wheel and install it alone into a clean venv
	$(UV) run python scripts/smoke_install.py

# `make test` runs the suite on TEST_WORKERS (two xdist processes: the tests are independent, as
# `make stress` checks); each file's tests stay together, in file order, on one worker. The
# batteries-pytest tests (each runs a real pytest in a subprocess) run once, in `isolated`, next
# to only what that package declares, where single tests are shared out (their files are long and
# each test owns its project). TEST_WORKERS= ISOLATED_WORKERS= runs each step in one process.
TEST_WORKERS ?= -n 2 --dist loadfile
ISOLATED_WORKERS ?= -n 2

.PHONY: test
test: lint typecheck contracts api docs ## Every check and every test (the one CI runs)
	$(UV) run pytest $(TEST_WORKERS) packages tests-integration --ignore=packages/batteries-pytest
	$(MAKE) --no-print-directory isolated smoke

# `make stress`: the whole suite STRESS_RUNS times in a row on a busy machine: two xdist workers,
# random order (a new seed per run, printed), and STRESS_HOGS processes spinning on the CPU for
# at most STRESS_TIMEOUT seconds. It stops at the first failing run; re-run that order with
# `uv run pytest packages tests-integration -p randomly --randomly-seed=SEED`.
STRESS_RUNS ?= 5
STRESS_HOGS ?= 2
STRESS_TIMEOUT ?= 3600
STRESS_SEED ?= $(shell date +%s)

.PHONY: stress
stress: install ## The whole suite 5 times in a row: xdist -n 2, random order, CPU hogs
	@hogs=""; \
	for _ in $$(seq $(STRESS_HOGS)); do \
	  timeout $(STRESS_TIMEOUT) $(PYTHON) -c 'while True: pass' & hogs="$$hogs $$!"; \
	done; \
	trap 'kill $$hogs 2>/dev/null || true' EXIT; \
	for run in $$(seq $(STRESS_RUNS)); do \
	  seed=$$(( $(STRESS_SEED) + run )); \
	  echo "== stress run $$run/$(STRESS_RUNS): -n 2 --randomly-seed=$$seed, $(STRESS_HOGS) CPU hogs"; \
	  $(UV) run pytest packages tests-integration -q -p no:cacheprovider -n 2 \
	    -p randomly --randomly-seed=$$seed || { echo "== run $$run failed (seed $$seed)"; exit 1; }; \
	done; \
	echo "== $(STRESS_RUNS) runs in a row passed"

.PHONY: demo
demo: install ## The demo on embedded SQLite: migrate, load fixtures, serve over HTTP (uvicorn), dump back
	VENV=$(CURDIR)/.venv bash demo/run.sh

.PHONY: bench
bench: install ## Benchmarks (ratios against references of the same run); BENCH_ARGS=--quick for a smoke run
	$(UV) run --group bench python bench/run.py $(BENCH_ARGS)

.PHONY: docs
docs: install ## Build the documentation with --strict
	NO_MKDOCS_2_WARNING=1 $(UV) run mkdocs build --strict --quiet

.PHONY: build
build: install ## Build every distribution into dist/
	rm -rf dist
	$(UV) build --all-packages --out-dir dist

.PHONY: clean
clean: ## Remove build and cache output
	rm -rf dist site .venv .tools .venvs .pytest_cache .mypy_cache .ruff_cache
