"""Cost estimates as the API shows them: USD a month, every line with its price's source."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Field, SQLModel


class CostLinePublic(SQLModel):
    resource: str
    type: str
    key: str = Field(description="what the price is for: `ec2:t3.small`, `elb:application`")
    region: str = Field(description="the region the price holds for (`*`: every region)")
    quantity: Decimal
    monthly_usd: Decimal = Field(description="unrounded: the total is rounded once")
    unit_usd: Decimal
    per: str
    source: str
    read_on: str


class MissingPricePublic(SQLModel):
    resource: str
    type: str
    key: str
    region: str
    quantity: Decimal


class CostEstimatePublic(SQLModel):
    tier: int
    monthly_usd: Decimal = Field(description="the priced part, rounded to the cent")
    complete: bool = Field(description="false: some resources have no price, see `missing`")
    lines: list[CostLinePublic]
    missing: list[MissingPricePublic]
    usage_priced: list[str] = Field(description="priced by use (requests, traffic): not estimated")
    label: str


class EnvironmentCost(SQLModel):
    environment: str
    applied_tier: int | None
    current: CostEstimatePublic | None = Field(
        description="at the applied tier; null when nothing is deployed"
    )


class TierCost(SQLModel):
    tier: int
    name: str
    estimate: CostEstimatePublic | None
    reason: str = Field(default="", description="why there is no estimate for this tier")


class PlanCost(SQLModel):
    environment: str
    from_tier: int | None
    to_tier: int | None
    before: CostEstimatePublic | None
    after: CostEstimatePublic | None
    difference_usd: Decimal = Field(description="after minus before, of the priced parts")
    complete: bool = Field(description="both sides fully priced: the difference is the whole")
