"""What lets only CloudFront reach the load balancer (tier 3 and up).

The load balancer's security group admits CloudFront's origin-facing managed prefix list, and
its listener forwards only requests carrying a secret header that CloudFront adds: another
CloudFront distribution shares the prefix list, not the secret. The secret is generated in AWS,
written to a Secrets Manager secret once (write-only, never in Pulumi state from there) and
read back as a Pulumi secret, so it is the same on every run and redacted wherever Stepladder
reports inputs.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
ORIGIN_HEADER = "X-Stepladder-Origin"
SECRET_VERSION = 1


def cloudfront_prefix_list_id(parent: pulumi.Resource) -> pulumi.Output[str]:
    prefix_list = aws.ec2.get_managed_prefix_list_output(
        name=CLOUDFRONT_PREFIX_LIST, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return prefix_list.id


def origin_secret(name: str, parent: pulumi.Resource) -> pulumi.Output[str]:
    """The header value CloudFront sends and the listener requires."""
    child = pulumi.ResourceOptions(parent=parent)
    generated = aws.secretsmanager.get_random_password_output(
        password_length=48,
        exclude_punctuation=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    )
    secret = aws.secretsmanager.Secret(
        f"{name}-origin-secret",
        description=f"{name}: the header value that lets CloudFront reach the load balancer",
        opts=child,
    )
    version = aws.secretsmanager.SecretVersion(
        f"{name}-origin-secret-value",
        secret_id=secret.id,
        # Written once: later runs draw a new password but never write it (same version).
        secret_string_wo=pulumi.Output.secret(generated.random_password),
        secret_string_wo_version=SECRET_VERSION,
        opts=child,
    )
    stored = aws.secretsmanager.get_secret_version_output(
        secret_id=version.secret_id, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return pulumi.Output.secret(stored.secret_string)
