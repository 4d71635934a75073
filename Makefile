# Trellis: `make run` serves the demo platform; `make test` runs every test.
# Both install what they need from nothing (Python 3.11 and make; npm and apt when present).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
UV_VERSION := 0.13.8
UV_INSTALL := $(BIN)/uv pip install --quiet --python $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Two workers: the machines here have two cores. PYTEST_ARGS="-k ..." narrows a run.
PYTEST_ARGS ?= -n 2 -rs
export TRELLIS_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test install lock node browser fonts migrate seed lint chain bench clean help

help:
	@echo "make run    install, migrate, seed the demo cluster, serve on http://$(HOST):$(PORT)"
	@echo "make test   install everything the tests need and run them (CI=true: nothing skips)"
	@echo "make chain  start a persistent local anvil node on 127.0.0.1:8545"
	@echo "make lint   ruff and mypy (the cores; trellis.chain strictly)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

# Exact versions come from the locks (requirements/*.txt, made by `make lock` from setup.cfg),
# so a fresh machine resolves nothing; uv installs them in seconds. `make run` installs only
# what running needs; the test tools come with `make test`.
$(STAMP): $(BIN)/uv requirements/run.txt setup.cfg pyproject.toml
	$(UV_INSTALL) -r requirements/run.txt
	$(UV_INSTALL) --no-deps -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements/test.txt
	$(UV_INSTALL) -r requirements/test.txt
	touch $(TEST_STAMP)

lock: $(BIN)/uv
	$(BIN)/uv pip compile --quiet --python-version 3.11 setup.cfg -o requirements/run.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 setup.cfg --extra test -o requirements/test.txt

install: $(STAMP)

# Node packages: the anvil node and OpenZeppelin's merkle-tree (for chain tests/benchmarks).
node:
	@if command -v npm >/dev/null 2>&1 && [ -f package-lock.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	    npm ci --no-audit --no-fund --loglevel=error; fi; \
	else echo "npm not found: chain-node tests will be skipped (they fail under CI=true)"; fi

# Debian's chromium for the browser tests (Playwright drives it; never a downloaded browser).
browser:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi; [ -x /usr/bin/chromium ] || echo "chromium not found: browser tests will be skipped"

# A CJK font for PDF statements.
fonts:
	@if ! fc-list :lang=zh 2>/dev/null | grep -q . && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null; \
	fi; true

migrate: install
	$(BIN)/trellis db upgrade

seed: migrate
	$(BIN)/trellis demo seed

# One process migrates, loads the demo the first time and serves (`trellis run`): the
# imports are paid once. `make migrate` and `make seed` remain for separate use.
run: install fonts
	$(BIN)/trellis run --host $(HOST) --port $(PORT)

test: $(TEST_STAMP) node browser fonts
	$(BIN)/ruff check trellis tests bench
	$(BIN)/mypy
	CI=$(CI) $(BIN)/python -m pytest $(PYTEST_ARGS)

# mypy reads its settings (which packages, which are strict) from setup.cfg's [mypy] sections.
lint: $(TEST_STAMP)
	$(BIN)/ruff check trellis tests bench
	$(BIN)/mypy

chain: node
	mkdir -p .chain
	node_modules/.bin/anvil --host 127.0.0.1 --port 8545 --hardfork cancun --state .chain/anvil.json --state-interval 10

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache
