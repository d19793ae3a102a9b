# Liudong: `make` sets up .venv/ with the project and its test tools;
# `make demo` serves a demo county; `make test` runs every check CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: all demo test lint messages clean

all: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/liudong demo

test: $(STAMP)
	bash scripts/test-all

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Regenerate the translation catalogues after changing user-facing strings (needs gettext).
messages: $(STAMP)
	cd liudong && ../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete --no-location
	cd liudong && ../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) var/test-* .pytest_cache .ruff_cache
