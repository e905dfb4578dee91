PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint bench notebooks reference clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(BIN)/python
	$(BIN)/python -m pip install -q .
	$(BIN)/survtdm1 demo

test: $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e ".[test]"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# the suite without the notebooks and the slowest subprocess runs, for a quick loop
test-fast: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -x --ignore=tests/test_notebooks.py --ignore=tests/test_simulate.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	$(BIN)/python benchmarks/run.py

notebooks: $(VENV)/.installed-test
	$(BIN)/python tests/test_notebooks.py

reference:
	Rscript tests/reference/make_reference.R
	Rscript tests/reference/make_binary_reference.R
	Rscript tests/reference/make_continuous_reference.R
	Rscript tests/reference/make_adam_reference.R
	Rscript tests/reference/make_multiarm_reference.R
	Rscript tests/reference/make_cutpoint_reference.R
	Rscript tests/reference/make_meta_reference.R
	Rscript tests/reference/make_reconstruct_reference.R
	Rscript tests/reference/make_options_reference.R

clean:
	rm -rf $(VENV) build *.egg-info survtdm1-demo
