"""From declared resources to a monthly estimate: each priced resource, its price and source,
what has no price, and what is priced by use and so not estimated. Never invents a price."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from programs import EnvironmentSpec
from service.costs.prices import PriceBook
from service.engines.model import ResourceState

CENT = Decimal("0.01")
SECONDARY_REGION = "stepladder:federation:SecondaryRegion"
# Priced by requests, storage or traffic, none of which a definition fixes.
USAGE_PRICED = frozenset(
    {
        "aws:dynamodb/table:Table",
        "aws:sqs/queue:Queue",
        "aws:lambda/function:Function",
        "aws:cloudfront/distribution:Distribution",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
    }
)
# What every estimate assumes; `label` adds the dates of its prices and what has none.
BASIS = (
    "fixed capacity at the definition's knobs (an Auto Scaling Group at its minimum); "
    "no data transfer, requests, storage growth, LCUs or free tier"
)


@dataclass(frozen=True)
class CostLine:
    resource: str
    type: str
    key: str
    region: str
    quantity: Decimal
    monthly_usd: Decimal
    unit_usd: Decimal
    per: str
    source: str
    read_on: str


@dataclass(frozen=True)
class MissingPrice:
    resource: str
    type: str
    key: str
    region: str
    quantity: Decimal


@dataclass
class CostEstimate:
    tier: int
    lines: list[CostLine] = field(default_factory=list)
    missing: list[MissingPrice] = field(default_factory=list)
    usage_priced: list[str] = field(default_factory=list)

    @property
    def monthly_usd(self) -> Decimal:
        """The priced part only, rounded to the cent once; `complete` says whether that is
        everything."""
        total = sum((line.monthly_usd for line in self.lines), Decimal(0))
        return total.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def complete(self) -> bool:
        return not self.missing


SECRET = "aws:secretsmanager/secret:Secret"
SECRET_PRICE_KEY = "secretsmanager:secret"


def label(found: CostEstimate) -> str:
    """What an estimate is, in one sentence or two: the one place that says it."""
    dates = sorted({line.read_on for line in found.lines})
    prices = f"on-demand list prices read on {', '.join(dates)}" if dates else "no list prices"
    text = f"Estimate from {prices}, for {BASIS}."
    if found.missing:
        missing = sorted({f"{item.key} in {item.region}" for item in found.missing})
        text += " No price for " + ", ".join(missing) + ": not counted."
    return text


def estimate(
    tier: int,
    resources: Sequence[ResourceState],
    spec: EnvironmentSpec,
    book: PriceBook,
) -> CostEstimate:
    by_id = {resource.id: resource for resource in resources if resource.id}
    result = CostEstimate(tier=tier)
    for resource in resources:
        if resource.type in USAGE_PRICED:
            result.usage_priced.append(f"{resource.type} {resource.name}")
            continue
        home = region_of(resource, spec)
        for key, quantity, elsewhere in priced_units(resource, by_id):
            where = elsewhere or home
            price = book.find(key, where)
            if price is None:
                result.missing.append(
                    MissingPrice(resource.name, resource.type, key, where, quantity)
                )
                continue
            result.lines.append(
                CostLine(
                    resource=resource.name,
                    type=resource.type,
                    key=key,
                    region=price.region,
                    quantity=quantity,
                    monthly_usd=book.monthly(price) * quantity,
                    unit_usd=price.usd,
                    per=price.per,
                    source=price.source,
                    read_on=price.read_on,
                )
            )
    return result


def region_of(resource: ResourceState, spec: EnvironmentSpec) -> str:
    """The secondary region's resources sit under its component, or are named after it (the
    programs derive child names from the component's: `shop-us-west-2-lb-alb`)."""
    secondary = spec.secondary_region
    if secondary and (
        SECONDARY_REGION in resource.urn or resource.name.startswith(f"{spec.name}-{secondary}-")
    ):
        return secondary
    return spec.region


def priced_units(
    resource: ResourceState, by_id: dict[str, ResourceState]
) -> list[tuple[str, Decimal, str | None]]:
    """(price key, how many, region) for one declared resource, the region None where it is
    the resource's own; [] for what AWS does not charge."""
    at_home = [(key, quantity, None) for key, quantity in _units_at_home(resource, by_id)]
    return at_home + _secret_replicas(resource)


def _secret_replicas(resource: ResourceState) -> list[tuple[str, Decimal, str | None]]:
    """AWS bills each replica of a secret as a secret of the replica's region."""
    if resource.type != SECRET:
        return []
    replicas = resource.inputs.get("replicas") or []
    return [
        (SECRET_PRICE_KEY, Decimal(1), str(replica["region"]))
        for replica in replicas
        if isinstance(replica, dict) and replica.get("region")
    ]


def _units_at_home(
    resource: ResourceState, by_id: dict[str, ResourceState]
) -> list[tuple[str, Decimal]]:
    """(price key, how many) in the resource's own region."""
    inputs: dict[str, Any] = resource.inputs
    kind = resource.type
    if kind == "aws:ec2/instance:Instance":
        return [(f"ec2:{inputs.get('instanceType')}", Decimal(1))]
    if kind == "aws:autoscaling/group:Group":
        template = by_id.get(str((inputs.get("launchTemplate") or {}).get("id")))
        instance_type = template.inputs.get("instanceType") if template else None
        return [(f"ec2:{instance_type}", _count(inputs.get("minSize")))]
    if kind == "aws:rds/clusterInstance:ClusterInstance":
        return [(f"rds:{inputs.get('engine')}:{inputs.get('instanceClass')}", Decimal(1))]
    if kind == "aws:elasticache/replicationGroup:ReplicationGroup":
        return [(f"elasticache:{inputs.get('nodeType')}", _count(inputs.get("numCacheClusters")))]
    if kind == "aws:lb/loadBalancer:LoadBalancer":
        return [(f"elb:{inputs.get('loadBalancerType') or 'application'}", Decimal(1))]
    if kind == "aws:ec2/eip:Eip":
        return [("public-ipv4", Decimal(1))]
    if kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return [("cloudwatch:alarm", Decimal(1))]
    if kind == "aws:cloudwatch/dashboard:Dashboard":
        return [("cloudwatch:dashboard", Decimal(1))]
    if kind == SECRET:
        return [(SECRET_PRICE_KEY, Decimal(1))]
    return []


def _count(value: Any) -> Decimal:
    return Decimal(int(float(value or 0)))
