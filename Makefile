# munibond: every target installs what it needs on a fresh clone; stamp files keep repeated runs
# fast (delete a stamp, or run `make distclean`, to force a reinstall).
#
#   make venv             .venv with munibond (editable) and the dev + local-chain extras
#   make node_modules     npm ci: solc-js, OpenZeppelin, solhint, anvil
#   make build            compile contracts/ into munibond/artifacts/ (skipped when up to date;
#                         FORCE=1 recompiles)
#   make check-artifacts  recompile in a temporary folder; fail unless the committed artifacts are
#                         reproduced byte for byte
#   make lint             ruff, mypy --strict, solhint
#   make slither          .venv-slither (slither-analyzer), scripts/slither.sh: fails on any High
#                         or Medium finding, and on an ERC-20 non-conformance of BondToken
#                         (slither-check-erc); see docs/static-analysis.md
#   make test             lint + slither + check-artifacts + pytest
#   make demo / bench     scripts/demo.py / bench/gas.py
#   make bench-scale      bench/coupon_scale.py: one coupon pushed to 10,000 holders, the payer
#                         killed half way and re-run (a few minutes; not part of CI)
#   make bench-holders    bench/holders.py: the holder register of 10,000 holders, timed
#                         (bench/results/holders.json; not part of CI)
#   make brownie          .venv-brownie (eth-brownie), brownie compile, deploy on its anvil
#   make clean            caches and generated files (keeps the venvs, node_modules, artifacts)
#   make distclean        clean + the venvs (.venv, .venv-brownie, .venv-slither) and node_modules

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.munibond-installed
NODE_STAMP := node_modules/.munibond-installed

BROWNIE_VERSION := 1.22.2
BROWNIE_VENV := .venv-brownie
BROWNIE := $(BROWNIE_VENV)/bin/brownie
BROWNIE_STAMP := $(BROWNIE_VENV)/.munibond-installed
SLITHER_VERSION := 0.11.6
SLITHER_VENV := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.munibond-installed
# brownie finds solc 0.8.37 through SOLCX_BINARY_PATH (.solc/solc-v0.8.37, written by
# scripts/brownie-setup.sh) and launches the development network's `anvil` from PATH
BROWNIE_ENV := PATH="$(CURDIR)/node_modules/.bin:$$PATH" SOLCX_BINARY_PATH="$(CURDIR)/.solc"

SOLHINT := node_modules/.bin/solhint --disc --noPoster --config .solhint.json

.PHONY: venv node_modules build check-artifacts lint slither test demo bench bench-scale brownie \
  clean distclean
.PHONY: bench-holders

# -- environments ------------------------------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,local]'
	touch $@

node_modules: $(NODE_STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# -- contracts ---------------------------------------------------------------------------------

build: venv node_modules
	$(VENV)/bin/munibond build $(if $(FORCE),--force,)

check-artifacts: venv node_modules
	$(VENV)/bin/munibond build --check

# -- checks ------------------------------------------------------------------------------------

lint: venv node_modules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(SOLHINT) 'contracts/**/*.sol'

# slither in its own environment (its dependencies stay out of .venv); it uses the compiler and
# settings of `munibond build` through .venv's munibond
$(SLITHER_STAMP): Makefile
	test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install --quiet --disable-pip-version-check \
	  slither-analyzer==$(SLITHER_VERSION)
	touch $@

slither: $(SLITHER_STAMP) venv node_modules
	scripts/slither.sh

test: lint slither check-artifacts
	$(VENV)/bin/pytest -q

demo: build
	$(PY) scripts/demo.py

bench: build
	$(PY) bench/gas.py

bench-scale: build
	$(PY) bench/coupon_scale.py

bench-holders: build
	$(PY) bench/holders.py

# -- brownie (its own environment: it pins web3, eth-account, pytest, hypothesis) ---------------

$(BROWNIE_STAMP): pyproject.toml scripts/unmet_requirements.py
	test -x $(BROWNIE) || { $(PYTHON) -m venv $(BROWNIE_VENV) && \
	  $(BROWNIE_VENV)/bin/pip install --quiet --disable-pip-version-check \
	    eth-brownie==$(BROWNIE_VERSION); }
	$(BROWNIE_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
	@# munibond's own requirements that brownie's environment lacks, without moving brownie's pins
	missing="$$($(BROWNIE_VENV)/bin/python scripts/unmet_requirements.py)"; \
	if [ -n "$$missing" ]; then \
	  echo "installing into $(BROWNIE_VENV): $$(echo $$missing)"; \
	  $(BROWNIE_VENV)/bin/pip freeze --exclude-editable > $(BROWNIE_VENV)/constraints.txt; \
	  $(BROWNIE_VENV)/bin/pip install --quiet --disable-pip-version-check \
	    -c $(BROWNIE_VENV)/constraints.txt $$missing; \
	fi
	$(BROWNIE_VENV)/bin/python -c 'import munibond.build'
	touch $@

brownie: $(BROWNIE_STAMP) node_modules
	$(BROWNIE_ENV) scripts/brownie-setup.sh
	$(BROWNIE_ENV) $(BROWNIE) compile
	$(BROWNIE_ENV) scripts/brownie-run.sh scripts/deploy_bond.py --network development

# -- housekeeping ------------------------------------------------------------------------------

clean:
	rm -rf build reports .solc .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -path ./node_modules -prune -o -path ./$(VENV) -prune -o -path ./$(BROWNIE_VENV) \
	  -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) $(BROWNIE_VENV) $(SLITHER_VENV) node_modules *.egg-info
