# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 5000
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app grantflow

.PHONY: run test lint venv syscheck translations db demo migrate-check clean

# The web app and the task queue's worker (mail, documents, scheduled work) together; Ctrl+C
# stops both, and the worker stops too if the web app ends by itself.
run: db
	@echo "GrantFlow at http://127.0.0.1:$(PORT), with the task queue's worker  (stop both with Ctrl+C)"
	@$(FLASK) queue worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: venv syscheck translations lint
	$(BIN)/pytest $(PYTEST_ARGS)

# The house plan (README, Development): the order of layers, then the linter.
lint: venv
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "GrantFlow needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

syscheck: venv
	@$(BIN)/python -m grantflow.core.syscheck

translations: venv
	@for dir in grantflow/*/translations; do $(BIN)/pybabel compile -d $$dir >/dev/null 2>&1 || { $(BIN)/pybabel compile -d $$dir; exit 1; }; done

db: venv syscheck translations
	$(FLASK) db upgrade
	$(FLASK) demo load --if-empty

clean:
	rm -rf $(VENV) .pytest_cache
