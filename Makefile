# The two commands of README: `make demo` (set up + run the demo) and `make test` (everything CI runs).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: demo test test-lake-scale lint bench dist services-up services-down clean

$(BIN)/shipgauge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-deps: $(BIN)/shipgauge
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: $(BIN)/shipgauge
	$(BIN)/shipgauge demo

# The wheel and sdist users install (`pip install dist/shipgauge-*.whl`); the wheel carries
# the models, migrations, schemas, dashboard and demo data.
dist: $(VENV)/.test-deps
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

# RabbitMQ, PostgreSQL and Chromium for the tests (docs/services.md). Ports come from the
# environment or the command line: SHIPGAUGE_AMQP_PORT (5672), SHIPGAUGE_PG_PORT (5433); the
# script, tests/conftest.py and bench/ build the same URLs from them.
services-up:
	bash scripts/services.sh up

services-down:
	bash scripts/services.sh down

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(VENV)/.test-deps services-up lint
	$(BIN)/pytest

# The models on Spark against DuckDB over lakes of 1,000,000 task runs and 100,000 deployments
# (docs/scale.md); `make test` leaves them out for time. The test extra installs PySpark.
test-lake-scale: $(VENV)/.test-deps
	$(BIN)/pytest -m spark_scale tests/integration/lake

bench: $(VENV)/.test-deps services-up
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .services *.duckdb dist build
