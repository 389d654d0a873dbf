# lvdun: `make demo` runs the whole pipeline on synthetic demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench services clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lvdun demo --out demo

services:
	bash scripts/services.sh

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP) services lint
	$(PY) -m pytest -q --doctest-modules geo layers pipelines webmap tests

bench: $(STAMP) services
	$(PY) -m pip install -q -e ".[test,bench]"
	$(PY) -m benchmarks $(BENCH)

clean:
	rm -rf demo build *.egg-info .pytest_cache .ruff_cache
