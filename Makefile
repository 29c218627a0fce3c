# `make demo` and `make test` set up .venv (created when missing, re-installed only when
# pyproject.toml changes) and then run. Nothing else is needed on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
PYTEST_ARGS ?=
# Debian's Chromium drives the web UI test (Playwright's browser downloads are not used)
CHROMIUM := /usr/bin/chromium
# Debian's OpenSCAD and its MCAD library drive the MCAD catalog test
OPENSCAD := /usr/bin/openscad
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: venv demo test lint bench-quick clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,step]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: venv
	$(VENV)/bin/cadsearch demo

test: venv $(CHROMIUM) $(OPENSCAD)
	$(PY) -m pytest $(PYTEST_ARGS)

$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends chromium

$(OPENSCAD):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends openscad openscad-mcad

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench-quick: venv
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache
