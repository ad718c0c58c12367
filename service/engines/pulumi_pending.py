"""Pending creates an interrupted update left behind, found in AWS by their environment tag.

A pending create is a resource whose create was sent to AWS when the update died: it may exist
in AWS without being in the state. Every resource of an environment carries the provider's
default tag `stepladder:environment`, so AWS's tagging API lists the environment's resources;
one that the state does not know, of the pending create's type and with its name, is that
resource, and is adopted into the state with its id (a refresh then reads it back). What cannot
be found that way is left to a person (`needs_attention`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from programs import EnvironmentSpec
from programs.provider import aws_provider

ENVIRONMENT_TAG = "stepladder:environment"
GET_RESOURCES = "aws:resourcegroupstaggingapi/getResources:getResources"


@dataclass(frozen=True)
class TaggedKind:
    """How AWS's tagging API names a type, and which input, if any, is its id."""

    tagging_type: str
    id_input: str | None = None


# The types whose id is the last part of their ARN (`...:cluster:<id>`, `...:instance/<id>`),
# so a tagged ARN gives the id to adopt. Others (load balancers, queues: ids are ARNs or URLs)
# are left to a person.
FOUND_BY_TAG: dict[str, TaggedKind] = {
    "aws:rds/cluster:Cluster": TaggedKind("rds:cluster", "clusterIdentifier"),
    "aws:rds/clusterInstance:ClusterInstance": TaggedKind("rds:db", "identifier"),
    "aws:rds/globalCluster:GlobalCluster": TaggedKind(
        "rds:global-cluster", "globalClusterIdentifier"
    ),
    "aws:elasticache/replicationGroup:ReplicationGroup": TaggedKind(
        "elasticache:replicationgroup", "replicationGroupId"
    ),
    "aws:dynamodb/table:Table": TaggedKind("dynamodb:table", "name"),
    "aws:s3/bucket:Bucket": TaggedKind("s3:bucket", "bucket"),
    "aws:iam/role:Role": TaggedKind("iam:role", "name"),
    "aws:lambda/function:Function": TaggedKind("lambda:function", "name"),
    "aws:ec2/instance:Instance": TaggedKind("ec2:instance"),
    "aws:ec2/vpc:Vpc": TaggedKind("ec2:vpc"),
    "aws:ec2/subnet:Subnet": TaggedKind("ec2:subnet"),
    "aws:ec2/securityGroup:SecurityGroup": TaggedKind("ec2:security-group"),
    "aws:ec2/internetGateway:InternetGateway": TaggedKind("ec2:internet-gateway"),
    "aws:ec2/routeTable:RouteTable": TaggedKind("ec2:route-table"),
}


@dataclass(frozen=True)
class TaggedResource:
    arn: str
    tags: dict[str, str]

    @property
    def id(self) -> str:
        return self.arn.replace("/", ":").rsplit(":", 1)[-1]


def searchable(creates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for item in creates if _type(item) in FOUND_BY_TAG]


def regions_of(creates: list[dict[str, Any]], deployment: dict[str, Any], default: str) -> set[str]:
    return {_region(item, deployment, default) for item in creates}


def lookup_program(
    spec: EnvironmentSpec,
    declare: Callable[[], object],
    regions: set[str],
    types: set[str],
    found: dict[str, list[TaggedResource]],
) -> Callable[[], None]:
    """A program for a preview: the environment as `declare` declares it (so the preview plans
    nothing unusual), and a look-up of its tagged resources in each region through a provider
    of its own. It runs in this process (inline programs do): it hands its answers over in
    `found`. A preview changes nothing."""
    filters = sorted({FOUND_BY_TAG[kind].tagging_type for kind in types})
    # Same region, credentials and endpoints as the environment's provider, another name.
    looking = dataclasses.replace(spec, name=f"{spec.name}-tag-lookup")

    def program() -> None:
        declare()
        provider = aws_provider(looking)
        for region in sorted(regions):
            answer = aws.resourcegroupstaggingapi.get_resources(
                region=region,
                resource_type_filters=filters,
                tag_filters=[{"key": ENVIRONMENT_TAG, "values": [spec.name]}],
                opts=pulumi.InvokeOptions(provider=provider),
            )
            found[region] = [
                TaggedResource(arn=item.resource_arn, tags=dict(item.tags or {}))
                for item in answer.resource_tag_mapping_lists or []
            ]

    return program


def match(
    creates: list[dict[str, Any]],
    deployment: dict[str, Any],
    found: dict[str, list[TaggedResource]],
    default_region: str,
) -> dict[str, str]:
    """URN -> id of each pending create that is exactly one tagged resource the state does not
    know, of its type and region (and with its name, when its id is its name)."""
    known = {str(item.get("id")) for item in deployment.get("resources") or [] if item.get("id")}
    matched: dict[str, str] = {}
    for item in creates:
        kind = FOUND_BY_TAG[_type(item)]
        inputs = item["resource"].get("inputs") or {}
        region = _region(item, deployment, default_region)
        candidates = [
            tagged
            for tagged in found.get(region, [])
            if tagging_type(tagged.arn) == kind.tagging_type
            and tagged.id not in known
            and tagged.id not in matched.values()
        ]
        if kind.id_input is not None:
            candidates = [c for c in candidates if c.id == inputs.get(kind.id_input)]
        elif (inputs.get("tags") or {}).get("Name"):
            candidates = [c for c in candidates if c.tags.get("Name") == inputs["tags"]["Name"]]
        if len(candidates) == 1:
            matched[_urn(item)] = candidates[0].id
    return matched


def adopt(deployment: dict[str, Any], found: dict[str, str]) -> dict[str, Any]:
    """The deployment with each found pending create moved into its resources, with its id."""
    adopted = copy.deepcopy(deployment)
    pending = adopted.get("pending_operations") or []
    for item in pending:
        if item.get("type") == "creating" and _urn(item) in found:
            resource = dict(item["resource"])
            resource["id"] = found[_urn(item)]
            # Its parent and dependencies were registered before it: appending keeps the order.
            adopted.setdefault("resources", []).append(resource)
    adopted["pending_operations"] = [
        item for item in pending if not (item.get("type") == "creating" and _urn(item) in found)
    ]
    return adopted


def _type(item: dict[str, Any]) -> str:
    return str(item.get("resource", {}).get("type", ""))


def _urn(item: dict[str, Any]) -> str:
    return str(item.get("resource", {}).get("urn", "?"))


def _region(item: dict[str, Any], deployment: dict[str, Any], default: str) -> str:
    """The region of the provider the resource was created with (`<provider urn>::<id>`)."""
    reference = str(item.get("resource", {}).get("provider") or "")
    provider_urn = reference.rsplit("::", 1)[0]
    for resource in deployment.get("resources") or []:
        if resource.get("urn") == provider_urn:
            return str((resource.get("inputs") or {}).get("region") or default)
    return default


def tagging_type(arn: str) -> str:
    """`arn:aws:rds:eu-west-1:123:cluster:x` -> "rds:cluster"; `arn:aws:s3:::b` -> "s3:bucket"."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return ""
    service, rest = parts[2], parts[5]
    if service == "s3":
        return "s3:bucket"
    if "/" in rest or ":" in rest:
        return f"{service}:{rest.replace('/', ':').split(':', 1)[0]}"
    return f"{service}:{rest}"
