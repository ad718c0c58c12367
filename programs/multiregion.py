"""Tier 7 as `build` declares it: federated clusters, the Aurora Global Database and the
secondary region, from the components in `programs/components/federation.py`."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from programs.components.data import AuroraDatabase, AuroraDatabaseArgs
from programs.components.federation import RegionalEndpoint, SecondaryRegion, SecondaryRegionArgs
from programs.components.network import available_zones
from programs.components.viewer import regional_certificate
from programs.naming import RDS_IDENTIFIER_MAX, exact_name
from programs.provider import RegionalProviders, environment_tags
from programs.spec import EnvironmentSpec


def federate(
    spec: EnvironmentSpec,
    federated_args: AuroraDatabaseArgs,
    database: AuroraDatabase,
    web_profile_name: pulumi.Output[str],
    providers: RegionalProviders,
    outputs: dict[str, Any],
    *,
    certificate_validation_fqdn: pulumi.Output[str] | None = None,
) -> RegionalEndpoint:
    """Federated clusters, the global database and the secondary region; returns where the
    secondary region serves."""
    name = spec.name
    with_provider = pulumi.ResourceOptions(providers=[providers()])
    for database_name in spec.federated_databases:
        federated = AuroraDatabase(
            f"{name}-{database_name}",
            federated_args,
            opts=with_provider,
        )
        outputs[f"federated_{database_name}_endpoint"] = federated.endpoint

    assert spec.secondary_region is not None
    global_database = aws.rds.GlobalCluster(
        f"{name}-global",
        global_cluster_identifier=exact_name(f"{name}-global", RDS_IDENTIFIER_MAX),
        source_db_cluster_identifier=database.cluster_arn,
        # On delete, detach the member clusters instead of refusing.
        force_destroy=True,
        deletion_protection=spec.protected,
        opts=pulumi.ResourceOptions.merge(
            with_provider, pulumi.ResourceOptions(protect=spec.protected)
        ),
    )
    secondary_provider = providers(spec.secondary_region)
    # Users reach the secondary region's load balancer directly, by latency: over HTTPS with a
    # certificate of its region for the domain.
    certificate_arn = None
    if spec.domain_name and certificate_validation_fqdn is not None:
        certificate_arn = regional_certificate(
            f"{name}-{spec.secondary_region}",
            spec.domain_name,
            certificate_validation_fqdn,
            opts=pulumi.ResourceOptions(providers=[secondary_provider]),
        )
    secondary = SecondaryRegion(
        f"{name}-{spec.secondary_region}",
        SecondaryRegionArgs(
            availability_zones=available_zones(
                spec.availability_zone_count,
                spec.secondary_region,
                secondary_provider,
                spec.deployed_secondary_zones,
            ),
            global_cluster_identifier=global_database.id,
            engine=spec.db_engine,
            engine_version=global_database.engine_version,
            instance_class=spec.db_instance_class,
            web_instance_type=spec.web_instance_type,
            web_min=spec.web_min,
            web_max=spec.web_max,
            target_cpu=spec.target_cpu,
            protected=spec.protected,
            snapshot_stamp=spec.snapshot_stamp,
            instance_tags=environment_tags(spec),
            instance_profile_name=web_profile_name,
            certificate_arn=certificate_arn,
        ),
        opts=pulumi.ResourceOptions(providers=[secondary_provider], depends_on=[global_database]),
    )
    outputs["secondary_load_balancer_dns_name"] = secondary.load_balancer_dns_name
    return RegionalEndpoint(
        spec.secondary_region,
        secondary.load_balancer_dns_name,
        secondary.load_balancer_zone_id,
    )
