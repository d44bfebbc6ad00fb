# Two commands on a fresh machine: `make demo` runs the demo app, `make test` runs every test
# on the newest Streamlit and, at the same time, all but the newest_only ones on the oldest
# supported (1.40). Each creates what it needs by itself.
PYTHON ?= python3
VENV ?= .venv
VENV_OLDEST ?= .venv-st140
OLDEST_STREAMLIT ?= 1.40.0
CHROMIUM ?= /usr/bin/chromium
PROMETHEUS ?= /usr/bin/prometheus
NGINX ?= /usr/sbin/nginx
TOOLS_ENV = ST_MEMWATCH_CHROMIUM=$(CHROMIUM) ST_MEMWATCH_PROMETHEUS=$(PROMETHEUS) ST_MEMWATCH_NGINX=$(NGINX)
PORT ?= 8501
FRONTEND_BUILD := st_memwatch/ui/frontend_build
FRONTEND_CHECK := .frontend-check

.PHONY: demo test test-newest test-oldest unit bench lint test-tools chromium prometheus nginx clean frontend frontend-check

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[test]"
	touch $@

$(VENV_OLDEST)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/pip install -q --upgrade pip
	$(VENV_OLDEST)/bin/pip install -q -e ".[test]" "streamlit==$(OLDEST_STREAMLIT)"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/streamlit run demo_app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# The browser tests need Debian's Chromium, the scrape test its Prometheus, the proxy tests
# its nginx: whichever is missing is installed in one apt-get call (needs root, as on CI;
# one call, so that the two suites of `make -j2 test` never wait on apt's lock).
test-tools:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	test -x $(PROMETHEUS) || missing="$$missing prometheus"; \
	test -x $(NGINX) || missing="$$missing nginx"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi; \
	for tool in CHROMIUM:$(CHROMIUM):chromium PROMETHEUS:$(PROMETHEUS):prometheus NGINX:$(NGINX):nginx; do \
	  var=$${tool%%:*}; rest=$${tool#*:}; path=$${rest%%:*}; package=$${rest#*:}; \
	  test -x "$$path" || { echo "$$package not found at $$path: install Debian's '$$package' package (or set $$var=...)"; exit 1; }; \
	done

chromium prometheus nginx: test-tools

# The live gauge's bundle is built from frontend/ and committed inside the package, so
# `pip install .` needs no Node.js. `make frontend` rebuilds it after a change to
# frontend/; `make frontend-check` (part of `make test`) builds it afresh elsewhere
# and fails when the committed bundle differs from what the sources give.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Debian's 'nodejs' and 'npm' packages"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend: frontend/node_modules/.installed
	cd frontend && npm run --silent build

frontend-check: frontend/node_modules/.installed
	rm -rf $(FRONTEND_CHECK)
	cd frontend && ST_MEMWATCH_BUILD_DIR="$(CURDIR)/$(FRONTEND_CHECK)" npm run --silent build >/dev/null
	@diff -r $(FRONTEND_CHECK) $(FRONTEND_BUILD) >/dev/null || { \
	  echo "The committed gauge bundle ($(FRONTEND_BUILD)) is stale: run 'make frontend' and commit it."; \
	  diff -rq $(FRONTEND_CHECK) $(FRONTEND_BUILD); exit 1; }
	rm -rf $(FRONTEND_CHECK)
	@echo "gauge bundle is up to date with frontend/"

# Both suites at once (each is mostly one busy core): about half the wall time on CI.
# --output-sync keeps each suite's output together; either failing fails `make test`.
test: frontend-check
	$(MAKE) -j2 --output-sync=target test-newest test-oldest

test-newest: $(VENV)/.installed test-tools
	$(TOOLS_ENV) $(VENV)/bin/python -m pytest -q -p no:cacheprovider

# The oldest supported Streamlit runs every test but those marked newest_only (the quiet side
# of the verdict corpus and the two animated hello pages): `pytest` alone runs them all.
test-oldest: $(VENV_OLDEST)/.installed test-tools
	$(TOOLS_ENV) $(VENV_OLDEST)/bin/python -m pytest -q -p no:cacheprovider -m "not newest_only"

unit: $(VENV)/.installed
	$(VENV)/bin/python -m pytest -q tests/unit

bench: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/run_all.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check st_memwatch tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(VENV_OLDEST) .pytest_cache benchmarks/results frontend/node_modules $(FRONTEND_CHECK)
