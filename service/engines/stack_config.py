"""The stack settings an operator needs to run `programs/` by hand against the service's stack.

Without them, `pulumi up` in `programs/` would pick another backend or stack and build a second
copy of the environment. `stepladder stack-config <env>` writes `Pulumi.<env>.yaml` beside
`Pulumi.yaml`: the environment's spec as `stepladder:*` config (what `programs.config` reads)
and the region; it prints the backend. The secrets provider's settings are not in the file: the
service keeps none on disk, and the CLI takes them from the stack's state when told to
(PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER, see pulumi_workspace.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from programs import EnvironmentSpec


def stack_config_document(spec: EnvironmentSpec) -> dict[str, Any]:
    """`programs.config.spec_from_config` reads each field as JSON (`get_object`), the tier as
    an integer and the name as plain text; the stack name is the environment's name."""
    config: dict[str, str] = {"aws:region": spec.region}
    for field, value in spec.to_dict().items():
        if field == "name" or value is None:
            continue
        config[f"stepladder:{field}"] = str(value) if field == "tier" else json.dumps(value)
    return {"config": config}


def write_stack_config(spec: EnvironmentSpec, *, programs_dir: Path) -> Path:
    target = programs_dir / f"Pulumi.{spec.name}.yaml"
    document = stack_config_document(spec)
    target.write_text(yaml.safe_dump(document, sort_keys=True))
    return target
