# The two commands of the README: `make run` and `make test`. Everything else is helpers.
.PHONY: run test test-fast install system-deps lrs demo serve check bench clean

PORT ?= 8866
BIN := .venv/bin

run: install
	$(BIN)/workbench demo
	$(BIN)/workbench serve --port $(PORT)

# rebuild the demo organization from scratch (`make run` keeps an existing one)
demo: install
	$(BIN)/workbench demo --force

test: install system-deps
	@scripts/lrs.sh
	$(BIN)/workbench content check content
	$(BIN)/ruff check workbench tests benchmarks scripts
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile tests --nbval-lax notebooks

test-fast: install
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -m "not slow and not e2e and not postgres and not lrs"

install:
	@scripts/bootstrap.sh

system-deps:
	@scripts/system-deps.sh

lrs:
	@scripts/lrs.sh

bench: install system-deps
	$(BIN)/python -m pip install -q -e ".[benchmarks]"
	OPENBLAS_NUM_THREADS=1 $(BIN)/python -m benchmarks.run --quick

check: install
	$(BIN)/workbench content check content
	$(BIN)/ruff check workbench tests

clean:
	rm -rf .workbench reports/_build .pytest_cache
