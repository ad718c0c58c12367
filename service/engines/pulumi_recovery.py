"""Before an environment's first step: repair what a dead update left behind, or stop and say so.

A killed update leaves its lock and `pending_operations` in the checkpoint. A pending update
or delete is safe to drop once a refresh reads the resource back. A pending create is not: the
resource may exist in AWS without being in the state, and dropping it makes the next `up`
create a duplicate (or fail on a fixed name). Those found in AWS by their environment tag are
adopted into the state with the id found (`pulumi_pending.py`); the rest stop the operation
with `needs_attention` and the exact commands that settle them. Nothing is repaired while a
live process may still hold the stack.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pulumi import automation as auto

from service.engines.model import EngineError, EventSink
from service.engines.pulumi_command import GuardedCommand
from service.engines.pulumi_locks import LockStore
from service.engines.pulumi_pending import adopt
from service.engines.pulumi_state import drop_pending_operations, holder_is_gone
from service.engines.secrets import memory_file


def recover_stack(
    stack: auto.Stack,
    *,
    locks: LockStore | None,
    project: str,
    emit: EventSink,
    replace_deployment: Callable[[auto.Deployment], None],
    refresh: Callable[[], Any],
    find_pending_creates: Callable[[list[dict[str, Any]], dict[str, Any]], dict[str, str]],
) -> None:
    repaired = False
    held = []
    if locks is not None:
        for lock in locks.locks(project, stack.name):
            if holder_is_gone(lock):
                locks.clear(lock)
                repaired = True
                emit(
                    {"type": "recovery", "message": f"cleared the stale lock of {lock.describe()}"}
                )
            else:
                held.append(lock)
    exported = stack.export_stack()
    deployment = dict(exported.deployment or {})
    pending = deployment.get("pending_operations") or []
    if pending and held:
        # A live update may still be writing them; the step that follows reports the lock.
        emit(
            {
                "type": "recovery",
                "message": "left the stack's pending operations alone: it is locked by "
                + ", ".join(lock.describe() for lock in held),
            }
        )
        return
    if pending and locks is None:
        raise EngineError(
            "needs_attention",
            "The stack has operations an interrupted update left pending, and on this backend "
            "Stepladder cannot tell whether that update still runs: "
            + ", ".join(_urns(pending))
            + ". Once it is sure none runs, settle pending creates as follows and run "
            f"`pulumi refresh --stack {stack.name}` for the rest. "
            + _settle_instructions(stack.name, _urns(pending)),
        )
    creates = [item for item in pending if item.get("type") == "creating"]
    found = find_pending_creates(creates, deployment) if creates else {}
    missing = [item for item in creates if _urns([item])[0] not in found]
    if missing:
        if found:
            replace_deployment(auto.Deployment(exported.version, adopt(deployment, found)))
            _say_adopted(found, emit)
            emit({"type": "recovery", "message": "refreshing the stack against the cloud"})
            refresh()
        raise EngineError(
            "needs_attention",
            "An interrupted update may have created resources in AWS without recording them, "
            "and Stepladder could not find them by their `stepladder:environment` tag: "
            + ", ".join(_urns(missing))
            + ". Find each in AWS. "
            + _settle_instructions(stack.name, _urns(missing)),
        )
    if pending:
        cleaned, dropped = drop_pending_operations(adopt(deployment, found))
        replace_deployment(auto.Deployment(exported.version, cleaned))
        repaired = True
        _say_adopted(found, emit)
        for item in dropped:
            emit(
                {
                    "type": "recovery",
                    "message": f"dropped an interrupted {item['type']} of {item['urn']}",
                    "urn": item["urn"],
                    "pending_operation": item["type"],
                }
            )
    if repaired:
        emit({"type": "recovery", "message": "refreshing the stack against the cloud"})
        refresh()


def _say_adopted(found: dict[str, str], emit: EventSink) -> None:
    for urn, resource_id in found.items():
        emit(
            {
                "type": "recovery",
                "message": f"adopted the interrupted create of {urn}: found in AWS by its "
                f"`stepladder:environment` tag, as {resource_id}",
                "urn": urn,
                "pending_operation": "creating",
            }
        )


def import_deployment(
    stack: auto.Stack,
    command: GuardedCommand,
    env: Mapping[str, str],
    deployment: auto.Deployment,
) -> None:
    """`pulumi stack import`, from memory: the SDK's own import leaves the plaintext state in a
    temporary file when the import fails."""
    content = json.dumps({"version": deployment.version, "deployment": deployment.deployment})
    workspace = stack.workspace
    extra_env = {**env, **({"PULUMI_HOME": workspace.pulumi_home} if workspace.pulumi_home else {})}
    with memory_file(content, "stack-import.json") as path:
        command.run(
            ["stack", "import", "--file", path, "--stack", stack.name],
            str(workspace.work_dir),
            extra_env,
        )


def _urns(pending: list[dict[str, Any]]) -> list[str]:
    return [str(item.get("resource", {}).get("urn", "?")) for item in pending]


def _settle_instructions(stack_name: str, urns: list[str]) -> str:
    example = urns[0] if urns else "<urn>"
    return (
        f"In programs/, after `stepladder stack-config {stack_name}` and its exports, for "
        "each resource that exists run "
        f"`pulumi refresh --stack {stack_name} --import-pending-creates {example} <cloud id>`, "
        f"then `pulumi refresh --stack {stack_name} --clear-pending-creates` for those that do "
        "not; then run the operation again."
    )
