# The two commands of the README:
#   make book   venv + pinned install + execute every chapter (papermill) + HTML in _build/html
#   make test   venv + pinned install + test suite
# Options: make book DATA=path/to/studies.csv COVARIATES=path/to/covariates.csv PFS=path/to/curve-folder
SHELL := /bin/bash
# Chapters are independent notebooks: execute two at a time (this machine has 2 cores); a
# sub-make shares its parent's two job slots.
ifeq ($(MAKELEVEL),0)
  MAKEFLAGS += --jobs=2
endif
MAKEFLAGS += --no-print-directory
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

PYTHON_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA ?= data/studies.csv
PUBLISHED ?= data/published.csv
PFS ?= data/pfs
COVARIATES ?= data/covariates.csv
# The chapters, in the order of the table of contents (its root, then its chapters).
CHAPTERS := $(shell sed -n -e 's|^root: book/||p' -e 's|^ *- file: book/||p' _toc.yml)
EXECUTED := $(CHAPTERS:%=_build/executed/book/%.ipynb)

.PHONY: book inputs test test-fast check browser venv fixtures bench covariates lock clean

venv: $(VENV)/.installed

# The venv is remade only when the lock or the package's metadata changes: the pinned
# environment first, then the `analysis` package itself, editable (pyproject.toml).
$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON_SYS) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	$(PY) -m pip check
	touch $@

# The build reads a snapshot of its inputs, taken when `make book` starts: each input is
# read once and checked (a bad input stops the build with its one message, before any
# chapter runs), and copied with its checksum into $(SNAP) (scripts/snapshot.py). A file
# replaced during the build cannot mix two tables in one book; the next build re-executes
# the chapters whose snapshot files changed. Input paths may hold spaces.
SNAP := _build/inputs
USER_INPUTS := $(SNAP)/user/studies.csv $(SNAP)/user/published.csv $(SNAP)/user/covariates.csv $(SNAP)/user/sources.json
PAPER_INPUTS := $(SNAP)/data/studies.csv $(SNAP)/data/covariates.csv $(SNAP)/data/published.csv

# A chapter is re-executed when its source, an analysis module it imports or the inputs
# it reads change.
_build/executed/book/%.ipynb: book/%.md scripts/run_chapter.py scripts/kernel_startup.py $(USER_INPUTS) $(PAPER_INPUTS) requirements.txt | $(VENV)/.installed
	$(PY) scripts/run_chapter.py $* --snapshot $(SNAP)

# The analysis modules each chapter imports, directly or through other modules: derived
# from the sources (scripts/deps.py parses the imports; standard library only), remade
# whenever a chapter, a module or this file changes. Touching analysis/plots/survival.py
# re-executes only the chapters that can load it.
_build/deps.mk: scripts/deps.py $(CHAPTERS:%=book/%.md) $(shell find analysis -name '*.py') Makefile
	$(PYTHON_SYS) scripts/deps.py $(CHAPTERS) --output $@
ifneq ($(filter-out clean venv inputs test test-fast browser fixtures bench covariates lock,$(or $(MAKECMDGOALS),venv)),)
  include _build/deps.mk
endif

# Each chapter's own inputs beyond the study table (a change re-executes only these).
_build/executed/book/methods.ipynb: $(SNAP)/data/prisma.csv
_build/executed/book/discussion.ipynb: $(SNAP)/data/table2.csv
_build/executed/book/update.ipynb: $(SNAP)/data/update/studies.csv $(SNAP)/data/update/covariates.csv
_build/executed/book/protocol.ipynb: $(SNAP)/data/update/search_log.csv $(SNAP)/data/update/selection.csv
_build/executed/book/prisma.ipynb: $(SNAP)/data/reporting/prisma2020.csv
_build/executed/book/quality.ipynb: $(SNAP)/data/quality/risk_of_bias.csv $(SNAP)/data/update/studies.csv $(SNAP)/data/update/randomized.csv
_build/executed/book/pfs.ipynb: $(shell find $(SNAP)/user/pfs -type f 2>/dev/null)
_build/executed/book/crb401.ipynb: $(SNAP)/data/crb401_response.csv $(SNAP)/data/crb401_adverse_events.csv
_build/executed/book/reproduction.ipynb: $(SNAP)/data/crb401_response.csv book/reproduction_baseline.csv
_build/executed/book/intro.ipynb: $(SNAP)/data/crb401_response.csv

# The snapshot first (it must exist, settled, before make compares any chapter with it),
# then the chapters and the HTML.
book: $(VENV)/.installed
	$(MAKE) inputs
	$(MAKE) _build/html/.built

inputs: $(VENV)/.installed
	$(PY) scripts/snapshot.py --data "$(DATA)" --published "$(PUBLISHED)" --covariates "$(COVARIATES)" --curves "$(PFS)" --out $(SNAP)

# Rendering runs only when an executed chapter or the configuration changed.
_build/html/.built: $(EXECUTED) _config.yml _toc.yml references.bib scripts/render.py book/_ext/dedupe_scripts.py book/_static/review.css book/_extra/favicon.ico
	$(PY) scripts/render.py
	touch $@

test: $(VENV)/.installed browser
	$(PY) -m pytest

# Everything but the tests that build the book (marked `build` automatically), on both cores:
# under a minute.
test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not build" -n 2

# Headless Chromium for the HTML checks (Debian packages; installed when missing).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium and chromium-driver (Debian packages) for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "the browser test needs chromium and chromium-driver: sudo apt-get install chromium chromium-driver" >&2; exit 1; \
	  fi; \
	fi

# Open every page of the built book in headless Chromium; screenshots in _build/screenshots.
check: book browser
	$(PY) scripts/check_html.py _build/html --screenshots _build/screenshots

# Reference values from R (needs r-base-core, r-cran-metafor, r-cran-lme4, r-cran-survival).
fixtures:
	Rscript tests/make_fixtures.R
	Rscript tests/make_survival_fixtures.R
	Rscript tests/make_effect_fixtures.R

# Engine speed against metafor (Rscript + metafor when present), and a clean book build
# against a floor of import-only notebooks, each measured in one run.
bench: $(VENV)/.installed
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_build.py

# Re-infer the unsourced study covariates from the paper's subgroup results (minutes).
covariates: $(VENV)/.installed
	$(PY) scripts/infer_covariates.py

lock: $(VENV)/.installed
	{ grep '^#' requirements.txt; $(PY) -m pip freeze --exclude-editable; } > requirements.txt.new
	mv requirements.txt.new requirements.txt

clean:
	rm -rf _build

FORCE:
