# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# Rasa 3.6 runs on Python 3.10: the first python3.10 that really runs (pyenv's
# versions first; a pyenv shim on PATH may exist without working).
PYTHON310 ?= $(shell for p in $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.10*/bin/python3.10 2>/dev/null) $$(command -v python3.10); do "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && echo "$$p" && break; done)
STAMP := $(VENV)/.installed

.PHONY: help install browser model run test eval lint lock clean

help:
	@echo "make run    install, train if the data changed, start the whole stack"
	@echo "make test   install, train if needed, run every test"
	@echo "make eval   score the model on the held-out split"
	@echo "make lint   ruff and mypy"

$(STAMP): requirements.lock
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (Rasa 3.6); install it or set PYTHON310=/path/to/python3.10"; exit 1; }
	test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<24" wheel
	$(PY) -m pip install --quiet -r requirements.lock
	touch $(STAMP)

install: $(STAMP)

model: install
	$(PY) -m bot train

run: model
	$(PY) -m bot run

# Browser tests use Debian's Chromium and a CJK font (Chinese renders as boxes without it).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wqy; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei; fi

test: model browser
	$(PY) -m pytest

eval: model
	$(PY) -m bot eval

lint: install
	$(VENV)/bin/ruff check bot actions connectors tests bench
	$(VENV)/bin/mypy bot actions connectors

lock: install
	$(PY) -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf var models .pytest_cache .mypy_cache .ruff_cache test-artifacts
