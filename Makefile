# The two commands of the README:  make run  and  make test.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-fast services bench binary translations vendor clean

$(VENV)/.runtime: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

$(VENV)/.build: $(VENV)/.runtime
	$(VENV)/bin/pip install -q -e '.[build]'
	touch $@

## Run the server on 127.0.0.1:8000 with SQLite and demo data (admin / admin123).
run: $(VENV)/.runtime
	$(PY) server.py $(ARGS)

## Run the whole suite: SQLite and PostgreSQL, WebSocket, browser tests.
test: $(VENV)/.test services
	$(PY) -m pytest $(PYTEST_ARGS)

## The suite without the browser and subprocess tests.
test-fast: $(VENV)/.test
	$(PY) -m pytest -m "not browser and not slow and not subprocess" $(PYTEST_ARGS)

## Start PostgreSQL and install Chromium and nginx where this machine allows it (root on Debian).
services:
	-@bash .ci/services

## One executable file holding Python, the dependencies, pages and migrations: dist/corporate-messenger.
binary: $(VENV)/.build
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist \
		--workpath build/pyinstaller deploy/corporate-messenger.spec
	@ls -l dist/corporate-messenger && dist/corporate-messenger --version

## After adding or changing a marked string: update messages.pot and the .po files, compile the .mo files.
translations: $(VENV)/.test
	$(PY) -B translations/catalogs.py

## Refresh the browser libraries shipped in static/vendor/ (committed; only needed to change a version).
MARKDOWN_IT := markdown-it@15.0.3
vendor:
	rm -rf build/vendor && mkdir -p build/vendor static/vendor
	cd build/vendor && npm pack --silent $(MARKDOWN_IT) >/dev/null && tar xzf markdown-it-*.tgz
	sed '/sourceMappingURL/d' build/vendor/package/dist/browser/markdown-it.esm.min.mjs > static/vendor/markdown-it.js
	cp build/vendor/package/LICENSE static/vendor/markdown-it.LICENSE

bench: $(VENV)/.test
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache build dist
