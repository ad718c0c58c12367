"""AWS's own rules on resource inputs, which Pulumi's mocks never check.

The simulated `aws` provider plugin applies them in `Check`, so a program that breaks one fails
the preview with a provider error, as it would against AWS (where some of them only surface at
create time). Each rule sees one resource's inputs plus what the simulated cloud already knows
(`Known`). A value not yet known (an output of a resource still to be created) is `UNKNOWN` and
never breaks a rule: the rule runs again when the value is known, during the update.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from service.engines.simulated_aws import (
    AUTONAME_RANDOM_CHARS,
    AUTONAMED,
    ami_architecture,
    prefix_list_weight,
    simulated_id,
)

# How Pulumi marks a value that is not known until a resource is created.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PREFIX = "[simulated AWS] "

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
CLUSTER_SNAPSHOT = "aws:rds/clusterSnapshot:ClusterSnapshot"
RDS_IDENTIFIER_TYPES = {CLUSTER, CLUSTER_INSTANCE, GLOBAL_CLUSTER}
# Aurora Global Database runs only on memory-optimised classes (AWS documents db.r* and db.x*).
GLOBAL_DATABASE_CLASS = re.compile(r"^db\.(r\d|x\d)")
# Graviton families: a `g` in the suffix after the generation digit (t4g, m7gd, c6gn, is4gen).
GRAVITON_FAMILY = re.compile(r"^[a-z]+\d+[a-z]*g[a-z]*\.")
SQS_MAX_BATCH_WITHOUT_WINDOW = 10
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# AWS's default quota of inbound rules per security group; a prefix list counts as its size.
INGRESS_RULES_PER_GROUP = 60
# An Aurora cluster holds at most 15 replicas (the standby and every reader count).
AURORA_MAX_REPLICAS = 15


@dataclass(frozen=True)
class Failure:
    property: str
    reason: str


class Known(Protocol):
    """What the simulated cloud knows besides the resource being checked."""

    def find(self, resource_type: str, key: str, value: Any) -> list[dict[str, Any]]:
        """Resources of a type (inputs and outputs merged, with `id` and `urn` where known)
        whose `key` equals `value`."""
        ...

    def claim(self, kind: str, value: str, owner: str) -> str | None:
        """Claims a unique value for `owner`; returns the other owner if it was taken."""
        ...


def check_resource(
    resource_type: str, name: str, urn: str, inputs: dict[str, Any], known: Known
) -> list[Failure]:
    failures = list(_name_rules(resource_type, name, inputs))
    for rule in RULES.get(resource_type, ()):
        failures.extend(rule(inputs, urn, known))
    return [Failure(f.property, PREFIX + f.reason) for f in failures]


def _is_known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _name_rules(resource_type: str, name: str, inputs: dict[str, Any]) -> list[Failure]:
    if resource_type not in AUTONAMED:
        return []
    prop, limit = AUTONAMED[resource_type]
    value = inputs.get(prop)
    if value is None:
        # Pulumi adds a dash and random characters to the logical name (the bridge's message).
        if len(name) + 1 + AUTONAME_RANDOM_CHARS > limit:
            return [
                Failure(
                    prop,
                    f"name '{name}-' plus {AUTONAME_RANDOM_CHARS} random chars is longer than "
                    f"maximum length {limit}",
                )
            ]
        return []
    if not _is_known(value) or not isinstance(value, str):
        return []
    failures = []
    if len(value) > limit:
        failures.append(Failure(prop, f"{prop} '{value}' is longer than {limit} characters"))
    if resource_type in RDS_IDENTIFIER_TYPES and ("--" in value or value.endswith("-")):
        failures.append(
            Failure(prop, f"{prop} '{value}' must not contain two consecutive hyphens or end "
                    "with a hyphen (RDS InvalidParameterValue)")
        )  # fmt: skip
    return failures


def _global_membership(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    """A secondary cluster of an Aurora Global Database: no managed password, same version."""
    global_id = inputs.get("globalClusterIdentifier")
    if not _is_known(global_id) or global_id == "":
        return []
    failures = []
    if inputs.get("manageMasterUserPassword") is True:
        failures.append(
            Failure(
                "manageMasterUserPassword",
                "InvalidParameterCombination: managed master user passwords are not supported "
                "for clusters in an Aurora global database",
            )
        )
    version = inputs.get("engineVersion")
    global_clusters = known.find(GLOBAL_CLUSTER, "globalClusterIdentifier", global_id)
    expected = global_clusters[0].get("engineVersion") if global_clusters else None
    if not _is_known(version):
        failures.append(
            Failure(
                "engineVersion",
                "InvalidParameterCombination: a secondary cluster must name the engine version "
                f"of its global database{f' ({expected})' if expected else ''}",
            )
        )
    elif expected and version != expected:
        failures.append(
            Failure(
                "engineVersion",
                f"InvalidParameterCombination: the secondary cluster's engine version {version} "
                f"does not match the global database's {expected}",
            )
        )
    return failures


def _unique_final_snapshot(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    snapshot = inputs.get("finalSnapshotIdentifier")
    if inputs.get("skipFinalSnapshot") is True or not _is_known(snapshot):
        return []
    other = known.claim("final snapshot", str(snapshot), urn)
    if other is None:
        return []
    return [
        Failure(
            "finalSnapshotIdentifier",
            f"DBClusterSnapshotAlreadyExists: the final snapshot '{snapshot}' is also the final "
            f"snapshot of {other}; each cluster needs its own",
        )
    ]


def _snapshot_of_a_cluster(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    """A manual snapshot names a cluster that exists, and a name no other snapshot has."""
    cluster, snapshot = inputs.get("dbClusterIdentifier"), inputs.get("dbClusterSnapshotIdentifier")
    failures = []
    if _is_known(cluster) and not known.find(CLUSTER, "id", cluster):
        failures.append(
            Failure(
                "dbClusterIdentifier",
                f"DBClusterNotFoundFault: there is no cluster {cluster} to snapshot",
            )
        )
    if _is_known(snapshot):
        other = known.claim("final snapshot", str(snapshot), urn)
        if other is not None:
            failures.append(
                Failure(
                    "dbClusterSnapshotIdentifier",
                    f"DBClusterSnapshotAlreadyExists: the snapshot name '{snapshot}' is also "
                    f"used by {other}",
                )
            )
    return failures


def _global_source(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    """A global database made from an existing cluster inherits that cluster's limits."""
    source = inputs.get("sourceDbClusterIdentifier")
    if not _is_known(source):
        return []
    failures = []
    for cluster in known.find(CLUSTER, "arn", source) or known.find(CLUSTER, "id", source):
        if cluster.get("manageMasterUserPassword") is True:
            failures.append(
                Failure(
                    "sourceDbClusterIdentifier",
                    "InvalidParameterCombination: the source cluster manages its master user "
                    "password in Secrets Manager, which Aurora global databases do not support",
                )
            )
        for instance in known.find(CLUSTER_INSTANCE, "clusterIdentifier", cluster.get("id")):
            failures.extend(_global_class(str(instance.get("instanceClass")), "source cluster"))
    return failures


def _global_class(instance_class: str, whose: str) -> list[Failure]:
    if GLOBAL_DATABASE_CLASS.match(instance_class):
        return []
    return [
        Failure(
            "instanceClass",
            f"InvalidParameterCombination: the {whose}'s instance class {instance_class} is not "
            "supported by Aurora global databases (memory-optimised classes only: db.r*, db.x*)",
        )
    ]


def _cluster_instance(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    cluster_id = inputs.get("clusterIdentifier")
    instance_class = inputs.get("instanceClass")
    if not _is_known(cluster_id) or not _is_known(instance_class):
        return []
    failures = []
    for cluster in known.find(CLUSTER, "id", cluster_id):
        in_global = _is_known(cluster.get("globalClusterIdentifier")) and cluster.get(
            "globalClusterIdentifier"
        )
        if in_global or known.find(GLOBAL_CLUSTER, "sourceDbClusterIdentifier", cluster.get("arn")):
            failures.extend(_global_class(str(instance_class), "cluster instance"))
        if instance_class == "db.serverless" and not cluster.get(
            "serverlessv2ScalingConfiguration"
        ):
            failures.append(
                Failure(
                    "instanceClass",
                    "InvalidParameterCombination: db.serverless instances need the cluster to "
                    "have a serverlessv2ScalingConfiguration",
                )
            )
    return failures


def _graviton_image(image_key: str) -> Callable[[dict[str, Any], str, Known], list[Failure]]:
    def rule(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
        instance_type, image = inputs.get("instanceType"), inputs.get(image_key)
        if not _is_known(instance_type) or not _is_known(image):
            return []
        if GRAVITON_FAMILY.match(str(instance_type)) and ami_architecture(str(image)) != "arm64":
            return [
                Failure(
                    "instanceType",
                    f"InvalidParameterValue: instance type {instance_type} is a Graviton (arm64) "
                    f"type, but image {image} is x86_64",
                )
            ]
        return []

    return rule


def _sqs_batching(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    batch_size = inputs.get("batchSize")
    source = inputs.get("eventSourceArn")
    # An unknown source is taken for SQS: the only kind of source the programs use.
    from_sqs = not _is_known(source) or ":sqs:" in str(source)
    if not from_sqs or not isinstance(batch_size, int | float):
        return []
    if batch_size > SQS_MAX_BATCH_WITHOUT_WINDOW and not inputs.get(
        "maximumBatchingWindowInSeconds"
    ):
        return [
            Failure(
                "batchSize",
                f"InvalidParameterValueException: batch size {int(batch_size)} above "
                f"{SQS_MAX_BATCH_WITHOUT_WINDOW} for an SQS queue needs "
                "maximumBatchingWindowInSeconds of at least 1",
            )
        ]
    return []


def _replica_count_target(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    if inputs.get("scalableDimension") != "rds:cluster:ReadReplicaCount":
        return []
    failures = []
    low, high = inputs.get("minCapacity"), inputs.get("maxCapacity")
    if isinstance(high, int | float) and high > AURORA_MAX_REPLICAS:
        failures.append(
            Failure(
                "maxCapacity",
                f"ValidationException: maximum capacity {int(high)} is above the "
                f"{AURORA_MAX_REPLICAS} replicas an Aurora cluster can hold",
            )
        )
    if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
        failures.append(
            Failure(
                "minCapacity",
                f"ValidationException: minimum capacity {int(low)} is above the maximum "
                f"capacity {int(high)}",
            )
        )
    return failures


def _cloudfront_viewer_certificate(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    aliases = inputs.get("aliases")
    if not isinstance(aliases, list) or not aliases:
        return []
    certificate = inputs.get("viewerCertificate") or {}
    arn = certificate.get("acmCertificateArn") if isinstance(certificate, dict) else None
    if (
        not _is_known(arn)
        and isinstance(certificate, dict)
        and not certificate.get("cloudfrontDefaultCertificate")
    ):
        return []
    if _is_known(arn) and str(arn).startswith("arn:aws:acm:us-east-1:"):
        return []
    return [
        Failure(
            "viewerCertificate",
            "InvalidViewerCertificate: a distribution with alternate domain names "
            f"({', '.join(map(str, aliases))}) needs an ACM certificate from us-east-1, "
            f"not {arn or 'the CloudFront default certificate'}",
        )
    ]


def _cloudfront_origins(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    """Every origin has a DNS name and an id of its own, and every cache behaviour sends to one
    of those ids. The real provider's Check refuses an origin without `domainName`; CloudFront
    refuses the rest when the distribution is created."""
    origins = inputs.get("origins")
    if not isinstance(origins, list) or not all(isinstance(o, dict) for o in origins):
        return []  # not known yet (a preview): nothing to check
    failures = [
        Failure(
            "origins",
            f"InvalidArgument: the origin {origin.get('originId')!r} has no domainName; "
            "CloudFront needs the DNS name of each origin",
        )
        for origin in origins
        if not origin.get("domainName")
    ]
    ids = [origin.get("originId") for origin in origins]
    if not all(_is_known(origin_id) for origin_id in ids):
        return failures
    if len(set(ids)) < len(ids):
        failures.append(Failure("origins", f"InvalidArgument: origin ids are not unique: {ids}"))
    default = inputs.get("defaultCacheBehavior")
    behaviours = [default] if isinstance(default, dict) else []
    behaviours += [b for b in inputs.get("orderedCacheBehaviors") or [] if isinstance(b, dict)]
    failures += [
        Failure(
            "defaultCacheBehavior" if behaviour is default else "orderedCacheBehaviors",
            f"NoSuchOrigin: the cache behaviour targets the origin {target!r}, which the "
            f"distribution does not have (its origins: {ids})",
        )
        for behaviour in behaviours
        if _is_known(target := behaviour.get("targetOriginId")) and target not in ids
    ]
    return failures


def _ingress_quota(inputs: dict[str, Any], urn: str, known: Known) -> list[Failure]:
    group = inputs.get("securityGroupId")
    if not _is_known(group):
        return []
    # The rule being checked may already exist (an update checks it again): never count it
    # twice. Known resources name their URN where the cloud knows it, their id otherwise.
    this_id = simulated_id(INGRESS_RULE, urn)
    others = [
        r
        for r in known.find(INGRESS_RULE, "securityGroupId", group)
        if r.get("urn") != urn and r.get("id") != this_id
    ]
    used = sum(_rule_weight(rule) for rule in [inputs, *others])
    if used <= INGRESS_RULES_PER_GROUP:
        return []
    return [
        Failure(
            "prefixListId" if inputs.get("prefixListId") else "securityGroupId",
            f"RulesPerSecurityGroupLimitExceeded: the group's inbound rules would count as {used} "
            f"(a prefix list counts as its maximum entries), above {INGRESS_RULES_PER_GROUP}",
        )
    ]


def _rule_weight(rule: dict[str, Any]) -> int:
    prefix_list = rule.get("prefixListId")
    return prefix_list_weight(str(prefix_list)) if _is_known(prefix_list) and prefix_list else 1


RULES: dict[str, tuple[Callable[[dict[str, Any], str, Known], list[Failure]], ...]] = {
    CLUSTER: (_global_membership, _unique_final_snapshot),
    GLOBAL_CLUSTER: (_global_source,),
    CLUSTER_SNAPSHOT: (_snapshot_of_a_cluster,),
    CLUSTER_INSTANCE: (_cluster_instance,),
    "aws:ec2/instance:Instance": (_graviton_image("ami"),),
    "aws:ec2/launchTemplate:LaunchTemplate": (_graviton_image("imageId"),),
    "aws:lambda/eventSourceMapping:EventSourceMapping": (_sqs_batching,),
    "aws:appautoscaling/target:Target": (_replica_count_target,),
    "aws:cloudfront/distribution:Distribution": (
        _cloudfront_viewer_certificate,
        _cloudfront_origins,
    ),
    INGRESS_RULE: (_ingress_quota,),
}
