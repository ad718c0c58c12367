"""`build(spec)`: the whole environment at the spec's tier, composed from the components.

The tier decides which components exist and with which flat arguments; no component reads the
tier itself.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from programs.components.data import AuroraDatabase, AuroraDatabaseArgs
from programs.components.loadbalancer import LoadBalancer, LoadBalancerArgs
from programs.components.network import Network, NetworkArgs
from programs.components.web import WebServers, WebServersArgs
from programs.provider import aws_provider
from programs.spec import EnvironmentSpec

HIGHEST_BUILT_TIER = 2


def build(spec: EnvironmentSpec) -> dict[str, Any]:
    """Declare every resource of `spec.name` at `spec.tier`; returns (and exports) its outputs."""
    name = spec.name
    tier = spec.tier
    if tier > HIGHEST_BUILT_TIER:
        raise NotImplementedError(
            f"tier {tier} is not built yet; the ladder's programs go up to {HIGHEST_BUILT_TIER}"
        )
    provider = aws_provider(spec)
    with_provider = pulumi.ResourceOptions(providers=[provider])
    zones = _availability_zones(spec, provider)

    network = Network(
        name,
        NetworkArgs(
            availability_zones=zones,
            public_subnet_count=1 if tier < 2 else spec.availability_zone_count,
            private_subnet_count=0 if tier < 1 else spec.availability_zone_count,
        ),
        opts=with_provider,
    )
    outputs: dict[str, Any] = {"tier": tier, "vpc_id": network.vpc_id}

    load_balancer = None
    if tier >= 2:
        load_balancer = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids,
                certificate_arn=spec.certificate_arn,
            ),
            opts=with_provider,
        )
        outputs["load_balancer_dns_name"] = load_balancer.dns_name

    web = WebServers(
        f"{name}-web",
        WebServersArgs(
            vpc_id=network.vpc_id,
            subnet_ids=network.public_subnet_ids,
            instance_type=spec.web_instance_type,
            instance_count=1 if tier < 2 else spec.availability_zone_count,
            runs_database=tier == 0,
            load_balancer_security_group_id=load_balancer.security_group_id
            if load_balancer
            else None,
            target_group_arn=load_balancer.target_group_arn if load_balancer else None,
            elastic_ip=tier < 2,
        ),
        opts=with_provider,
    )
    outputs["web_instance_ids"] = web.instance_ids

    if tier >= 1:
        database = AuroraDatabase(
            f"{name}-aurora",
            AuroraDatabaseArgs(
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                client_security_group_id=web.security_group_id,
                availability_zones=zones,
                engine=spec.db_engine,
                instance_class=spec.db_instance_class,
                protected=spec.protected,
                final_snapshot_identifier=f"{name}-final-{spec.snapshot_stamp}",
                standby=tier >= 2,
            ),
            opts=with_provider,
        )
        outputs["database_endpoint"] = database.endpoint
        outputs["database_reader_endpoint"] = database.reader_endpoint

    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def _availability_zones(spec: EnvironmentSpec, provider: aws.Provider) -> tuple[str, ...]:
    """The first N zones of the region that are available, N from the definition."""
    found = aws.get_availability_zones(
        state="available", opts=pulumi.InvokeOptions(provider=provider)
    )
    names = tuple(sorted(found.names))
    if len(names) < spec.availability_zone_count:
        raise ValueError(
            f"region {spec.region} offers {len(names)} availability zones, "
            f"the definition asks for {spec.availability_zone_count}"
        )
    return names[: spec.availability_zone_count]
