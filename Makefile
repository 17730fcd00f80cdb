# Two promises: `make demo` and `make test` work on a fresh machine with only Python 3.11: with
# no DATABASE_URL both run on an embedded PostgreSQL (portal/embedded_db.py) the project starts.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The test and lint tools on top (pytest, playwright, schemathesis, ruff…): `make demo` and
# `make serve` do not wait for them (about half of a fresh clone's install).
TEST_STAMP := $(VENV)/.installed-test
# Where `make demo` and `make serve` listen: `make demo PORT=8123`.
PORT ?= 8000
# Where the demo keeps its database, secrets and mail (settings.py reads the same variable).
VAR_DIR := $(or $(SWITCHBOARD_VAR_DIR),var)

.PHONY: demo test install lint serve clean stop

# The project installs with uv, fetched first by the pip each Python 3.11 bundles: a fresh
# clone's `make install` took ~55 s with pip alone (resolving, unpacking and compiling in one
# process) and ~19 s with uv, the venv included (2026-11-29, docs/testing.md). uv reads PyPI
# with the system's certificates (`--native-tls`: a proxy's own authority is trusted as pip
# trusts it), not pip's configuration: where uv cannot be had or cannot install (an index only
# pip is configured for), one line says so and pip installs.
UV_SPEC := uv>=0.9,<1
define install_project
	{ { test -x $(VENV)/bin/uv \
	    || $(PY) -m pip install --quiet --disable-pip-version-check '$(UV_SPEC)' 2>/dev/null; } \
	  && $(VENV)/bin/uv pip install --quiet --native-tls --compile-bytecode --python $(PY) \
	       -e '$(1)'; } \
	|| { echo "uv could not install the project: pip does (slower)"; \
	     $(PY) -m pip install --quiet --disable-pip-version-check -e '$(1)'; }
endef

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(call install_project,.)
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(call install_project,.[test])
	touch $(TEST_STAMP)

install: $(TEST_STAMP)

# The demo command migrates (quietly: its lines and the server's logs go to var/demo.log).
demo: $(STAMP)
	$(PY) manage.py demo --serve 127.0.0.1:$(PORT)

# The suite on one more worker than the machine has cores (pytest-xdist): many tests wait on
# processes they started, timeouts or sleeps, and a third worker on two cores took the suite
# from ~720 to ~620 s. The longest tests start first (tests/conftest.py). `make test
# TEST_WORKERS=0` runs it in one process. The sources are
# compiled once first: with PYTHONDONTWRITEBYTECODE set (as on CI machines) every command a
# test starts (manage.py, workers, gunicorn) would compile them all again, ~0.4 s each; and
# pytest's rewritten test modules are written once, which every worker would otherwise
# rewrite for itself (tests/support/assert_cache.py).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')
test: $(TEST_STAMP)
	$(PY) -m compileall -q -j0 portal sync reports tests bench manage.py > /dev/null
	$(PY) -m tests.support.assert_cache
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The production run: refuses without the services and secrets a real deployment needs, then
# migrates, collects static files and runs web + workers + beat from the Procfile (Ctrl-C stops
# all of them). See docs/operations.md, section Production.
serve: $(STAMP)
	@$(PY) -m portal.serve_check
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/honcho start --procfile Procfile --port $(PORT)

# Stops the embedded PostgreSQL the demo and commands started under var/postgres (its data stays;
# the next command starts it again). A DATABASE_URL server is never touched.
stop:
	@if [ -x $(PY) ]; then $(PY) -m portal.embedded_db stop $(VAR_DIR)/postgres; fi

# The rules about the source: ruff, the one-way imports and no import cycle (import-linter's
# contracts in pyproject.toml), and the project's own (tests/lint/custom_check.py).
lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m tests.lint.custom_check

# Removes the virtualenv and the demo's database (stopped first; as root it may live under
# /var/lib/switchboard-pg, var/postgres linking to it: portal/embedded_db.py).
clean:
	@if [ -x $(PY) ]; then $(PY) -m portal.embedded_db remove $(VAR_DIR)/postgres; fi
	rm -rf $(VENV) $(VAR_DIR)/postgres
