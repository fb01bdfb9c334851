# The two commands: `make run` (the portal with demo data) and `make test` (every test).
# Everything else here is what they need, built once and rebuilt when its inputs change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
PYTEST_ARGS ?= -n auto

.PHONY: run test install assets migrate seed benchmarks clean

run: install assets migrate seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install assets
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

assets: static/build/app.css

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/build/app.css: node_modules/.installed static/src/app.scss scripts/build-assets.mjs
	npm run --silent build

migrate: install
	$(BIN)/flask db upgrade

# Seeds on first run only; `flask seed-demo` is idempotent if run again by hand.
seed: install
	@if [ ! -f instance/.seeded ]; then $(BIN)/flask seed-demo && touch instance/.seeded; \
	else echo "Demo data already loaded (sign in with the accounts printed on first run; password kent-demo-password)."; fi

# Speed and memory figures: each benchmark prints its own table.
benchmarks: install
	@for bench in benchmarks/bench_*.py; do echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

clean:
	rm -rf $(VENV) node_modules static/build instance
