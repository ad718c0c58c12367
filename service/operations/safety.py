"""Data safety (TIERS.md): which stateful resources a move deletes, known before it is accepted.

A move is destructive when a step deletes or replaces a stateful resource. Destructive moves run
only with `"confirm": "<environment name>"`, and never on a protected environment.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from db.models import Environment, OperationKind
from service.costs.moves import move_cost
from service.costs.prices import PriceBook
from service.costs.schemas import PlanCost
from service.engines.diffing import diff_resources
from service.engines.failures import INTERNAL_ERROR
from service.engines.model import EngineError, ResourceChange, ResourceState, count_changes
from service.environments.repository import list_resources
from service.errors import Conflict, InternalError
from service.operations.declarations import declared_at_tiers
from service.operations.planning import build_spec, step_tiers

# The request time only names a final snapshot, the same on both sides of every step, so it
# never changes a plan: one fixed instant lets every plan of a definition share declarations.
PLANNED_AT = datetime(2000, 1, 1, tzinfo=UTC)

# Tier 0's one instance runs the database too: removing the box removes the data (ladder.md).
SINGLE_BOX_TIER = 0
SINGLE_BOX_TYPE = "aws:ec2/instance:Instance"


class ConfirmationRequired(Conflict):
    error = "confirmation_required"


class UnconfirmedDataLoss(Conflict):
    error = "data_loss_not_confirmed"
    audit_outcome = "denied"


class ProtectedEnvironment(Conflict):
    error = "environment_protected"


# Deleting or replacing one of these interrupts traffic: the site is down while it goes.
SERVING_TYPES = {
    "aws:lb/loadBalancer:LoadBalancer": "the load balancer",
    "aws:ec2/instance:Instance": "a web server",
    "aws:ec2/eip:Eip": "the public address",
    "aws:cloudfront/distribution:Distribution": "the CloudFront distribution",
}

# Creating one of these moves data while the step runs, and the site waits for it.
DATA_MOVES = {
    "stepladder:migration:DatabaseMove": (
        "moves the box's database into Aurora: the site is down for the dump, load and "
        "check (minutes for a first-users database)"
    ),
    "stepladder:migration:DatabaseReturn": (
        "snapshots the Aurora cluster, then moves its databases back onto the box: the site is "
        "down for the dump, load and check (minutes for a first-users database); the cluster "
        "is deleted only after the move succeeded"
    ),
}


@dataclass(frozen=True)
class MovePlan:
    changes: dict[str, int]
    data_loss: list[dict[str, Any]]
    # Each resource change of each step: op, type, name, changed inputs, why it is replaced.
    resources: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    downtime: list[str] = dataclasses.field(default_factory=list)
    # The role the provider assumes to reach the environment's account; None: the service's.
    assume_role_arn: str | None = None
    # The monthly estimate before and after, priced from the same declarations.
    cost: PlanCost | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": self.changes,
            "data_loss": self.data_loss,
            "resources": self.resources,
            "downtime": self.downtime,
            "assume_role_arn": self.assume_role_arn,
            "cost": self.cost.model_dump(mode="json") if self.cost else None,
        }


def plan_move(
    session: Session,
    environment: Environment,
    kind: OperationKind,
    from_tier: int | None,
    to_tier: int | None,
    *,
    cached_only: bool = False,
    prices: PriceBook | None = None,
) -> MovePlan:
    """What the move changes, step by step, as the programs declare each tier (from the
    declaration cache; with `cached_only`, PlanOutdated rather than declaring anything), and
    with `prices`, what it costs a month before and after."""
    if kind == OperationKind.destroy:
        tiers: list[int | None] = [from_tier, None]
    else:
        assert to_tier is not None
        tiers = [from_tier, *step_tiers(from_tier, to_tier)]
    wanted = [tier for tier in tiers if tier is not None]
    # What is deployed decides the zones kept and whether tier 0 moves the database back.
    deployed = list_resources(session, environment.id) if environment.id is not None else []
    specs = [
        build_spec(
            environment, tier, requested_at=PLANNED_AT, aws_endpoint_url=None, deployed=deployed
        )
        for tier in wanted
    ]
    try:
        declared = declared_at_tiers(session, specs, cached_only=cached_only)
    except EngineError as error:
        if error.code == INTERNAL_ERROR:
            raise InternalError(error.message) from error
        raise Conflict(f"The programs could not be planned: {error.message}") from error
    declared_at = dict(zip(wanted, declared, strict=True))
    changes = dict.fromkeys(("create", "update", "delete", "replace", "same"), 0)
    lost: dict[str, ResourceState] = {}
    resources: list[dict[str, Any]] = []
    downtime: list[str] = []
    for before_tier, after_tier in itertools.pairwise(tiers):
        before = declared_at.get(before_tier, []) if before_tier is not None else []
        after = declared_at.get(after_tier, []) if after_tier is not None else []
        step = diff_resources(before, after)
        for op, count in count_changes(step).items():
            changes[op] = count if op == "same" else changes[op] + count
        by_urn = {resource.urn: resource for resource in before}
        for change in step:
            if change.deletes_data or _removes_single_box(before_tier, after_tier, change):
                lost.setdefault(change.urn, by_urn[change.urn])
            if change.op == "same":
                continue
            resources.append(_describe_change(change, after_tier))
            moving = DATA_MOVES.get(change.type)
            if moving and change.op == "create":
                downtime.append(f"{_step_name(after_tier)} {moving}")
            serving = SERVING_TYPES.get(change.type)
            if serving and change.op in ("delete", "replace"):
                verb = "removes" if change.op == "delete" else "replaces"
                downtime.append(f"{_step_name(after_tier)} {verb} {serving} ({change.name})")
    data_loss = [{"type": r.type, "name": r.name, "urn": r.urn} for r in lost.values()]
    cost = None
    if prices is not None:
        priced = {tier: (spec, declared_at[tier]) for tier, spec in zip(wanted, specs, strict=True)}
        cost = move_cost(environment.name, tiers[0], tiers[-1], priced, prices)
    return MovePlan(changes, data_loss, resources, downtime, environment.assume_role_arn, cost)


def _describe_change(change: ResourceChange, after_tier: int | None) -> dict[str, Any]:
    reason = ""
    if change.op == "replace":
        reason = (
            f"changing {', '.join(change.changed_inputs)} forces a new resource"
            if change.changed_inputs
            else "AWS cannot change it in place"
        )
    return {
        "step": _step_name(after_tier),
        "op": change.op,
        "type": change.type,
        "name": change.name,
        "changed": list(change.changed_inputs),
        "reason": reason,
        "deletes_data": change.deletes_data,
    }


def _step_name(after_tier: int | None) -> str:
    return "the destroy" if after_tier is None else f"the step to tier {after_tier}"


def _removes_single_box(
    before_tier: int | None, after_tier: int | None, change: ResourceChange
) -> bool:
    return (
        before_tier == SINGLE_BOX_TIER
        and after_tier is None
        and change.type == SINGLE_BOX_TYPE
        and change.op == "delete"
    )


def moves_down(kind: OperationKind, from_tier: int | None, to_tier: int | None) -> bool:
    """Only steps down and destroy can delete data: steps up only add (the tests check it)."""
    if from_tier is None:
        return False
    if kind == OperationKind.destroy:
        return True
    return (
        kind in (OperationKind.demote, OperationKind.set_tier)
        and to_tier is not None
        and to_tier < from_tier
    )


def check_data_safety(
    environment: Environment,
    data_loss: list[dict[str, Any]],
    confirm: str | None,
    confirmed_loss: list[dict[str, Any]] | None = None,
) -> None:
    """Refuse a move that deletes data unless confirmed; with `confirmed_loss` (what a
    confirmation was shown earlier, by a schedule) the confirmation covers that much only."""
    if not data_loss:
        return
    names = ", ".join(f"{item['name']} ({item['type']})" for item in data_loss)
    if environment.protected:
        raise ProtectedEnvironment(
            f"'{environment.name}' is protected and this step deletes stateful data: {names}. "
            "Lift protection first (PATCH protected=false), then ask again with confirmation.",
            data_loss=data_loss,
        )
    if confirm != environment.name:
        raise ConfirmationRequired(
            f"This step deletes stateful data: {names}. To go ahead, send "
            f'{{"confirm": "{environment.name}"}} with the request.',
            data_loss=data_loss,
        )
    if confirmed_loss is not None:
        confirmed = {item["urn"] for item in confirmed_loss}
        unconfirmed = [item for item in data_loss if item["urn"] not in confirmed]
        if unconfirmed:
            more = ", ".join(f"{item['name']} ({item['type']})" for item in unconfirmed)
            raise UnconfirmedDataLoss(
                f"This step would also delete {more}, which the confirmation did not cover.",
                data_loss=unconfirmed,
            )
