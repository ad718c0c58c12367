# Two commands do all set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit bench lock clean pulumi-cli

# The Pulumi CLI for the integration suite, built from Go modules (tools/pulumi-cli) once per
# version and go.sum. v3.274.0, not the Python SDK's 3.272.0: the Go proxy does not serve that.
PULUMI_VERSION := v3.274.0
PULUMI_CLI_DIR := .tools/pulumi-$(PULUMI_VERSION)-$(shell sha256sum tools/pulumi-cli/go.sum | cut -c1-12)
PULUMI_CLI := $(PULUMI_CLI_DIR)/pulumi

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/stepladder serve

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

$(PULUMI_CLI):
	tools/pulumi-cli/build.sh $(PULUMI_VERSION) $(CURDIR)/$(PULUMI_CLI)

pulumi-cli: $(PULUMI_CLI)

unit: install pulumi-cli
	PATH="$(CURDIR)/$(PULUMI_CLI_DIR):$$PATH" $(VENV)/bin/pytest

test: lint typecheck unit

bench: install
	cd bench && ../$(PY) promote_latency.py && ../$(PY) ladder_walk.py

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -e ".[dev]"
	.lock-venv/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .tools .stepladder .pytest_cache .mypy_cache .ruff_cache
