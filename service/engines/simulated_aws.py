"""The one simulated AWS: ids, computed outputs, which input changes replace, and look-ups.

Two ways in share it: the simulator engine's mock monitor (`simulated_cloud.py`, no CLI), and
the simulated `aws` provider plugin the integration suite runs under the real Pulumi CLI
(`tests/integration/aws_plugin`). Everything it makes up is plainly marked: ids start with
`sim-`, ARNs name account 000000000000, hostnames end in `.simulated.invalid`.
"""

from __future__ import annotations

import hashlib
from typing import Any

SIMULATED_ACCOUNT = "000000000000"
# Amazon Linux images as AWS's public SSM parameters name them, one per CPU architecture.
SIMULATED_AMIS = {"x86_64": "ami-0simulated000000", "arm64": "ami-0simulatedarm64"}
# Most regions offer three or more zones to an account; these offer two (as AWS documents).
TWO_ZONE_REGIONS = {"us-west-1": "ac", "ap-northeast-3": "ac"}

# The input changes the AWS provider marks "forces new resource", for the types the ladder uses.
REPLACING_INPUTS: dict[str, frozenset[str]] = {
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock"}),
    "aws:ec2/subnet:Subnet": frozenset({"cidrBlock", "availabilityZone", "vpcId"}),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "description", "vpcId"}),
    "aws:ec2/instance:Instance": frozenset({"ami", "subnetId", "availabilityZone"}),
    "aws:ec2/eip:Eip": frozenset({"domain"}),
    "aws:lb/targetGroup:TargetGroup": frozenset(
        {"name", "port", "protocol", "vpcId", "targetType"}
    ),
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
    "aws:rds/globalCluster:GlobalCluster": frozenset(
        {"globalClusterIdentifier", "sourceDbClusterIdentifier", "engine"}
    ),
    "aws:dynamodb/table:Table": frozenset({"name", "hashKey", "rangeKey"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix"}),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset(
        {"replicationGroupId", "engine", "atRestEncryptionEnabled", "subnetGroupName"}
    ),
    "aws:sqs/queue:Queue": frozenset({"name", "fifoQueue"}),
    "aws:iam/role:Role": frozenset({"name"}),
    "aws:lambda/function:Function": frozenset({"name"}),
}

# Pulumi auto-names these inputs when the program leaves them out: the logical name, a dash and
# seven random hex characters. The number is AWS's limit on the name.
AUTONAMED: dict[str, tuple[str, int]] = {
    "aws:lb/loadBalancer:LoadBalancer": ("name", 32),
    "aws:lb/targetGroup:TargetGroup": ("name", 32),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", 40),
    "aws:elasticache/subnetGroup:SubnetGroup": ("name", 255),
    "aws:iam/role:Role": ("name", 64),
    "aws:iam/instanceProfile:InstanceProfile": ("name", 128),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", 63),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", 63),
    "aws:rds/subnetGroup:SubnetGroup": ("name", 255),
    "aws:ec2/securityGroup:SecurityGroup": ("name", 255),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", 128),
    "aws:autoscaling/group:Group": ("name", 255),
    "aws:sqs/queue:Queue": ("name", 80),
    "aws:sns/topic:Topic": ("name", 256),
    "aws:lambda/function:Function": ("name", 64),
    "aws:dynamodb/table:Table": ("name", 255),
    "aws:s3/bucket:Bucket": ("bucket", 63),
    "aws:s3/bucketV2:BucketV2": ("bucket", 63),
    "aws:cloudwatch/logGroup:LogGroup": ("name", 512),
    "aws:cloudwatch/metricAlarm:MetricAlarm": ("name", 255),
    "aws:cloudfront/originAccessControl:OriginAccessControl": ("name", 64),
}
AUTONAME_RANDOM_CHARS = 7
# Types whose AWS id is their name (an RDS cluster's id is its identifier); others get `sim-` ids.
NAMED_IDS: dict[str, str] = {
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:rds/globalCluster:GlobalCluster": "globalClusterIdentifier",
    "aws:rds/clusterSnapshot:ClusterSnapshot": "dbClusterSnapshotIdentifier",
    "aws:rds/subnetGroup:SubnetGroup": "name",
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:dynamodb/table:Table": "name",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:iam/role:Role": "name",
    "aws:lambda/function:Function": "name",
}
# Route 53's zone for every CloudFront alias (AWS documents this one id).
CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
MANAGED_PREFIX_LIST_WEIGHTS = {"com.amazonaws.global.cloudfront.origin-facing": 55}
# How AWS shapes the ARN of a type: `arn:aws:<service>:<region>:<account>:<prefix><id>`, the
# region left out for global services. AWS's tagging API reads the type from it.
ARN_SHAPES: dict[str, tuple[str, bool]] = {
    "aws:rds/cluster:Cluster": ("cluster:", True),
    "aws:rds/clusterInstance:ClusterInstance": ("db:", True),
    "aws:rds/globalCluster:GlobalCluster": ("global-cluster:", False),
    "aws:rds/clusterSnapshot:ClusterSnapshot": ("cluster-snapshot:", True),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationgroup:", True),
    "aws:dynamodb/table:Table": ("table/", True),
    "aws:iam/role:Role": ("role/", False),
    "aws:lambda/function:Function": ("function:", True),
    "aws:ec2/instance:Instance": ("instance/", True),
    "aws:ec2/vpc:Vpc": ("vpc/", True),
    "aws:ec2/subnet:Subnet": ("subnet/", True),
    "aws:ec2/securityGroup:SecurityGroup": ("security-group/", True),
    "aws:ec2/internetGateway:InternetGateway": ("internet-gateway/", True),
    "aws:ec2/routeTable:RouteTable": ("route-table/", True),
}
DEFAULT_ENGINE_VERSIONS = {"aurora-mysql": "8.0.mysql_aurora.3.08.0", "aurora-postgresql": "16.6"}


def replacing_inputs(resource_type: str) -> frozenset[str]:
    return REPLACING_INPUTS.get(resource_type, frozenset())


def simulated_id(resource_type: str, urn: str) -> str:
    short_type = resource_type.rsplit(":", 1)[-1].lower()
    digest = hashlib.sha256(urn.encode()).hexdigest()[:12]
    return f"sim-{short_type}-{digest}"


def autoname(name: str, seed: bytes | str) -> str:
    """The physical name Pulumi gives a resource the program did not name."""
    raw = seed.encode() if isinstance(seed, str) else seed
    return f"{name}-{hashlib.sha256(raw + name.encode()).hexdigest()[:AUTONAME_RANDOM_CHARS]}"


def computed_outputs(
    resource_type: str, name: str, resource_id: str, region: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    """What AWS would fill in after creating the resource, marked as simulated."""
    outputs: dict[str, Any] = {
        "id": resource_id,
        "arn": simulated_arn(resource_type, resource_id, region),
    }
    if "name" not in inputs and not resource_type.startswith("pulumi:providers:"):
        # Pulumi auto-names physical resources: the logical name plus a random suffix.
        outputs["name"] = f"{name}-{resource_id[-7:]}"
    if resource_type == "aws:lb/loadBalancer:LoadBalancer":
        outputs["dnsName"] = f"{name}.{region}.elb.simulated.invalid"
        outputs["zoneId"] = "ZSIMULATED0ELB"
        outputs["arnSuffix"] = f"app/{name}/{resource_id[-12:]}"
    if resource_type in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        # pulumi-aws always sets both (`bucketname.s3.amazonaws.com`, and with the region for
        # a CloudFront origin). An output the provider leaves out is unknown to the next
        # preview, so everything built from it would plan an update.
        outputs["bucketDomainName"] = f"{resource_id}.s3.simulated.invalid"
        outputs["bucketRegionalDomainName"] = f"{resource_id}.s3.{region}.simulated.invalid"
    if resource_type == LAUNCH_TEMPLATE:
        # AWS numbers a template's versions from 1 (an update adds one: the plugin's Update).
        outputs["latestVersion"] = 1
        outputs["defaultVersion"] = 1
    if resource_type == "aws:lb/targetGroup:TargetGroup":
        outputs["arnSuffix"] = f"targetgroup/{name}/{resource_id[-12:]}"
    if resource_type == "aws:rds/cluster:Cluster":
        outputs["engineVersion"] = inputs.get("engineVersion") or DEFAULT_ENGINE_VERSIONS.get(
            str(inputs.get("engine")), "simulated"
        )
        outputs["endpoint"] = f"{name}.cluster.{region}.rds.simulated.invalid"
        outputs["readerEndpoint"] = f"{name}.cluster-ro.{region}.rds.simulated.invalid"
        if inputs.get("manageMasterUserPassword") is True:
            # AWS names the secret it manages after the cluster's resource id.
            outputs["masterUserSecrets"] = [
                {
                    "secretArn": f"arn:aws:secretsmanager:{region}:{SIMULATED_ACCOUNT}:secret:"
                    f"rds!cluster-{resource_id}",
                    "secretStatus": "active",
                    "kmsKeyId": f"arn:aws:kms:{region}:{SIMULATED_ACCOUNT}:key/simulated",
                }
            ]
    if resource_type == "aws:acm/certificate:Certificate":
        domain = str(inputs.get("domainName") or name)
        outputs["arn"] = f"arn:aws:acm:{region}:{SIMULATED_ACCOUNT}:certificate/{resource_id}"
        outputs["domainValidationOptions"] = [
            {
                "domainName": domain,
                "resourceRecordName": f"_sim-validation.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": "_sim.acm-validations.simulated.invalid.",
            }
        ]
    if resource_type == "aws:route53/record:Record":
        outputs["fqdn"] = str(inputs.get("name") or name).rstrip(".")
    if resource_type == "aws:serverlessrepository/cloudFormationStack:CloudFormationStack":
        # What AWS's secret rotation applications export: the function they deploy.
        parameters = inputs.get("parameters") or {}
        function = str(parameters.get("functionName") or name)
        outputs["outputs"] = {
            "RotationLambdaARN": f"arn:aws:lambda:{region}:{SIMULATED_ACCOUNT}:function:{function}"
        }
    if resource_type == "aws:ec2/eip:Eip":
        outputs["publicIp"] = "192.0.2.10"  # TEST-NET-1: documentation range, never routable
    if resource_type == "aws:cloudfront/distribution:Distribution":
        outputs["domainName"] = f"{resource_id}.cloudfront.simulated.invalid"
        outputs["hostedZoneId"] = CLOUDFRONT_ZONE_ID
    return outputs


def simulated_prefix_list_id(name: str) -> str:
    """The same in every region (AWS's differ), so a rule can tell the list by its id."""
    return f"pl-sim{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def prefix_list_weight(prefix_list_id: str) -> int:
    """How many security group rules AWS counts a reference to the list as (its max entries)."""
    for name, weight in MANAGED_PREFIX_LIST_WEIGHTS.items():
        if simulated_prefix_list_id(name) == prefix_list_id:
            return weight
    return 1


def simulated_arn(resource_type: str, resource_id: str, region: str) -> str:
    service = resource_type.split(":")[1].split("/")[0]
    if service == "s3":
        return f"arn:aws:s3:::{resource_id}"
    prefix, regional = ARN_SHAPES.get(resource_type, ("", True))
    return (
        f"arn:aws:{service}:{region if regional else ''}:{SIMULATED_ACCOUNT}:{prefix}{resource_id}"
    )


def ami_architecture(image_id: str) -> str:
    """The CPU architecture of a simulated image (x86_64 for anything it did not make)."""
    for architecture, known in SIMULATED_AMIS.items():
        if image_id == known:
            return architecture
    return "x86_64"


def look_up(token: str, args: dict[str, Any], region: str) -> dict[str, Any] | None:
    """The program's look-ups (zones, AMI, account), answered from nothing real; None when the
    simulated AWS does not know the function."""
    if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
        letters = TWO_ZONE_REGIONS.get(region, "abc")
        names = [f"{region}{letter}" for letter in letters]
        return {
            "id": region,
            "names": names,
            "zoneIds": [f"sim-az-{name}" for name in names],
            "groupNames": [region],
            "state": args.get("state") or "available",
        }
    if token == "aws:ssm/getParameter:getParameter":
        name = str(args.get("name") or "")
        architecture = "arm64" if "arm64" in name else "x86_64"
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:ssm:{region}:{SIMULATED_ACCOUNT}:parameter{name}",
            "value": SIMULATED_AMIS[architecture],
            "insecureValue": SIMULATED_AMIS[architecture],
            "type": "String",
            "version": 1,
            "withDecryption": True,
        }
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "id": SIMULATED_ACCOUNT,
            "accountId": SIMULATED_ACCOUNT,
            "arn": f"arn:aws:iam::{SIMULATED_ACCOUNT}:user/simulated",
            "userId": "SIMULATED",
        }
    if token == "aws:index/getRegion:getRegion":
        return {"id": region, "name": region, "region": region, "endpoint": "simulated.invalid"}
    if token == "aws:index/getPartition:getPartition":
        return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}
    if token == "aws:kms/getAlias:getAlias":
        name = str(args.get("name") or "")
        key_id = hashlib.sha256(f"{region}{name}".encode()).hexdigest()[:32]
        return {
            "id": name,
            "name": name,
            "arn": f"arn:aws:kms:{region}:{SIMULATED_ACCOUNT}:{name}",
            "targetKeyId": key_id,
            "targetKeyArn": f"arn:aws:kms:{region}:{SIMULATED_ACCOUNT}:key/{key_id}",
        }
    if token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
        # AWS draws a new one per call; the simulation derives one, so that declaring the same
        # definition twice gives the same plan.
        length = int(args.get("passwordLength") or 32)
        password = hashlib.sha256(f"simulated password {region}".encode()).hexdigest()[:length]
        return {"id": region, "passwordLength": length, "randomPassword": password}
    if token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
        name = str(args.get("name") or "")
        prefix_list_id = simulated_prefix_list_id(name)
        return {
            "id": prefix_list_id,
            "name": name,
            "arn": f"arn:aws:ec2:{region}:aws:prefix-list/{prefix_list_id}",
            "addressFamily": "IPv4",
            # AWS counts a reference to the list as this many security group rules.
            "maxEntries": MANAGED_PREFIX_LIST_WEIGHTS.get(name, 10),
            "entries": [],
            "ownerId": "AWS",
            "version": 1,
        }
    if token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
        # What the secret holds is never known here: a value derived from its id, stable.
        secret_id = str(args.get("secretId") or "")
        value = hashlib.sha256(f"simulated secret value {secret_id}".encode()).hexdigest()
        return {
            "id": secret_id,
            "secretId": secret_id,
            "arn": secret_id,
            "secretString": value,
            "versionId": "sim-version-1",
            "versionStages": ["AWSCURRENT"],
        }
    return None
