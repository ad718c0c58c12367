"""The stack settings an operator needs to run `programs/` by hand against the service's stack.

Without them, `pulumi up` in `programs/` would pick another backend or stack and build a second
copy of the environment. `stepladder stack-config <env>` writes `Pulumi.<env>.yaml` beside
`Pulumi.yaml`: the environment's spec as `stepladder:*` config (what `programs.config` reads),
the region, and the secrets settings of the service's own workspace; it prints the backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from programs import EnvironmentSpec

# The stack settings (not config) that must match the service's for the state to decrypt.
SECRETS_SETTINGS = ("secretsprovider", "encryptionsalt", "encryptedkey")


def stack_config_document(
    spec: EnvironmentSpec, service_stack_settings: dict[str, Any]
) -> dict[str, Any]:
    """`programs.config.spec_from_config` reads each field as JSON (`get_object`), the tier as
    an integer and the name as plain text; the stack name is the environment's name."""
    config: dict[str, str] = {"aws:region": spec.region}
    for field, value in spec.to_dict().items():
        if field == "name" or value is None:
            continue
        config[f"stepladder:{field}"] = str(value) if field == "tier" else json.dumps(value)
    settings = {key: service_stack_settings[key] for key in SECRETS_SETTINGS
                if key in service_stack_settings}  # fmt: skip
    return {**settings, "config": config}


def write_stack_config(
    spec: EnvironmentSpec, *, programs_dir: Path, service_workspace: Path
) -> Path:
    service_file = service_workspace / f"Pulumi.{spec.name}.yaml"
    service_settings = yaml.safe_load(service_file.read_text()) if service_file.exists() else {}
    target = programs_dir / f"Pulumi.{spec.name}.yaml"
    document = stack_config_document(spec, service_settings or {})
    target.write_text(yaml.safe_dump(document, sort_keys=True))
    return target
