# `make serve` and `make test` work on a fresh machine (Debian, root): they
# create .venv, install the project and what it needs, then serve / test.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_STAMP := .venv/.apt-installed
DEBS    := iverilog verilator yosys z3 chromium
PORT    ?= 5006

.PHONY: serve test install debs bench clean mutation

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch is pinned here (a CPU wheel is on the build machine's disk); the
# project itself only asks for torch>=2.4.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e '.[test,hardware]'
	touch $@

install: $(STAMP)

$(APT_STAMP): | $(BIN)/python
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	fi
	touch $@

debs: $(APT_STAMP)

# this machine only (127.0.0.1); `make serve SERVE_ARGS=--network` serves other
# machines too (docs/server.md)
serve: install
	BOKEH_RESOURCES=server $(BIN)/neurocore --port $(PORT) --show $(SERVE_ARGS)

# Two passes: everything but the browser tests on two workers, then the
# browser tests alone (each starts a server and Chromium; on two cores they
# would otherwise compete with the parallel workers and time out).
test: install debs
	$(BIN)/python -m pytest -n 2 -q -m "not browser"
	$(BIN)/python -m pytest -q -m browser

bench: install
	for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# mutation testing (docs/mutation.md): slow, not part of `make test`;
# MUTATION_MODULES=fixedpoint picks modules, MUTATION_BUDGET seconds per module
DEV_STAMP := $(VENV)/.installed-dev
$(DEV_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/pip install -e '.[test,hardware,dev]'
	touch $@

mutation: $(DEV_STAMP)
	nice -n 15 $(BIN)/python tools/mutation.py $(MUTATION_MODULES)

clean:
	rm -rf $(VENV) build *.egg-info tests/artifacts hdl/build mutants
