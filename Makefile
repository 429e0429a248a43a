# geoservice: the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install data lint constraints clean-data serve-prod bench soak

run: data  ## Create the environment, build the data if missing, serve on http://127.0.0.1:5000
	$(BIN)/geoservice serve --host $(HOST) --port $(PORT)

serve-prod: data  ## Serve with gunicorn (threaded workers, one per core): see docs/scaling.md
	mkdir -p instance/metrics
	MALLOC_ARENA_MAX=$${MALLOC_ARENA_MAX:-2} PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/instance/metrics} $(BIN)/gunicorn -c python:geoservice.gunicorn_conf 'geoservice.wsgi:app'

bench: data  ## Benchmarks (not tests): writes docs/benchmarks.md and bench/results.json
	command -v wrk >/dev/null || (echo "install wrk (apt-get install wrk) for throughput"; exit 1)
	test -x bench/.venv-tipg/bin/uvicorn || ($(PYTHON) -m venv bench/.venv-tipg && \
	  bench/.venv-tipg/bin/pip install --quiet -r bench/requirements-tipg.txt)
	@# pygeoapi reads SpatiaLite: a venv of Debian's Python, whose sqlite3 loads extensions.
	test -x bench/.venv-pygeoapi/bin/gunicorn || (/usr/bin/python3 -m venv bench/.venv-pygeoapi && \
	  bench/.venv-pygeoapi/bin/pip install --quiet -r bench/requirements-pygeoapi.txt)
	@/usr/bin/python3 -c "import mapscript" 2>/dev/null || echo "for the MapServer comparison: \
	  apt-get install python3-mapscript libsqlite3-mod-spatialite"
	$(BIN)/python -m bench.run

soak: install  ## Soak test (30 min of the load test with imports and reports): see bench/soak.py
	$(BIN)/python -m bench.soak

test: install  ## Run the whole test-suite (builds its own fixtures, incl. one full national build)
	$(BIN)/python -m pytest

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml setup.py constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

data: install  ## Build boundaries and load them (and the synthetic demo data) unless already there
	$(BIN)/geoservice build-data --if-missing
	$(BIN)/geoservice demo-data --if-empty

lint: $(VENV)/.installed  ## ruff (pinned in the dev extra) over the code and the tests
	$(BIN)/python -m ruff check geoservice tests

constraints:  ## Re-pin every Python dependency from the current environment
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean-data:
	rm -rf instance/boundaries.gpkg instance/quality.* instance/geoservice.sqlite*
