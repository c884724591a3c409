# The README's two commands: `make report` (the baromètre on demo data) and `make test`.
# Both create the environment from nothing on a fresh Debian machine with Python 3.11.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
EDITION ?= 2024
STAMP  := $(VENV)/.installed

.PHONY: report test env lock clean-build benchmarks help

help:
	@echo "make report   build the $(EDITION) baromètre on the embedded demo data (PDF + HTML)"
	@echo "make test     run the test suite"
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
	$(BIN)/barometre build --edition $(EDITION) --demo

test: $(STAMP)
	$(BIN)/python -m pytest

benchmarks: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

# Requires network access to PyPI; writes a fully pinned lock file.
lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean-build:
	rm -rf build/
