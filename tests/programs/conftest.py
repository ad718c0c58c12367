"""Running `build(spec)` under Pulumi's mock monitor, in this process."""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from programs import EnvironmentSpec
from service.engines.model import ResourceState
from service.engines.secrets import SECRET_SIGNATURE_KEY
from service.engines.simulator import run_program

SPEC = EnvironmentSpec(
    name="acme",
    tier=0,
    region="eu-west-1",
    secondary_region="us-east-1",
    federated_databases=("users", "orders"),
    hosted_zone_id="Z0EXAMPLE",
    domain_name="shop.example.com",
    # Tier 7's Aurora Global Database needs a memory-optimised class.
    db_instance_class="db.r6g.large",
)


@dataclass
class Declared:
    resources: list[ResourceState]
    options: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[ResourceState]:
        return [r for r in self.resources if r.type == resource_type]

    def one(self, resource_type: str) -> ResourceState:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"{len(found)} {resource_type}"
        return found[0]

    def named(self, name: str) -> ResourceState:
        return next(r for r in self.resources if r.name == name)

    def counts(self) -> Counter[str]:
        return Counter(
            r.type for r in self.resources if r.custom and not r.type.startswith("pulumi:")
        )

    def inputs(self, name: str) -> dict[str, Any]:
        return self.named(name).inputs


@functools.lru_cache(maxsize=64)
def declare(spec: EnvironmentSpec) -> Declared:
    """What `build(spec)` declares; cached, since a spec always declares the same thing."""
    resources, options, _ = run_program(spec, [])
    return Declared(resources, options)


def unsecret(value: Any) -> Any:
    """A property the program marked secret, as its plain value (tests only)."""
    if isinstance(value, dict) and SECRET_SIGNATURE_KEY in value:
        return value["value"]
    return value
