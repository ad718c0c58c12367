"""The domain's own certificate for CloudFront (tier 3 and up, with a hosted zone).

CloudFront serves an alternate domain name only with an ACM certificate from us-east-1,
whatever the environment's region, so the program requests one there and validates it by DNS
in the environment's hosted zone: the definition needs no second certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# CloudFront reads viewer certificates from this region only.
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


@dataclass(frozen=True)
class ViewerDomain:
    hostname: str
    hosted_zone_id: str
    # A provider for CLOUDFRONT_CERTIFICATE_REGION.
    certificate_provider: pulumi.ProviderResource


@dataclass(frozen=True)
class ValidatedCertificate:
    arn: pulumi.Output[str]
    # ACM validates every certificate for one name in an account with the same record.
    validation_fqdn: pulumi.Output[str]


def viewer_certificate(
    name: str, domain: ViewerDomain, parent: pulumi.Resource
) -> ValidatedCertificate:
    """A certificate for `domain.hostname`, its ARN known once AWS has issued it."""
    in_us_east_1 = pulumi.ResourceOptions(parent=parent, provider=domain.certificate_provider)
    certificate = aws.acm.Certificate(
        f"{name}-viewer-certificate",
        domain_name=domain.hostname,
        validation_method="DNS",
        opts=in_us_east_1,
    )
    challenge = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-viewer-validation",
        zone_id=domain.hosted_zone_id,
        name=challenge.resource_record_name.apply(lambda value: value or ""),
        type=challenge.resource_record_type.apply(lambda value: value or "CNAME"),
        records=[challenge.resource_record_value.apply(lambda value: value or "")],
        ttl=300,
        # ACM asks for the same record again when a certificate for the name is re-requested.
        allow_overwrite=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-viewer-certificate-valid",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[record.fqdn],
        opts=in_us_east_1,
    )
    return ValidatedCertificate(validation.certificate_arn, record.fqdn)


def regional_certificate(
    name: str,
    hostname: str,
    validation_fqdn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """Another region's certificate for `hostname`, validated by the record already made for
    the viewer certificate (a second record would be the same one, and deleting it with the
    region would stop the viewer certificate's renewal)."""
    certificate = aws.acm.Certificate(
        f"{name}-certificate", domain_name=hostname, validation_method="DNS", opts=opts
    )
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-valid",
        certificate_arn=certificate.arn,
        validation_record_fqdns=[validation_fqdn],
        opts=opts,
    )
    return validation.certificate_arn
