"""Data safety (TIERS.md): which stateful resources a move deletes, known before it is accepted.

A move is destructive when a step deletes or replaces a stateful resource. Destructive moves run
only with `"confirm": "<environment name>"`, and never on a protected environment.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from db.models import Environment, OperationKind
from programs import is_stateful
from service.engines.declare import declared_resources
from service.engines.model import EngineError, ResourceState
from service.errors import Conflict
from service.operations.planning import build_spec, step_tiers


class ConfirmationRequired(Conflict):
    error = "confirmation_required"


class ProtectedEnvironment(Conflict):
    error = "environment_protected"


def predict_data_loss(
    environment: Environment,
    kind: OperationKind,
    from_tier: int | None,
    to_tier: int | None,
    *,
    requested_at: datetime,
) -> list[dict[str, Any]]:
    """Stateful resources the move deletes, step by step, as the programs declare them."""
    if from_tier is None:
        return []
    if kind == OperationKind.destroy:
        tiers = [from_tier]
    elif kind in (OperationKind.demote, OperationKind.set_tier) and to_tier is not None:
        if to_tier >= from_tier:
            return []  # going up only adds: every transition up is checked by the tests
        tiers = [from_tier, *step_tiers(from_tier, to_tier)]
    else:
        return []
    specs = [
        build_spec(environment, tier, requested_at=requested_at, aws_endpoint_url=None)
        for tier in tiers
    ]
    try:
        declared = declared_resources(specs)
    except EngineError as error:
        raise Conflict(f"The programs could not be planned: {error.message}") from error
    if kind == OperationKind.destroy:
        declared.append([])
    lost: dict[str, ResourceState] = {}
    for before, after in itertools.pairwise(declared):
        remaining = {resource.urn for resource in after}
        for resource in before:
            if is_stateful(resource.type) and resource.urn not in remaining:
                lost.setdefault(resource.urn, resource)
    return [{"type": r.type, "name": r.name, "urn": r.urn} for r in lost.values()]


def check_data_safety(
    environment: Environment, data_loss: list[dict[str, Any]], confirm: str | None
) -> None:
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
