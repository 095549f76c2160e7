# Murmur: `make run` collects, analyses and serves the dashboard; `make test` runs the test suite.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MONITOR ?= monitors/sora-leak.toml
PORT ?= 8501

.PHONY: install run collect analyze dashboard test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

run: install
	$(PY) -m collect --monitor $(MONITOR) --demo-if-offline
	$(PY) -m analyze --monitor $(MONITOR)
	$(MAKE) --no-print-directory dashboard

collect: install
	$(PY) -m collect --monitor $(MONITOR)

analyze: install
	$(PY) -m analyze --monitor $(MONITOR)

dashboard: install
	@echo "Murmur dashboard: http://localhost:$(PORT)  (Ctrl-C stops it)"
	$(PY) -m streamlit run dashboard.py --server.port $(PORT)

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
