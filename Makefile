# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
# What `make run` needs (the runtime lock), and what `make test` adds to it (the dev lock).
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp
# Pinned with hashes: runtime.txt is what the image installs, dev.txt adds the tools.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
LOCK := .lock-venv/bin/uv pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock"

.PHONY: install axe observatory run test test-fast lint typecheck unit unit-fast bench lock clean pulumi-cli

# The Pulumi CLI for the integration suite, built from Go modules (tools/pulumi-cli) once per
# version and go.sum. v3.274.0, not the Python SDK's 3.272.0: the Go proxy does not serve that.
PULUMI_VERSION := v3.274.0
PULUMI_CLI_DIR := .tools/pulumi-$(PULUMI_VERSION)-$(shell sha256sum tools/pulumi-cli/go.sum | cut -c1-12)
PULUMI_CLI := $(PULUMI_CLI_DIR)/pulumi

PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check

$(RUNTIME_STAMP): pyproject.toml $(RUNTIME_LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r $(RUNTIME_LOCK)
	$(PIP_INSTALL) --no-deps -e .
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml $(RUNTIME_LOCK) $(DEV_LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r $(DEV_LOCK)
	$(PIP_INSTALL) --no-deps -e .
	touch $(STAMP) $(RUNTIME_STAMP)

install: $(STAMP)

# axe-core for the browser tests' accessibility checks (tests/browser/package-lock.json).
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $(AXE)

axe: $(AXE)

# The MDN HTTP Observatory for the TLS test's grades (tests/observatory). Its install scripts
# download the HSTS preload and TLD lists; offline they are skipped and the preload list left
# empty (the service is on no preload list).
OBSERVATORY := tests/observatory/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json
$(OBSERVATORY): tests/observatory/package.json tests/observatory/package-lock.json
	cd tests/observatory && npm ci --ignore-scripts --no-audit --no-fund --silent
	echo '{}' > $(OBSERVATORY)

observatory: $(OBSERVATORY)

# Only the runtime lock: starting the service needs no test or lint tool.
run: $(RUNTIME_STAMP)
	$(VENV)/bin/stepladder serve

# Spectral and the OWASP API Security ruleset (tools/spectral/package-lock.json), over the
# OpenAPI description the service serves; tools/spectral/ruleset.yaml says what it checks.
SPECTRAL := tools/spectral/node_modules/.bin/spectral
$(SPECTRAL): tools/spectral/package.json tools/spectral/package-lock.json
	cd tools/spectral && npm ci --no-audit --no-fund --silent --ignore-scripts
	touch $(SPECTRAL)

lint: install $(SPECTRAL)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) tools/spectral/write_openapi.py > tools/spectral/openapi.json
	$(SPECTRAL) lint --ruleset tools/spectral/ruleset.yaml --fail-severity warn tools/spectral/openapi.json

typecheck: install
	$(VENV)/bin/mypy

$(PULUMI_CLI):
	tools/pulumi-cli/build.sh $(PULUMI_VERSION) $(CURDIR)/$(PULUMI_CLI)

pulumi-cli: $(PULUMI_CLI)

# pytest-xdist workers, each with a database of its own (tests/conftest.py). More workers than
# cores: most tests wait on engine children, servers and browsers rather than compute.
PYTEST_WORKERS ?= 3
# The slowest 25 in every run, so that a test that grew slow is seen (CONTRIBUTING.md).
PYTEST := PATH="$(CURDIR)/$(PULUMI_CLI_DIR):$$PATH" $(VENV)/bin/pytest \
	-n $(PYTEST_WORKERS) --dist loadgroup --durations=25

unit: install axe observatory pulumi-cli
	$(PYTEST)

# Everything but the tests marked `slow` (the ladder's steps on the real CLI and the simulator's
# walk, idempotence, state migration, the schedule wave), for a quicker check while working;
# `make test`, and so CI, runs them too.
unit-fast: install axe observatory pulumi-cli
	$(PYTEST) -m "not slow"

test: lint typecheck unit

test-fast: lint typecheck unit-fast

# Quick sizes by default (a shared machine); `make bench BENCH_ARGS=--full` for the issue's.
bench: install
	cd bench && PYTHONUNBUFFERED=1 ../$(PY) run.py $(BENCH_ARGS)

# Re-pin after changing pyproject.toml: existing pins are kept unless they must move.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet uv
	$(LOCK) pyproject.toml -o $(RUNTIME_LOCK)
	$(LOCK) --extra dev -c $(RUNTIME_LOCK) pyproject.toml -o $(DEV_LOCK)
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .tools .stepladder .pytest_cache .mypy_cache .ruff_cache tests/browser/node_modules \
		tools/spectral/node_modules tools/spectral/openapi.json \
		tests/observatory/node_modules
