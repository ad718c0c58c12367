"""Pruning a stack's update history in a file backend: the newest updates stay, with their
checkpoints; other stacks and the stack's own checkpoint are untouched."""

from __future__ import annotations

from pathlib import Path

from service.engines.pulumi_history import prune_history
from service.engines.pulumi_locks import FileLocks


def _write(root: Path, *keys: str) -> None:
    for key in keys:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_text("{}")


def test_all_but_the_newest_updates_and_every_checkpoint_backup_go(tmp_path: Path) -> None:
    history = ".pulumi/history/stepladder/shop-2"
    updates = [f"{history}/shop-2-{stamp}.{kind}.json{suffix}"
               for stamp, suffix in ((100, ""), (300, ".gz"), (200, ""))
               for kind in ("history", "checkpoint")]  # fmt: skip
    kept_elsewhere = [".pulumi/history/stepladder/shop/shop-50.history.json",
                      ".pulumi/stacks/stepladder/shop-2.json",
                      ".pulumi/backups/stepladder/shop/shop.50.json"]  # fmt: skip
    _write(tmp_path, *updates, *kept_elsewhere, ".pulumi/backups/stepladder/shop-2/shop-2.9.json")

    removed = prune_history(FileLocks(tmp_path), "stepladder", "shop-2", kept=2)

    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert removed == 3  # the oldest update's two keys and the stack's checkpoint backup
    assert left == sorted([*updates[2:], *kept_elsewhere])


def test_kept_zero_keeps_everything(tmp_path: Path) -> None:
    key = ".pulumi/history/stepladder/shop/shop-1.history.json"
    _write(tmp_path, key)

    assert prune_history(FileLocks(tmp_path), "stepladder", "shop", kept=0) == 0
    assert (tmp_path / key).exists()
