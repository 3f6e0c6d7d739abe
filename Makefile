# Two commands a learner needs: `make lab` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# jupyter refuses to run as root without this flag (containers, CI).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-slow test-browser test-matrix test-all lint notebooks clean

$(STAMP): requirements.txt pyproject.toml binder/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "this course needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	# Widget messages reach the kernel in the order they were sent (binder/postBuild says why).
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

lab: $(STAMP)  ## open the course in JupyterLab at the first notebook
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

test: $(STAMP)  ## unit tests + every notebook under nbval (about a minute)
	$(BIN)/python -m pytest

test-browser: $(STAMP)  ## the course driven in headless Chromium
	$(BIN)/python -m pytest -m browser

test-slow: $(STAMP)  ## fault, load and leak tests under the current start method
	$(BIN)/python -m pytest -m slow

test-matrix: $(STAMP)  ## everything but the browser under fork and forkserver, plus the slow tests under spawn
	$(BIN)/python -m pytest -m slow
	COURSE_START_METHOD=fork $(BIN)/python -m pytest -m "not browser"
	COURSE_START_METHOD=forkserver $(BIN)/python -m pytest -m "not browser"

test-all: test test-matrix test-browser

lint: $(STAMP)  ## ruff, then mypy over helpers/ and tests/ (settings in pyproject.toml)
	$(BIN)/ruff check helpers tests notebooks tools
	$(BIN)/mypy

notebooks: $(STAMP)  ## re-execute every notebook in place under the default start method
	$(BIN)/python tools/run_notebooks.py notebooks/*.ipynb

clean:
	rm -rf $(VENV)
