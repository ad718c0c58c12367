"""Diffing two resource sets the way the Pulumi engine plans a step.

The replacement-forcing inputs below are those the AWS provider marks "forces new resource" for
the types the ladder uses; the simulator needs them because it has no provider to ask.
"""

from __future__ import annotations

from service.engines.model import ResourceChange, ResourceState

REPLACING_INPUTS: dict[str, frozenset[str]] = {
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock"}),
    "aws:ec2/subnet:Subnet": frozenset({"cidrBlock", "availabilityZone", "vpcId"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "description", "vpcId"}),
    "aws:ec2/instance:Instance": frozenset({"ami", "subnetId", "availabilityZone"}),
    "aws:ec2/eip:Eip": frozenset({"domain"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"port", "protocol", "vpcId", "targetType"}),
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": frozenset(
        {"targetGroupArn", "targetId", "port"}
    ),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"name", "internal", "loadBalancerType"}),
    "aws:rds/subnetGroup:SubnetGroup": frozenset({"name"}),
    "aws:rds/cluster:Cluster": frozenset(
        {
            "engine",
            "clusterIdentifier",
            "dbSubnetGroupName",
            "availabilityZones",
            "databaseName",
            "masterUsername",
            "storageEncrypted",
            "kmsKeyId",
            "engineMode",
        }
    ),
    "aws:rds/clusterInstance:ClusterInstance": frozenset(
        {"engine", "clusterIdentifier", "identifier", "availabilityZone"}
    ),
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix"}),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {"replicationGroupId", "engine", "atRestEncryptionEnabled", "subnetGroupName"}
    ),
    "aws:sqs/queue:Queue": frozenset({"name", "fifoQueue"}),
}


def diff_resources(
    before: list[ResourceState],
    after: list[ResourceState],
    options: dict[str, dict[str, list[str]]] | None = None,
) -> list[ResourceChange]:
    """Steps to go from `before` to `after`: creates and updates in declaration order, then
    deletes in reverse order of the old state, as the engine deletes dependents first."""
    options = options or {}
    old_by_urn = {resource.urn: resource for resource in before}
    new_urns = {resource.urn for resource in after}
    changes: list[ResourceChange] = []
    for resource in after:
        old = old_by_urn.get(resource.urn)
        if old is None:
            changes.append(_change(resource, "create"))
            continue
        resource_options = options.get(resource.urn, {})
        ignored = set(resource_options.get("ignore_changes", []))
        changed = tuple(
            sorted(
                key
                for key in set(old.inputs) | set(resource.inputs)
                if key not in ignored and old.inputs.get(key) != resource.inputs.get(key)
            )
        )
        if not changed:
            changes.append(_change(resource, "same"))
            continue
        replacing = REPLACING_INPUTS.get(resource.type, frozenset()) | set(
            resource_options.get("replace_on_changes", [])
        )
        op = "replace" if "*" in replacing or replacing.intersection(changed) else "update"
        changes.append(_change(resource, op, changed))
    for resource in reversed(before):
        if resource.urn not in new_urns:
            changes.append(_change(resource, "delete"))
    return changes


def _change(resource: ResourceState, op: str, changed: tuple[str, ...] = ()) -> ResourceChange:
    return ResourceChange(
        urn=resource.urn,
        type=resource.type,
        name=resource.name,
        op=op,  # type: ignore[arg-type]
        changed_inputs=changed,
    )
