# Two commands a learner needs: `make lab` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The learner's environment (make lab), then the developers' tools on top (make test).
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# Every transitive package is pinned in constraints.txt, one lock for every supported Python
# (make lock regenerates it).
PIP_INSTALL := $(BIN)/python -m pip install -c constraints.txt
# jupyter refuses to run as root without this flag (containers, CI).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-slow test-browser test-matrix test-pythons test-portability test-all lint notebooks lock clean site test-site

$(STAMP): requirements.txt constraints.txt pyproject.toml binder/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "this course needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(PIP_INSTALL) -r requirements.txt
	# Widget messages reach the kernel in the order they were sent (binder/postBuild says why).
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $(DEV_STAMP)

lab: $(STAMP)  ## open the course in JupyterLab at the first notebook
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

# make test runs files on parallel workers, each file on one (a notebook's cells share a
# kernel); conftest.py makes the users of /dev/shm take turns. Four workers on two CPUs:
# much of the suite waits for children, and the other workers fill the gaps.
PARALLEL := -n 4 --dist loadfile

# Bytecode caches on, even where PYTHONDONTWRITEBYTECODE is set: otherwise every worker
# compiles every test module, and every spawned child the helpers it imports, on every run.
test: $(DEV_STAMP)  ## unit tests + every notebook under nbval, on parallel workers
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PARALLEL)

test-browser: $(DEV_STAMP)  ## the course driven in headless Chromium (the web pages: make test-site)
	$(BIN)/python -m pytest -m "browser and not site"

test-slow: $(DEV_STAMP)  ## fault, load and leak tests under the current start method
	$(BIN)/python -m pytest -m slow

# Under fork and forkserver everything runs on parallel workers as in make test, except
# the hygiene notebooks: they list /dev/shm, so they run one at a time afterwards (run in
# parallel, other tests waited their turn behind them for minutes). The slow tests under
# spawn stay serial: they include the hygiene runs of all three start methods.
HYGIENE := tests/test_hygiene.py
test-matrix: $(DEV_STAMP)  ## everything but the browser under fork and forkserver, plus the slow tests under spawn
	$(BIN)/python -m pytest -m slow
	for method in fork forkserver; do \
	    COURSE_START_METHOD=$$method PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest $(PARALLEL) -m "not browser" --ignore=$(HYGIENE) && \
	    COURSE_START_METHOD=$$method $(BIN)/python -m pytest -m slow $(HYGIENE) || exit 1; \
	done

test-pythons:  ## the notebooks and unit tests under Python 3.12 and 3.13, each in its own venv
	bash tools/test_python.sh 3.12
	bash tools/test_python.sh 3.13

# macOS's, Windows' and a Binder pod's limits emulated on Linux (tests/portability/sitecustomize.py).
PLATFORMS ?= macos windows binder
test-portability: $(DEV_STAMP)  ## every notebook and the unit tests under each emulated platform
	PYTHONDONTWRITEBYTECODE= $(BIN)/python tests/portability/run.py $(PLATFORMS)

test-all: test test-matrix test-browser test-site test-pythons test-portability

lint: $(DEV_STAMP)  ## ruff (lint and format), then mypy over helpers/ and tests/ (settings in pyproject.toml)
	$(BIN)/ruff check conftest.py helpers tests notebooks tools site
	$(BIN)/ruff format --check conftest.py helpers tests notebooks tools site
	$(BIN)/mypy
	# The hosted workflow: GitHub's schema, then unsafe patterns (offline).
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows/

notebooks: $(DEV_STAMP)  ## re-execute every notebook in place under the default start method
	$(BIN)/python tools/run_notebooks.py notebooks/*.ipynb

# The course's web pages, from the outputs stored in the notebooks (nothing is executed):
# site/_build/html/index.html. The first build fetches the widget and diagram scripts
# from npm (pinned in site/vendor.py); later builds need no network.
site: $(DEV_STAMP)  ## build the course's web pages into site/_build/html
	$(BIN)/python site/vendor.py
	$(BIN)/python -m sphinx -E -W --keep-going -q -c site -b html . site/_build/html
	@echo "site: open site/_build/html/index.html"

test-site: $(DEV_STAMP)  ## build the web pages and check every one in headless Chromium
	$(BIN)/python -m pytest -m site tests/browser/test_site.py

lock: $(DEV_STAMP)  ## re-pin every transitive package in constraints.txt (for every supported Python) after changing a pin
	UV=$(BIN)/uv bash tools/lock.sh

clean:
	rm -rf $(VENV)
