# recsys-tutorial: `make book` builds the book (full profile), `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU build of torch (and a verified set of versions) for machines without a GPU.
# A bare `torch` requirement pulls a multi-GB CUDA build; set CONSTRAINTS= to let pip choose.
CONSTRAINTS ?= constraints-cpu.txt
TORCH_SPEC ?= torch==2.13.0

# MovieLens: use a local copy when one lies beside the checkout (tests, CI); else the
# loader downloads it from GroupLens into the cache and checks its SHA-256s.
SHARED_DATA := $(abspath ../shared/data)
ifneq ($(wildcard $(SHARED_DATA)/ml-latest-small.zip),)
export RECSYS_TUTORIAL_DATA ?= $(SHARED_DATA)
endif
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PYTHONUNBUFFERED := 1
export MPLBACKEND := module://matplotlib_inline.backend_inline

BOOK_SRC := _config.yml _toc.yml book recsys_tutorial benchmarks
JB_FLAGS := -W -n --keep-going
NB_TIMEOUT_QUICK ?= 600
NB_TIMEOUT_FULL ?= 3600

.PHONY: help install test unit notebooks-quick notebooks-rerun book book-quick bench bench-reference lint clean vendor render-check chromium

help:
	@echo "make book   - build the book, executing every notebook in the full profile (_stage/full/_build/html)"
	@echo "make test   - unit tests, every notebook in the quick profile, strict book build, rendering check"
	@echo "make bench  - benchmarks, JSON under benchmarks/results/"

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	if command -v nvidia-smi >/dev/null 2>&1; then $(PIP) install -q "torch>=2.4"; else $(PIP) install -q $(TORCH_SPEC); fi
	$(PIP) install -q $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e ".[book,dev,implicit]"
	touch $@

install: $(VENV)/.installed

vendor: install
	bash scripts/vendor_assets.sh book/_vendor

# --- tests -----------------------------------------------------------------
test: install vendor chromium lint unit notebooks-quick notebooks-rerun book-quick

unit: install
	MPLBACKEND=Agg $(PY) -m pytest -q -n 2 tests --ignore=tests/test_book.py

# Notebooks run on a staged copy so the committed notebooks stay without outputs.
define stage
	rm -rf _stage/$(1) && mkdir -p _stage/$(1)
	cp -r $(BOOK_SRC) _stage/$(1)/
endef

notebooks-quick: install vendor
	$(call stage,quick)
	start=$$(date +%s); \
	cd _stage/quick && RECSYS_TUTORIAL_PROFILE=quick OMP_NUM_THREADS=1 ../../$(PY) -m pytest -q -p no:cacheprovider -n 2 \
	  --nbmake --overwrite --nbmake-timeout=$(NB_TIMEOUT_QUICK) book; \
	cd ../.. && $(PY) -m benchmarks.timing notebooks_quick_minutes $$start

# Every notebook must run twice in a row in the same folder without clean-up: run them again
# where they just ran (the book is then built from this second run).
notebooks-rerun: install
	cd _stage/quick && RECSYS_TUTORIAL_PROFILE=quick OMP_NUM_THREADS=1 ../../$(PY) -m pytest -q -p no:cacheprovider -n 2 \
	  --nbmake --overwrite --nbmake-timeout=$(NB_TIMEOUT_QUICK) book

book-quick: install
	$(VENV)/bin/jupyter-book build _stage/quick $(JB_FLAGS)
	RECSYS_TUTORIAL_BOOK_DIR=_stage/quick RECSYS_TUTORIAL_PROFILE=quick $(PY) -m pytest -q tests/test_book.py

render-check: install
	RECSYS_TUTORIAL_BOOK_DIR=_stage/quick $(PY) -m pytest -q tests/test_book.py -k render

# Headless Chromium for the rendering check (Debian's package; needs root). Without it the
# rendering tests skip with a reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium not installed: the rendering check will be skipped"; fi; }

# --- the book (full profile) ---------------------------------------------------
book: install vendor
	$(call stage,full)
	start=$$(date +%s); \
	cd _stage/full && RECSYS_TUTORIAL_PROFILE=full ../../$(PY) -m pytest -q -p no:cacheprovider \
	  --durations=0 --nbmake --overwrite --nbmake-timeout=$(NB_TIMEOUT_FULL) book; \
	cd ../.. && $(VENV)/bin/jupyter-book build _stage/full $(JB_FLAGS); \
	$(PY) -m benchmarks.timing book_full_minutes $$start
	RECSYS_TUTORIAL_BOOK_DIR=_stage/full RECSYS_TUTORIAL_PROFILE=full $(PY) -m pytest -q tests/test_book.py
	@echo "Open _stage/full/_build/html/index.html (serve it: python -m http.server -d _stage/full/_build/html)"

bench: install
	$(PY) -m benchmarks.run
	$(PY) -m benchmarks.ranking_implicit

# Keep the latest full run as the reference the results chapter (5.4) shows on a fresh clone.
bench-reference:
	test -f benchmarks/results/summary.json || { echo "run make bench first"; exit 1; }
	mkdir -p benchmarks/reference && cp benchmarks/results/*.json benchmarks/reference/

lint: install
	$(VENV)/bin/ruff check recsys_tutorial tests benchmarks book

clean:
	rm -rf _build _stage
