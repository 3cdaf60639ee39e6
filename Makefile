# Omni: `make up` runs the platform, `make test` proves it. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(abspath .)
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
SERVICES := $(shell ls -d services/*/ | xargs -n1 basename | grep -v '^chassis$$' | grep -v '^gateway$$')
DATABASES := $(addprefix omni_,$(SERVICES))
# Set KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL to use existing servers; otherwise the local stack is started.
STACK_ENV := KAFKA_BOOTSTRAP_SERVERS=$${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092} \
	DATABASE_URL=$${DATABASE_URL:-postgresql://omni:omni@127.0.0.1:5432}
PYTEST_ARGS ?=

.PHONY: help uv sync stack up dev down test test-unit lint fmt schemas asyncapi geo-data bench-bus bench-carriers demo bench bench-stock bench-soak chaos asyncapi-check-deps

help: ## show every target
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

uv: ## install uv (from PyPI) when missing
	@command -v uv >/dev/null 2>&1 || [ -x $(HOME)/.local/bin/uv ] \
	  || python3 -m pip install --user --quiet uv \
	  || python3 -m pip install --user --quiet --break-system-packages uv \
	  || { echo "cannot install uv from PyPI (python3 -m pip install --user uv failed)" >&2; exit 1; }

sync: uv ## install every package of the workspace (frozen to uv.lock)
	@$(UV) sync --all-packages --frozen --quiet

stack: sync ## start Kafka and PostgreSQL (or check the servers given by env), create topics and databases
	@deploy/local/kafka.sh start
	@deploy/local/postgres.sh start $(DATABASES)
	@$(STACK_ENV) $(UV) run --frozen omni topics create

up: stack ## run the platform: stack, migrations, the platform simulator, every service (supervisord restarts a dead one), and say where everything is
	@$(if $(SERVICES),$(STACK_ENV) $(UV) run --frozen omni migrate $(SERVICES))
	@deploy/local/sim.sh start
	@$(STACK_ENV) deploy/local/services.sh start
	@$(UV) run --frozen omni-tools seed
	@echo "Omni is up: gateway http://127.0.0.1:8000 (docs /docs; dev API keys in services/gateway/dev-api-keys.json); platform simulator http://127.0.0.1:$${OMNI_SIM_PORT:-8090}/_sim"

dev: stack ## like `make up` but in the foreground under honcho (Ctrl-C stops all; no restarts)
	@$(if $(SERVICES),$(STACK_ENV) $(UV) run --frozen omni migrate $(SERVICES))
	@$(STACK_ENV) $(UV) run --frozen honcho -f Procfile start

down: ## stop what `make up` started
	@deploy/local/services.sh stop || true
	@deploy/local/sim.sh stop || true
	@deploy/local/kafka.sh stop
	@deploy/local/postgres.sh stop

test: stack asyncapi-check-deps ## run every test (unit, integration, e2e) on real Kafka and PostgreSQL; non-zero on any failure
	@$(STACK_ENV) $(UV) run --frozen pytest $(PYTEST_ARGS)

test-unit: sync asyncapi-check-deps ## only the fast tests (no Kafka, no PostgreSQL)
	@$(UV) run --frozen pytest -m "not integration and not e2e" $(PYTEST_ARGS)

lint: sync ## ruff check and format check
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .

fmt: sync ## ruff fix and format
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

schemas: sync ## write contracts/schemas/<type>.v<N>.json (refuses a breaking change to a published one)
	@$(UV) run --frozen python -m omni_contracts.schemas write contracts/schemas

asyncapi: sync ## write contracts/asyncapi.json, every topic and message
	@$(UV) run --frozen python -m omni_contracts.asyncapi contracts/asyncapi.json

geo-data: sync ## regenerate the order service's divisions.csv (China's provinces, cities, districts + coordinates) from the cpca wheel on PyPI
	@$(UV) run --frozen python -m omni_tools.geo_dataset $(GEO_ARGS)

asyncapi-check-deps: ## install the official AsyncAPI parser (npm, pinned) that a test validates asyncapi.json with
	@[ -d contracts/asyncapi-check/node_modules/@asyncapi/parser ] \
	  || npm ci --prefix contracts/asyncapi-check --no-audit --no-fund --ignore-scripts --loglevel=error \
	  || { echo "cannot install contracts/asyncapi-check (needs node >= 18 and npm)" >&2; exit 1; }

demo: ## send a few signed Tmall orders through the gateway and show each order's journey (after `make up`)
	@$(UV) run --frozen omni-tools demo

bench: ## every performance target in one run, one table: webhooks for BENCH_SECONDS (60) or BENCH_ORDERS, + BENCH_ARGS (after `make up`)
	@$(STACK_ENV) $(UV) run --frozen omni-tools bench --seconds $${BENCH_SECONDS:-60} --orders $${BENCH_ORDERS:-0} $(BENCH_ARGS)

bench-stock: ## stock sync: change -> simulator p50/p99 under 200 orders/s, coalescing, hot SKU pushes/s, channel CPU/RSS; + BENCH_ARGS (after `make up`)
	@$(STACK_ENV) $(UV) run --frozen omni-tools bench-stock $(BENCH_ARGS)

bench-soak: ## `make bench` with BENCH_SOAK_SECONDS (600) of webhooks at the maximum, then RSS (after `make up`)
	@$(STACK_ENV) $(UV) run --frozen omni-tools bench --seconds $${BENCH_SOAK_SECONDS:-600} $(BENCH_ARGS)

.PHONY: bench-routing
bench-routing: sync ## routing cost: sourcing decisions/s for BENCH_ORDERS (10000) orders over BENCH_NODES (200) nodes, pure function (no stack); + BENCH_ARGS; then carrier decisions/s over BENCH_CARRIERS (20) carriers
	@$(UV) run --frozen python -m omni_tools.bench.routing --orders $${BENCH_ORDERS:-10000} --nodes $${BENCH_NODES:-200} $(BENCH_ARGS)
	@$(UV) run --frozen python -m omni_tools.bench.carriers --orders $${BENCH_ORDERS:-10000} --carriers $${BENCH_CARRIERS:-20}

chaos: stack ## CHAOS_ORDERS (10000) orders on a stack of its own under kill -9 and Kafka/PostgreSQL restarts; exit 1 unless every check is 0
	@$(STACK_ENV) $(UV) run --frozen python -m omni_tools.chaos --orders $${CHAOS_ORDERS:-10000} $(CHAOS_ARGS)

bench-bus: stack ## measure the bus: raw aiokafka, FastStream, chassis outbox -> Kafka -> inbox -> DB
	@$(STACK_ENV) $(UV) run --frozen python -m omni_chassis.bench_bus $(BENCH_ARGS)

bench-carriers: sync ## carrier decisions/s: the pure carrier choice for BENCH_CARRIER_ORDERS (10000) parcels over 20 carriers; + BENCH_ARGS
	@$(UV) run --frozen python -m omni_tools.bench.carriers --orders $${BENCH_CARRIER_ORDERS:-10000} $(BENCH_ARGS)
