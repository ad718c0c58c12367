"""What the schedules' week saves: each period the schedule layer holds the environment off its
definition, priced at its tier and knobs, against the definition's own estimate, for its hours.

Priced from declarations like every estimate; on a page read only cached ones are used, and a
period without one says so rather than guessing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session

from db.models import Environment
from programs import EnvironmentSpec
from service.costs.estimate import CENT, CostEstimate, estimate, label
from service.costs.prices import PriceBook
from service.engines.model import EngineError
from service.operations.declarations import PlanOutdated, declared_at_tiers
from service.operations.planning import SCHEDULABLE_KNOBS, build_spec
from service.operations.safety import PLANNED_AT
from service.schedules.schemas import Upcoming, UpcomingPeriod


@dataclass(frozen=True)
class PeriodCost:
    period: UpcomingPeriod
    hours: Decimal
    monthly_usd: Decimal  # at the period's tier and knobs
    saved_usd: Decimal  # over the period's hours, against the definition; unrounded


@dataclass
class WeekCost:
    definition_monthly_usd: Decimal | None = None
    periods: list[PeriodCost] = field(default_factory=list)
    saved_usd: Decimal = Decimal(0)
    complete: bool = True
    label: str = ""
    # Why some or all of the week is not priced (no cached declaration, no tier, a failure).
    unpriced: str = ""


def week_cost(
    session: Session,
    environment: Environment,
    week: Upcoming,
    book: PriceBook,
    *,
    cached_only: bool = True,
) -> WeekCost:
    base_tier = (
        environment.tier_before_schedule
        if environment.tier_before_schedule is not None
        else environment.applied_tier
    )
    if base_tier is None:
        return WeekCost(unpriced="nothing is deployed")
    definition = _spec(environment, base_tier, {})
    specs = {_key(definition): definition}
    wanted = []
    for period in week.periods:
        spec = _period_spec(environment, base_tier, period)
        specs.setdefault(_key(spec), spec)
        wanted.append((period, _key(spec)))
    try:
        declared = declared_at_tiers(session, list(specs.values()), cached_only=cached_only)
    except PlanOutdated:
        return WeekCost(unpriced="not worked out yet")
    except EngineError as error:
        return WeekCost(unpriced=f"the tiers could not be declared: {error.message}")
    found = {
        key: estimate(spec.tier, resources, spec, book)
        for (key, spec), resources in zip(specs.items(), declared, strict=True)
    }
    base = found[_key(definition)]
    result = WeekCost(definition_monthly_usd=base.monthly_usd, label=label(_merged(found)))
    for period, key in wanted:
        hours = Decimal(str((period.end - period.start).total_seconds() / 3600))
        during = found[key].monthly_usd
        saved = (base.monthly_usd - during) * hours / book.hours_per_month
        result.periods.append(PeriodCost(period, hours, during, saved))
    # Rounded once, as every total is: rounded periods would not add up to it.
    result.saved_usd = _cents(sum((p.saved_usd for p in result.periods), Decimal(0)))
    result.complete = all(item.complete for item in found.values())
    return result


def _period_spec(
    environment: Environment, base_tier: int, period: UpcomingPeriod
) -> EnvironmentSpec:
    if period.target_tier is None and not period.overrides:
        # The hold in force now: the week does not know its knobs, the environment does.
        return _spec(
            environment, environment.applied_tier or base_tier, environment.capacity_overrides
        )
    tier = period.target_tier if period.target_tier is not None else base_tier
    return _spec(environment, tier, period.overrides)


def _spec(environment: Environment, tier: int, overrides: dict[str, int]) -> EnvironmentSpec:
    """The definition at `tier` with exactly `overrides` on its knobs (none: the definition's)."""
    spec = build_spec(environment, tier, requested_at=PLANNED_AT, aws_endpoint_url=None)

    def knob(name: str) -> int:
        return int(overrides.get(name, getattr(environment, name)))

    return dataclasses.replace(
        spec,
        web_min=knob("web_min"),
        web_max=knob("web_max"),
        reader_count=knob("reader_count"),
        reader_max=knob("reader_max"),
        cache_node_count=knob("cache_node_count"),
    )


def _key(spec: EnvironmentSpec) -> tuple[object, ...]:
    return (spec.tier, *(getattr(spec, knob) for knob in SCHEDULABLE_KNOBS))


def _merged(found: dict[tuple[object, ...], CostEstimate]) -> CostEstimate:
    """One estimate holding every line and gap, so the week's label names all its dates."""
    merged = CostEstimate(tier=0)
    for item in found.values():
        merged.lines.extend(item.lines)
        merged.missing.extend(item.missing)
    return merged


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
