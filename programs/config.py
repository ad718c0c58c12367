"""Reading an `EnvironmentSpec` from Pulumi stack config, for operators running `pulumi up`."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi

from programs.spec import EnvironmentSpec


def spec_from_config(config: pulumi.Config, stack_name: str) -> EnvironmentSpec:
    """Every spec field may be set as `stepladder:<field>`; `tier` and region are required."""
    values: dict[str, Any] = {"name": config.get("name") or stack_name}
    for spec_field in dataclasses.fields(EnvironmentSpec):
        if spec_field.name == "name":
            continue
        raw = config.get_object(spec_field.name)
        if raw is not None:
            values[spec_field.name] = raw
    if "region" not in values:
        values["region"] = pulumi.Config("aws").require("region")
    values["tier"] = config.require_int("tier")
    return EnvironmentSpec.from_dict(values)
