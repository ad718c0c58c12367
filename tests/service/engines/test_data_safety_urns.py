"""A confirmation planned under mocks must match the real engine's URN of the same resource."""

from __future__ import annotations

import pytest

from programs import EnvironmentSpec
from service.engines.declare import declared_resources
from service.engines.model import EngineError, ResourceChange, refuse_unconfirmed_data_loss

GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
SPEC = EnvironmentSpec(
    name="acme", tier=7, region="eu-west-1", secondary_region="us-east-1",
    hosted_zone_id="Z0EXAMPLE", domain_name="shop.example.com",
    db_instance_class="db.r6g.large",  # a global database refuses burstable classes
)  # fmt: skip


def test_a_confirmed_global_cluster_loss_is_the_one_the_engine_plans() -> None:
    (declared,) = declared_resources([SPEC])
    planned = next(resource for resource in declared if resource.type == GLOBAL_CLUSTER)
    # The mock monitor's form, as the API stores it in the confirmation...
    assert planned.urn.split("::")[2] == f"pulumi:pulumi:Stack${GLOBAL_CLUSTER}"
    # ...and the engine's, which gives a top-level resource no parent type.
    engine_urn = f"urn:pulumi:acme::stepladder::{GLOBAL_CLUSTER}::{planned.name}"
    deleted = ResourceChange(urn=engine_urn, type=GLOBAL_CLUSTER, name=planned.name, op="delete")

    refuse_unconfirmed_data_loss([deleted], frozenset({planned.urn}))
    with pytest.raises(EngineError) as refused:
        refuse_unconfirmed_data_loss([deleted], frozenset())
    assert refused.value.code == "unconfirmed_data_loss"
