# The two commands of the README. Each does all of its own set-up.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: run test lint setup clean schemas

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the local CPU wheel, never the CUDA build from the registry
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/khabar up

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

# the code is laid out by hand (aligned continuation lines), not by ruff format
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

schemas: $(STAMP)
	$(VENV)/bin/khabar schemas export

clean:
	rm -rf $(VENV) .khabar .pytest_cache .mypy_cache .ruff_cache
