"""The explicit AWS provider of an environment: its region, default tags, optional emulator."""

from __future__ import annotations

from typing import Any

import pulumi_aws as aws

from programs.spec import EnvironmentSpec

# Every service the ladder uses, so an emulator endpoint (moto, LocalStack) receives all calls.
EMULATED_SERVICES = (
    "acm",
    "applicationautoscaling",
    "autoscaling",
    "cloudfront",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "elasticache",
    "elbv2",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
)


def environment_tags(spec: EnvironmentSpec) -> dict[str, str]:
    """Tags on everything of the environment (the provider's default tags)."""
    return {"stepladder:environment": spec.name, "managed-by": "stepladder"}


def aws_provider(spec: EnvironmentSpec, region: str | None = None) -> aws.Provider:
    region = region or spec.region
    suffix = "" if region == spec.region else f"-{region}"
    settings: dict[str, Any] = {
        "region": region,
        "default_tags": {"tags": environment_tags(spec)},
    }
    if spec.assume_role_arn:
        # The provider asks STS for the role's temporary credentials itself; none are stored.
        # Typed args, not a dict: a dict's keys reach the provider as written (`role_arn`),
        # which it would ignore, silently deploying with the service's own credentials.
        settings["assume_roles"] = [
            aws.ProviderAssumeRoleArgs(
                role_arn=spec.assume_role_arn, session_name=f"stepladder-{spec.name}"
            )
        ]
    if spec.aws_endpoint_url:
        settings.update(
            endpoints=[{service: spec.aws_endpoint_url for service in EMULATED_SERVICES}],
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_metadata_api_check=True,
            s3_use_path_style=True,
        )
    return aws.Provider(f"{spec.name}-aws{suffix}", **settings)


class RegionalProviders:
    """One explicit provider per region the environment uses, made on first use, so two
    components in one region (the secondary region, CloudFront's certificate) share it."""

    def __init__(self, spec: EnvironmentSpec) -> None:
        self.spec = spec
        self._by_region: dict[str, aws.Provider] = {}

    def __call__(self, region: str | None = None) -> aws.Provider:
        region = region or self.spec.region
        if region not in self._by_region:
            self._by_region[region] = aws_provider(self.spec, region)
        return self._by_region[region]
