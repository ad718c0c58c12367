"""Keeping a stack's update history in a DIY backend to a bounded number of updates.

After every update (`up`, `refresh`, `destroy`) the CLI adds two keys under
`.pulumi/history/<project>/<stack>/`: `<stack>-<unix ns>.history.json` (what `pulumi stack
history` lists: the kind, time, result and change counts) and `<stack>-<unix ns>.checkpoint.json`
(a full copy of the stack's checkpoint). It never deletes them and has no switch to stop it
(pkg/backend/diy/state.go, `addToHistory`), so a stack's history would grow by one checkpoint
per operation forever. The operations and events tables are Stepladder's own record of every
operation; here only the newest updates are kept, each with its checkpoint.

The CLI's other copies are bounded or off: one `<stack>.json.bak` per stack (its previous
checkpoint), and no more `.pulumi/backups/<project>/<stack>/` (a full copy before every update,
never deleted either): PULUMI_DIY_BACKEND_DISABLE_CHECKPOINT_BACKUPS stops them (see
pulumi_workspace.py), and those older versions wrote are deleted here.
"""

from __future__ import annotations

import re
from typing import Protocol

import psycopg

from service.engines.model import EngineError, EventSink

HISTORY_FOLDER = ".pulumi/history/"
BACKUPS_FOLDER = ".pulumi/backups/"
# `<stack>-<unix ns>.history.json` or `.checkpoint.json`, maybe compressed: one update each.
UPDATE_KEY = re.compile(r"-(\d+)\.(?:history|checkpoint)\.json(?:\.gz|\.zst)?$")


class KeyStore(Protocol):
    def keys(self, folder: str) -> list[str]: ...

    def delete(self, keys: list[str]) -> None: ...


def prune_history(store: KeyStore, project: str, stack: str, kept: int) -> int:
    """Delete all but the newest `kept` updates of the stack's history, and its checkpoint
    backups; how many keys went. `kept` 0 keeps everything."""
    if kept <= 0:
        return 0
    keys = store.keys(f"{HISTORY_FOLDER}{project}/{stack}/")
    updates = {key: int(found.group(1)) for key in keys if (found := UPDATE_KEY.search(key))}
    newest = set(sorted(set(updates.values()), reverse=True)[:kept])
    doomed = [key for key, update in updates.items() if update not in newest]
    doomed += store.keys(f"{BACKUPS_FOLDER}{project}/{stack}/")
    if doomed:
        store.delete(doomed)
    return len(doomed)


def prune_or_warn(
    store: KeyStore | None, project: str, stack: str, kept: int, emit: EventSink
) -> None:
    """Prune after a completed step, where the backend has a store; a failure here fails no
    step, it is said as a warning and the next operation tries again."""
    if store is None:
        return
    try:
        prune_history(store, project, stack, kept)
    except (EngineError, OSError, psycopg.Error) as error:
        cause = error.message if isinstance(error, EngineError) else type(error).__name__
        emit(
            {
                "type": "diagnostic",
                "severity": "warning",
                "message": f"the stack's older update history was not pruned ({cause}); "
                "the next operation tries again",
            }
        )
