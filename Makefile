# `make demo` and `make test` set up .venv (created when missing, re-installed only when
# pyproject.toml changes) and the web page's vendored three.js, and then run. Nothing else is
# needed on a fresh machine (Debian's npm, chromium and openscad are installed when missing).
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
# three.js for the page's 3D viewer: fetched from npm (never a CDN at run time), checked against
# this sha256, and only the files of serve/web/vendor.txt copied to serve/web/vendor/three/
THREE_VERSION := 0.187.0
THREE_SHA256 := ff540832ded0cfe919764d24a3d88f3e2a05f23303f876423e4f893841e90728
NPM := /usr/bin/npm
NPM_CACHE := .cache/npm
WEB_VENDOR := serve/web/vendor
VENDOR_STAMP := $(WEB_VENDOR)/.three-$(THREE_VERSION)-$(shell sha1sum serve/web/vendor.txt | cut -c1-12)

.PHONY: venv vendor demo test lint bench-quick clean

venv: $(STAMP) $(VENDOR_STAMP)

vendor: $(VENDOR_STAMP)

$(VENDOR_STAMP): serve/web/vendor.txt | $(NPM)
	@mkdir -p $(NPM_CACHE)
	@test -f $(NPM_CACHE)/three-$(THREE_VERSION).tgz || \
		(cd $(NPM_CACHE) && $(NPM) pack --silent three@$(THREE_VERSION) >/dev/null)
	@echo "$(THREE_SHA256)  $(NPM_CACHE)/three-$(THREE_VERSION).tgz" | sha256sum -c --quiet - || \
		{ rm -f $(NPM_CACHE)/three-$(THREE_VERSION).tgz; exit 1; }
	rm -rf $(WEB_VENDOR) $(NPM_CACHE)/three-$(THREE_VERSION)
	mkdir -p $(NPM_CACHE)/three-$(THREE_VERSION)
	tar -xzf $(NPM_CACHE)/three-$(THREE_VERSION).tgz -C $(NPM_CACHE)/three-$(THREE_VERSION)
	@grep -v '^#' serve/web/vendor.txt | while read -r f; do [ -z "$$f" ] || \
		install -D -m 644 "$(NPM_CACHE)/three-$(THREE_VERSION)/package/$$f" \
		"$(WEB_VENDOR)/three/$$f" || exit 1; done
	rm -rf $(NPM_CACHE)/three-$(THREE_VERSION)
	@touch $@

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

$(NPM):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends npm

$(OPENSCAD):
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends openscad openscad-mcad

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench-quick: venv
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

clean:
	rm -rf $(VENV) data .pytest_cache $(WEB_VENDOR)
