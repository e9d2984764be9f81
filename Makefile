# The two commands a new user needs: `make studio` and `make test`.
# Both create .venv on first use and re-install only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
HOST ?= 127.0.0.1
PORT ?= 8501
# Extra packages for the tests, e.g. TEST_EXTRAS="torch==2.13.0" to exercise the GPU node on the CPU.
TEST_EXTRAS ?=

.PHONY: install install-dev studio test bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install -e '.[dev]' $(TEST_EXTRAS)
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

studio: install
	$(PY) -m studio.launch --address $(HOST) --port $(PORT)

test: install-dev
	$(PY) -m pytest -q

bench: install-dev
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/compile.py
	$(PY) benchmarks/local_run.py
	$(PY) benchmarks/canvas.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .bench

# The studio canvas: a Streamlit components v2 element on React Flow, built with
# Vite. Its bundle (assets/canvas) is committed, so only changing
# studio/canvas/frontend needs Node.js (>= 20.19).
CANVAS_DIR := studio/canvas/frontend

.PHONY: canvas canvas-check

canvas:
	cd $(CANVAS_DIR) && npm ci --no-audit --no-fund && npm run build

# CI: fails when the committed bundle is not what the sources build.
canvas-check: canvas
	git diff --exit-code --stat -- assets/canvas
	@test -z "$$(git status --porcelain -- assets/canvas)" || \
		{ git status --short -- assets/canvas; echo "assets/canvas is not committed: run make canvas and commit it"; exit 1; }
