# turnup — one Makefile for local work and CI.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TURNUP_DATA_DIR ?= $(CURDIR)/var
DATA := $(TURNUP_DATA_DIR)

.PHONY: install run worker events test lint format bench clean lock services browser

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Pin the exact versions of everything installed now (run after changing pyproject.toml).
# The bench-only peer tools (bench/requirements.txt, installed by `make bench`) stay out.
lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v '^turnup' \
	  | grep -v -i -E "^($$(grep -v '^#' bench/requirements.txt | cut -d= -f1 | tr -d ' ' | paste -sd'|' | sed 's/[._-]/[._-]/g'))==" \
	  > constraints.txt

$(DATA)/secret-key:
	@mkdir -p $(DATA)
	@$(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

$(DATA)/secrets-key:
	@mkdir -p $(DATA)
	@$(PY) -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())' > $@
	@chmod 600 $@

# The embedded default: SQLite, the SQLite broker, the lab. Ctrl-C stops everything.
run: install $(DATA)/secret-key $(DATA)/secrets-key
	export SECRET_KEY="$${SECRET_KEY:-$$(cat $(DATA)/secret-key)}" && \
	export TURNUP_SECRETS_KEY="$${TURNUP_SECRETS_KEY:-$$(cat $(DATA)/secrets-key)}" && \
	$(PY) -m turnup.cli migrate --no-input && \
	$(PY) -m turnup.cli ensure_admin && \
	$(PY) -m turnup.cli demo && \
	exec $(PY) -m turnup.cli run

# A worker on its own (the production shape: set DATABASE_URL, REDIS_URL, SECRET_KEY).
worker: install
	exec $(VENV)/bin/celery -A turnup worker --pool threads --concurrency $${TURNUP_WORKER_CONCURRENCY:-16} --loglevel INFO

# The event bus's Faust worker on its own (set KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, SECRET_KEY).
events: install
	exec $(PY) -m turnup.cli events

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The browser tests (tests/web/test_browser.py) drive Debian's Chromium through Playwright.
browser:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Lint, then the whole suite; PostgreSQL and Redis are used when reachable (see tests/probe_services.py).
test: lint browser
	@mkdir -p $(DATA)
	$(PY) tests/probe_services.py > $(DATA)/test-env.sh
	source $(DATA)/test-env.sh && SECRET_KEY=test-only-not-secret TURNUP_DATA_DIR=$(DATA)/test \
	  TURNUP_SECRETS_KEY=test-only-not-secret \
	  $(PY) -m pytest $(PYTEST_ARGS)

# Which of the real services the test run would use (it prints the settings; nothing starts).
services: install
	@$(PY) tests/probe_services.py

# bench/requirements.txt: the peer tools bench/turnup_peers.py compares with (not dependencies of turnup).
bench: install
	$(PY) -m pip install -q -c constraints.txt -r bench/requirements.txt
	@for script in bench/[!_]*.py; do echo "== $$script" >&2; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .ruff_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
