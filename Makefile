# Two commands do everything on a fresh machine with Python 3.11 and pip:
#   make book    create .venv if missing, install, execute the notebooks, build book/_build/html
#   make test    same environment; every test (unit, data, seeds, notebooks via nbval)
# Also: make lab (JupyterLab), make execute (refit results/ and re-run notebooks in place after a
# data/ or analysis/ change), make bench (Monte Carlo timing), make check (python -m analysis data check), make clean.
# make book SCENARIO=path/to/scenario.yaml builds the whole book under that scenario.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?=

.PHONY: book test lab execute check clean venv bench browser screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

book: $(STAMP)
	$(PY) -m analysis book --scenario "$(SCENARIO)"

test: $(STAMP) browser
	$(PY) -m pytest tests notebooks --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

# The browser test needs Debian's Chromium; as root (CI) install it, otherwise the test says how.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium not installed: the browser test will be skipped (run as root or apt-get install chromium)"; }

# Landing page, a chapter, a claim card and the ledger at 1366 px, from the built book (builds it if missing).
screenshots: $(STAMP) browser
	test -f book/_build/html/index.html || $(PY) -m analysis book --scenario "$(SCENARIO)"
	$(PY) book/screenshots.py

execute: $(STAMP)
	$(PY) -m analysis fit
	$(PY) -m analysis ledger --format csv --output results/ledger.csv
	$(PY) -m analysis ledger --format json --output results/ledger.json
	$(PY) -m analysis notebooks execute

bench: $(STAMP)
	$(PY) -m analysis bench

check: $(STAMP)
	$(PY) -m analysis data check

# JupyterLab refuses to start as root unless told; containers and CI run as root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $$([ "$$(id -u)" = 0 ] && echo --allow-root)

clean:
	rm -rf book/_build book/_static/vendor
