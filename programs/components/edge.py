"""Edge caching (tier 3): a private S3 bucket for static assets behind CloudFront.

CloudFront reads the bucket through Origin Access Control, so the bucket stays private; the
load balancer is the origin for everything that is not static.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.components.origin import ORIGIN_HEADER
from programs.components.viewer import ViewerDomain, viewer_certificate

# AWS-managed CloudFront policies (stable, documented ids).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


@dataclass(frozen=True)
class OriginName:
    """A name of our own for the ALB, one its certificate covers: CloudFront checks the
    origin's certificate against the name it connects to, never `*.elb.amazonaws.com`."""

    hostname: str
    hosted_zone_id: str
    load_balancer_zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class EdgeArgs:
    load_balancer_dns_name: pulumi.Input[str]
    protected: bool
    # With a certificate the ALB speaks HTTPS to CloudFront, under this name.
    https_origin: OriginName | None = None
    # The header value the load balancer requires of CloudFront.
    origin_secret: pulumi.Input[str] | None = None
    # The domain users reach the site by, served by CloudFront with a certificate of its own.
    viewer_domain: ViewerDomain | None = None


class Edge(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    distribution_domain_name: pulumi.Output[str]
    distribution_zone_id: pulumi.Output[str]
    # The record that validates certificates for the viewer domain, in any region.
    certificate_validation_fqdn: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("stepladder:edge:Edge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket = aws.s3.Bucket(
            f"{name}-static",
            # Demoting with confirmation must be able to empty it; protection forbids both.
            force_destroy=not args.protected,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protected),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-static-private",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketVersioning(
            f"{name}-static-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        origin_domain: pulumi.Input[str] = args.load_balancer_dns_name
        if args.https_origin is not None:
            origin = args.https_origin
            aws.route53.Record(
                f"{name}-origin",
                zone_id=origin.hosted_zone_id,
                name=origin.hostname,
                type="A",
                # The name may already answer (made by hand, or by an earlier attempt).
                allow_overwrite=True,
                aliases=[
                    {
                        "name": args.load_balancer_dns_name,
                        "zone_id": origin.load_balancer_zone_id,
                        "evaluate_target_health": True,
                    }
                ],
                opts=child,
            )
            origin_domain = origin.hostname
        certificate = (
            viewer_certificate(name, args.viewer_domain, self) if args.viewer_domain else None
        )
        access = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        distribution = aws.cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            comment=f"{name}: static assets from S3, everything else from the load balancer",
            origins=[
                {
                    "origin_id": "static",
                    "domain_name": bucket.bucket_regional_domain_name,
                    "origin_access_control_id": access.id,
                },
                {
                    "origin_id": "web",
                    "domain_name": origin_domain,
                    "custom_headers": [{"name": ORIGIN_HEADER, "value": args.origin_secret}]
                    if args.origin_secret is not None
                    else [],
                    "custom_origin_config": {
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "https-only"
                        if args.https_origin
                        else "http-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                    },
                },
            ],
            default_cache_behavior={
                "target_origin_id": "web",
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cached_methods": ["GET", "HEAD"],
                "cache_policy_id": CACHING_DISABLED,
                "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST,
            },
            ordered_cache_behaviors=[
                {
                    "path_pattern": "/static/*",
                    "target_origin_id": "static",
                    "viewer_protocol_policy": "redirect-to-https",
                    "allowed_methods": ["GET", "HEAD"],
                    "cached_methods": ["GET", "HEAD"],
                    "cache_policy_id": CACHING_OPTIMIZED,
                }
            ],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            aliases=[args.viewer_domain.hostname] if args.viewer_domain else [],
            viewer_certificate={
                "acm_certificate_arn": certificate.arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": "TLSv1.2_2021",
            }
            if certificate
            else {"cloudfront_default_certificate": True},
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-static-policy",
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, distribution.arn).apply(
                lambda arns: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "CloudFrontReadsStaticAssets",
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudfront.amazonaws.com"},
                                "Action": "s3:GetObject",
                                "Resource": f"{arns[0]}/*",
                                "Condition": {"StringEquals": {"AWS:SourceArn": arns[1]}},
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )

        self.bucket_name = bucket.bucket
        self.distribution_domain_name = distribution.domain_name
        self.distribution_zone_id = distribution.hosted_zone_id
        self.certificate_validation_fqdn = certificate.validation_fqdn if certificate else None
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "distribution_domain_name": self.distribution_domain_name,
            }
        )
