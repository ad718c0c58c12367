"""`build(spec)` under Pulumi's own mocks, answering look-ups and outputs the way AWS would.

The simulator's mocks (conftest.declare) answer every look-up alike; these answer by argument,
so a test can see which AMI parameter, which KMS alias or which engine version a program used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from programs import EnvironmentSpec, build

ACCOUNT = "111122223333"
GLOBAL_ENGINE_VERSION = "8.0.mysql_aurora.3.08.0"


@dataclass
class Recorded:
    resources: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    look_ups: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Logical names each resource explicitly depends on (`depends_on`, not input links).
    depends_on: dict[str, set[str]] = field(default_factory=dict)
    # Logical names registered with `retain_on_delete`: Pulumi forgets them, AWS keeps them.
    retained: set[str] = field(default_factory=set)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [inputs for kind, _, inputs in self.resources if kind == resource_type]

    def named(self, name: str) -> dict[str, Any]:
        return next(inputs for _, logical, inputs in self.resources if logical == name)

    def looked_up(self, token: str) -> list[dict[str, Any]]:
        return [args for called, args in self.look_ups if called == token]


class AwsLookalike(pulumi.runtime.Mocks):
    def __init__(self, recorded: Recorded) -> None:
        self.recorded = recorded

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.recorded.resources.append((args.typ, args.name, dict(args.inputs)))
        outputs = {**args.inputs, "arn": f"arn:aws:sim:::{args.name}"}
        if args.typ == "aws:rds/globalCluster:GlobalCluster":
            outputs["engineVersion"] = GLOBAL_ENGINE_VERSION
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            outputs["latestVersion"] = 1
        if args.typ == "aws:acm/certificate:Certificate":
            outputs["domainValidationOptions"] = [
                {
                    "resourceRecordName": f"_challenge.{args.inputs['domainName']}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": "_answer.acm-validations.aws.",
                }
            ]
        if args.typ == "aws:serverlessrepository/cloudFormationStack:CloudFormationStack":
            function = args.inputs["parameters"]["functionName"]
            outputs["outputs"] = {"RotationLambdaARN": f"arn:aws:lambda:sim:::{function}"}
        if args.typ == "aws:route53/record:Record":
            outputs["fqdn"] = args.inputs.get("name")
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        self.recorded.look_ups.append((args.token, dict(args.args)))
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = ["zone-a", "zone-b", "zone-c"]
            return {"names": names, "zoneIds": [f"id-{name}" for name in names]}
        if args.token == "aws:ssm/getParameter:getParameter":
            arm = str(args.args.get("name", "")).endswith("arm64")
            return {"name": args.args.get("name"), "value": "ami-arm64" if arm else "ami-x86"}
        if args.token == "aws:kms/getAlias:getAlias":
            return {"targetKeyArn": f"arn:aws:kms:region:{ACCOUNT}:key/rds-default"}
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT}
        if args.token == "aws:secretsmanager/getRandomPassword:getRandomPassword":
            return {"randomPassword": "generated-in-aws"}
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            return {"secretString": f"stored-in-{args.args.get('secretId')}"}
        if args.token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            return {"id": "pl-cloudfront", "name": args.args.get("name"), "maxEntries": 55}
        return {}


class DependencyMonitor(MockMonitor):
    def __init__(self, mocks: AwsLookalike) -> None:
        super().__init__(mocks)
        self.recorded = mocks.recorded

    def RegisterResource(self, request: Any) -> Any:
        self.recorded.depends_on[request.name] = {
            urn.rsplit("::", 1)[-1] for urn in request.dependencies
        }
        if request.retainOnDelete:
            self.recorded.retained.add(request.name)
        # Pulumi's MockMonitor leaves its methods unannotated.
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def run_build(spec: EnvironmentSpec) -> Recorded:
    recorded = Recorded()
    mocks = AwsLookalike(recorded)
    pulumi.runtime.set_mocks(
        mocks, project="stepladder", stack=spec.name, monitor=DependencyMonitor(mocks)
    )
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()

    def run() -> None:
        _sync_await(pulumi.Output.from_input(build(spec)).future())

    _sync_await(run_pulumi_func(run))
    return recorded
