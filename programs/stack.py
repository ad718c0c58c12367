"""`build(spec)`: the whole environment at the spec's tier, composed from the components.

The tier decides which components exist and with which flat arguments; no component reads the
tier itself. Every tier includes everything below it (TIERS.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi

from programs.components.autoscaling import AutoScaling, AutoScalingArgs, BusinessHours
from programs.components.data import AuroraDatabase, AuroraDatabaseArgs
from programs.components.decoupling import WorkQueue, WorkQueueArgs
from programs.components.edge import Edge, EdgeArgs, OriginName
from programs.components.federation import RegionalEndpoint, latency_records
from programs.components.loadbalancer import LoadBalancer, LoadBalancerArgs
from programs.components.master_password import MASTER_USERNAME
from programs.components.migration import (
    BoxAccess,
    DatabaseMove,
    DatabaseMoveArgs,
    DatabaseReturn,
    DatabaseReturnArgs,
    return_snapshot_identifier,
)
from programs.components.monitoring import Monitoring, MonitoringArgs
from programs.components.network import Network, NetworkArgs, available_zones
from programs.components.sessions import SessionStore, SessionStoreArgs
from programs.components.viewer import CLOUDFRONT_CERTIFICATE_REGION, ViewerDomain
from programs.components.web import WebAccess, WebAccessArgs, WebServers, WebServersArgs
from programs.errors import DefinitionError
from programs.multiregion import federate
from programs.provider import RegionalProviders, environment_tags
from programs.spec import EnvironmentSpec

# CloudFront reaches an HTTPS load balancer as origin.<domain_name>; the certificate covers it.
ORIGIN_LABEL = "origin"
# Aurora Global Database refuses burstable classes (db.t3, db.t4g).
BURSTABLE_DB_CLASS_PREFIX = "db.t"

SINGLE_BOX, SEPARATE_DB, MULTI_AZ, EDGE, STATELESS, AUTO_SCALING, SERVICES, FEDERATED = range(8)


def build(spec: EnvironmentSpec) -> dict[str, Any]:
    """Declare every resource of `spec.name` at `spec.tier`; returns (and exports) its outputs."""
    name, tier = spec.name, spec.tier
    if tier >= FEDERATED and not spec.secondary_region:
        raise DefinitionError("tier 7 (multi-region) needs secondary_region in the definition")
    if tier >= EDGE and spec.certificate_arn and not (spec.hosted_zone_id and spec.domain_name):
        raise DefinitionError(
            "CloudFront (tier 3) reaches an HTTPS load balancer only by a name its certificate "
            "covers: set hosted_zone_id and domain_name along with certificate_arn"
        )
    if tier >= FEDERATED and spec.db_instance_class.startswith(BURSTABLE_DB_CLASS_PREFIX):
        raise DefinitionError(
            "tier 7 (Aurora Global Database) needs a memory-optimised db_instance_class "
            f"such as db.r6g.large, not {spec.db_instance_class}"
        )
    providers = RegionalProviders(spec)
    provider = providers()
    with_provider = pulumi.ResourceOptions(providers=[provider])
    zones = available_zones(
        spec.availability_zone_count, spec.region, provider, spec.deployed_zones
    )
    outputs: dict[str, Any] = {"tier": tier}

    network = Network(
        name,
        NetworkArgs(
            availability_zones=zones,
            public_subnet_count=1 if tier < MULTI_AZ else len(zones),
            private_subnet_count=0 if tier < SEPARATE_DB else len(zones),
        ),
        opts=with_provider,
    )
    outputs["vpc_id"] = network.vpc_id

    balancer = None
    if tier >= MULTI_AZ:
        balancer = LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                vpc_id=network.vpc_id,
                subnet_ids=network.public_subnet_ids,
                certificate_arn=spec.certificate_arn or None,
                protected=spec.protected,
                cloudfront_only=tier >= EDGE,
            ),
            opts=with_provider,
        )
        outputs["load_balancer_dns_name"] = balancer.dns_name

    access = WebAccess(
        f"{name}-web",
        WebAccessArgs(
            vpc_id=network.vpc_id,
            load_balancer_security_group_id=balancer.security_group_id if balancer else None,
        ),
        opts=with_provider,
    )

    database = None
    if tier >= SEPARATE_DB:
        database = AuroraDatabase(
            f"{name}-aurora",
            dataclasses.replace(
                _database_args(spec, network, access, zones, standby=tier >= MULTI_AZ,
                               readers=tier >= EDGE, drain=tier == MULTI_AZ,
                               fail_over=tier == SEPARATE_DB),
                owned_master_password=bool(spec.secondary_region),
                master_secret_replica_region=spec.secondary_region if tier >= FEDERATED else None,
            ),
            opts=with_provider,
        )  # fmt: skip
        outputs["database_endpoint"] = database.endpoint
        outputs["database_reader_endpoint"] = database.reader_endpoint

    endpoints: list[RegionalEndpoint] = []
    validation_fqdn = None
    if tier >= EDGE:
        assert balancer is not None
        edge = Edge(
            f"{name}-edge",
            EdgeArgs(
                load_balancer_dns_name=balancer.dns_name,
                protected=spec.protected,
                https_origin=_https_origin(spec, balancer),
                origin_secret=balancer.origin_secret,
                viewer_domain=ViewerDomain(
                    spec.domain_name, spec.hosted_zone_id, providers(CLOUDFRONT_CERTIFICATE_REGION)
                )
                if spec.hosted_zone_id and spec.domain_name
                else None,
            ),
            opts=with_provider,
        )
        outputs["cdn_domain_name"] = edge.distribution_domain_name
        validation_fqdn = edge.certificate_validation_fqdn
        # Users reach the site through CloudFront (latency-routed, so tier 7 adds its region).
        endpoints.append(
            RegionalEndpoint(
                spec.region,
                edge.distribution_domain_name,
                edge.distribution_zone_id,
                evaluate_target_health=False,
            )
        )

    sessions = None
    if tier >= STATELESS:
        sessions = SessionStore(
            f"{name}-sessions",
            SessionStoreArgs(
                vpc_id=network.vpc_id,
                subnet_ids=network.private_subnet_ids,
                web_security_group_id=access.security_group_id,
                cache_node_type=spec.cache_node_type,
                cache_node_count=spec.cache_node_count,
                protected=spec.protected,
                replica_regions=(spec.secondary_region,)
                if tier >= FEDERATED and spec.secondary_region
                else (),
            ),
            opts=with_provider,
        )
        outputs["session_table_name"] = sessions.table_name

    # Tiers 1 to 3, and tier 0 on the way back: the box's own role, so Systems Manager can
    # move its database (tier 4's session store brings the web role from then on).
    returning = tier == SINGLE_BOX and spec.returning_cluster_identifier is not None
    box = (
        BoxAccess(f"{name}-box", opts=with_provider)
        if returning or SEPARATE_DB <= tier < STATELESS
        else None
    )
    if tier < AUTO_SCALING:
        web = WebServers(
            f"{name}-web",
            WebServersArgs(
                subnet_ids=network.public_subnet_ids,
                security_group_id=access.security_group_id,
                instance_type=spec.web_instance_type,
                instance_count=1 if tier < MULTI_AZ else len(zones),
                local_database_engine=spec.db_engine if tier == SINGLE_BOX else None,
                target_group_arn=balancer.target_group_arn if balancer else None,
                elastic_ip=tier < MULTI_AZ,
                instance_profile_name=sessions.instance_profile_name
                if sessions
                else box.instance_profile_name
                if box
                else None,
            ),
            opts=with_provider,
        )
        outputs["web_instance_ids"] = web.instance_ids
        if box is not None and database is not None:
            DatabaseMove(
                f"{name}-database-move",
                DatabaseMoveArgs(
                    instance_id=web.instance_ids[0],
                    role_id=box.role_id,
                    writer_endpoint=database.endpoint,
                    master_secret_arn=database.master_secret_arn,
                    master_username=MASTER_USERNAME,
                    engine=spec.db_engine,
                ),
                opts=with_provider,
            )
        if box is not None and returning:
            DatabaseReturn(
                f"{name}-database-return",
                _return_args(spec, box, web.instance_ids[0]),
                opts=with_provider,
            )
    else:
        assert balancer is not None and database is not None and sessions is not None
        group = AutoScaling(
            f"{name}-web",
            AutoScalingArgs(
                subnet_ids=network.public_subnet_ids,
                security_group_id=access.security_group_id,
                target_group_arn=balancer.target_group_arn,
                instance_type=spec.web_instance_type,
                instance_profile_name=sessions.instance_profile_name,
                min_size=spec.web_min,
                max_size=spec.web_max,
                target_cpu=spec.target_cpu,
                business_hours=_business_hours(spec),
                instance_tags=environment_tags(spec),
            ),
            opts=with_provider,
        )
        monitoring = Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                region=spec.region,
                load_balancer_arn_suffix=balancer.arn_suffix,
                database_cluster_identifier=database.cluster_identifier,
                auto_scaling_group_name=group.group_name,
            ),
            opts=with_provider,
        )
        outputs["auto_scaling_group_name"] = group.group_name
        outputs["alarm_topic_arn"] = monitoring.topic_arn

        if tier >= SERVICES:
            work = WorkQueue(
                f"{name}-work",
                WorkQueueArgs(
                    function_name=f"{name}-worker",
                    memory_mb=spec.lambda_memory_mb,
                    batch_size=spec.lambda_batch_size,
                    alarm_topic_arn=monitoring.topic_arn,
                    protected=spec.protected,
                ),
                opts=with_provider,
            )
            outputs["work_queue_url"] = work.queue_url

    if tier >= FEDERATED:
        assert balancer is not None and database is not None and sessions is not None
        federated_args = _database_args(spec, network, access, zones, standby=True, readers=False)
        endpoints.append(
            federate(spec, federated_args, database, sessions.instance_profile_name, providers,
                     outputs, certificate_validation_fqdn=validation_fqdn)
        )  # fmt: skip

    if tier >= EDGE and spec.hosted_zone_id and spec.domain_name:
        latency_records(name, spec.hosted_zone_id, spec.domain_name, endpoints, opts=with_provider)

    for key, value in outputs.items():
        pulumi.export(key, value)
    return outputs


def _database_args(
    spec: EnvironmentSpec,
    network: Network,
    access: WebAccess,
    zones: tuple[str, ...],
    *,
    standby: bool,
    readers: bool,
    drain: bool = False,
    fail_over: bool = False,
) -> AuroraDatabaseArgs:
    return AuroraDatabaseArgs(
        vpc_id=network.vpc_id,
        subnet_ids=network.private_subnet_ids,
        region=spec.region,
        client_security_group_id=access.security_group_id,
        availability_zones=zones,
        engine=spec.db_engine,
        instance_class=spec.db_instance_class,
        protected=spec.protected,
        snapshot_stamp=spec.snapshot_stamp,
        standby=standby,
        reader_count=spec.reader_count if readers else 0,
        replica_autoscaling=readers,
        drain_autoscaled_replicas=drain,
        fail_over_to_writer=fail_over,
        reader_max=spec.reader_max,
        reader_target_cpu=spec.target_cpu,
    )


def _return_args(
    spec: EnvironmentSpec, box: BoxAccess, instance_id: pulumi.Output[str]
) -> DatabaseReturnArgs:
    if not (spec.returning_writer_endpoint and spec.returning_secret_arn):
        raise DefinitionError(
            "the step to tier 0 moves the database back onto the box, but the deployed "
            f"cluster {spec.returning_cluster_identifier} has no known writer endpoint and "
            "master secret: refresh the environment, then demote again"
        )
    assert spec.returning_cluster_identifier is not None
    return DatabaseReturnArgs(
        move=DatabaseMoveArgs(
            instance_id=instance_id,
            role_id=box.role_id,
            writer_endpoint=spec.returning_writer_endpoint,
            master_secret_arn=spec.returning_secret_arn,
            master_username=MASTER_USERNAME,
            engine=spec.db_engine,
        ),
        cluster_identifier=spec.returning_cluster_identifier,
        snapshot_identifier=return_snapshot_identifier(
            spec.returning_cluster_identifier, spec.snapshot_stamp
        ),
    )


def _https_origin(spec: EnvironmentSpec, balancer: LoadBalancer) -> OriginName | None:
    if not (spec.certificate_arn and spec.hosted_zone_id and spec.domain_name):
        return None
    return OriginName(
        hostname=f"{ORIGIN_LABEL}.{spec.domain_name}",
        hosted_zone_id=spec.hosted_zone_id,
        load_balancer_zone_id=balancer.zone_id,
    )


def _business_hours(spec: EnvironmentSpec) -> BusinessHours | None:
    if spec.business_hours_start is None or spec.business_hours_end is None:
        return None
    return BusinessHours(
        start_hour=spec.business_hours_start,
        end_hour=spec.business_hours_end,
        days=spec.business_hours_days,
        timezone=spec.business_hours_timezone,
        off_hours_min=spec.off_hours_web_min,
    )
