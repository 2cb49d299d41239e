# The two commands a newcomer needs:
#   make run   - install, migrate, load the demo meeting, start web + worker + scheduler
#   make test  - the whole test suite (starts its own Redis; PostgreSQL local or embedded)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# `make run PORT=5001` or `PORT=5001 make run`
PORT   ?= 5000
HOST   ?= 127.0.0.1

.PHONY: run test soak lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/openfloor run --host $(HOST) --port $(PORT)

test: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2

# long fault tests: worker kills, Redis and PostgreSQL restarts, a web restart, workers away
soak: $(STAMP)
	$(BIN)/pytest -m soak -v

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	scripts/ensure-chromium
	$(BIN)/python -m bench.run_all --output docs/benchmarks.md

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
