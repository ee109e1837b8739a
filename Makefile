# Crecer — the two commands of the Quick start are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_WORKERS ?= 2

.PHONY: install demo test test-postgres lint lock messages clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate SQLite under data/, load a synthetic demo country, serve on 127.0.0.1:$${PORT:-8000}
demo: install
	$(BIN)/crecer demo

## make test: install and run the whole test suite (SQLite unless DATABASE_URL says otherwise)
test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

## the same suite against the local PostgreSQL
test-postgres: install
	DATABASE_URL=$${DATABASE_URL_POSTGRES:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## regenerate the pinned versions after changing pyproject.toml
lock:
	rm -rf /tmp/crecer-lock && $(PYTHON) -m venv /tmp/crecer-lock
	/tmp/crecer-lock/bin/python -m pip install --quiet --upgrade pip
	/tmp/crecer-lock/bin/python -m pip install --quiet -e '.[dev]'
	(echo "# Exact versions the test suite passed with (Python 3.11). Regenerate: make lock"; \
	 /tmp/crecer-lock/bin/python -m pip freeze --exclude-editable | grep -v '^#') > requirements.lock

## refresh the translation catalogues and compile them (needs GNU gettext)
messages: install
	cd src/crecer && ../../$(BIN)/crecer makemessages -l es -l en --no-obsolete --add-location file
	cd src/crecer && ../../$(BIN)/crecer compilemessages

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
