# The two commands a new machine needs: `make run` and `make test`. Everything they need
# is installed by the targets below (a virtual environment from pyproject.toml).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run lint typecheck test bench services services-down services-status cluster run-cluster cluster-down cluster-status clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@bash ops/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@rm -f $(VENV)/.installed-* && touch $@

# .pyc for the project's packages, refreshed for files edited since (ops/bootstrap.sh says why).
BYTECODE := $(PY) -m compileall -q -j 0 infra domains projections workers storefront fixtures tests >/dev/null

run: install
	@$(BYTECODE)
	$(PY) ops/devstack.py

# The layer contracts (.importlinter), ruff and mypy on the layers below the web (their settings
# in pyproject.toml). CI runs it before the tests.
lint: install
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# mypy alone (also part of `make lint`).
typecheck: install
	$(VENV)/bin/mypy

test: install
	@$(BYTECODE)
	$(PY) -m pytest

bench: install
	@$(BYTECODE)
	DJANGO_SETTINGS_MODULE=storefront.settings $(PY) -m tests.bench

services: install
	bash ops/engines/engines.sh prereqs
	bash ops/engines/engines.sh up

services-down:
	bash ops/engines/engines.sh down

services-status:
	bash ops/engines/engines.sh status

# A real Temporal cluster on the engines' Cassandra and Elasticsearch (docs/cluster.md): gRPC on
# 127.0.0.1:7933, beside the dev server's 7233. Needs `make services` first.
cluster: install
	bash ops/cluster/cluster.sh up

# The shop on that cluster, its store and search on the same engines (the production shape);
# Ctrl-C stops the shop, `make cluster-down` the cluster.
run-cluster: cluster
	eval "$$(bash ops/engines/engines.sh env)" && \
	COMMERCE_EXTERNAL_TEMPORAL=1 TEMPORAL_ADDRESS=127.0.0.1:7933 TEMPORAL_UI_URL=http://127.0.0.1:8933 \
	COMMERCE_STORE=$${COMMERCE_STORE:-cassandra} COMMERCE_SEARCH=$${COMMERCE_SEARCH:-elasticsearch} \
	$(PY) ops/devstack.py

cluster-down:
	bash ops/cluster/cluster.sh down

cluster-status:
	bash ops/cluster/cluster.sh status

clean:
	rm -rf $(VENV) .pytest_cache
