# Heliostat: every target installs what it needs (idempotently) before it runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
JS := clients/js
JS_STAMP := $(JS)/node_modules/.installed-$(shell cat $(JS)/package.json $(JS)/package-lock.json | sha1sum | cut -c1-12)
SOL := contracts
SOL_STAMP := $(SOL)/node_modules/.installed-$(shell cat $(SOL)/package.json $(SOL)/package-lock.json | sha1sum | cut -c1-12)
CHROMIUM := /usr/bin/chromium
APT := $(shell [ "$$(id -u)" = 0 ] || echo sudo) env DEBIAN_FRONTEND=noninteractive apt-get
export NUMBA_CACHE_DIR ?= $(HOME)/.cache/heliostat/numba
export HYPOTHESIS_PROFILE ?= ci

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP) $(JS_STAMP) $(CHROMIUM) $(SOL_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The real Solana JS clients (web3.js 1.x, spl-token, kit) that tests drive against the node.
$(JS_STAMP): $(JS)/package.json $(JS)/package-lock.json
	cd $(JS) && npm ci --no-audit --no-fund --loglevel=error
	rm -f $(JS)/node_modules/.installed-*
	touch $@

# The Ethereum toolchain (solc, anvil, forge) for the settlement contracts and their tests.
$(SOL_STAMP): $(SOL)/package.json $(SOL)/package-lock.json
	cd $(SOL) && npm ci --no-audit --no-fund --loglevel=error
	rm -f $(SOL)/node_modules/.installed-*
	touch $@

# Debian's chromium, for the explorer's test in headless mode.
$(CHROMIUM):
	$(APT) install -y -q --no-install-recommends chromium || \
	{ $(APT) update -q && $(APT) install -y -q --no-install-recommends chromium; }

demo: setup
	$(PY) -m heliostat.devnet.demo $(DEMO_ARGS)

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

bench: setup
	for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
