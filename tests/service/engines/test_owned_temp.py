"""Temporary folders that outlive a killed process are removed later, and only those."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from service.engines.owned_temp import owned_temp_dir, remove_orphaned_temp_dirs

KILLED_AFTER_MAKING_ITS_FOLDER = """
import os, signal
from service.engines.owned_temp import owned_temp_dir
owned_temp_dir("workspace", "shop")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _renamed(folder: Path, part: int, value: str) -> Path:
    """A sibling whose name differs in one part: host (2), pid (3) or start time (4)."""
    parts = folder.name.split("-")
    parts[part] = value
    other = folder.with_name("-".join(parts))
    other.mkdir()
    return other


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs procfs")
def test_the_folders_of_ended_owners_on_this_host_are_removed_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_MAKING_ITS_FOLDER],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert killed.returncode == -9
    [left_by_the_killed] = tmp_path.glob("stepladder-workspace-*-shop-*")
    mine = owned_temp_dir("workspace", "mine")
    start_ticks = mine.name.split("-")[4]
    earlier_holder_of_my_pid = _renamed(mine, 4, str(int(start_ticks) - 1))
    other_host = _renamed(mine, 2, "0" * 8 if mine.name.split("-")[2] != "0" * 8 else "1" * 8)
    not_owned = tmp_path / "stepladder-notes"
    not_owned.mkdir()

    removed = remove_orphaned_temp_dirs()

    assert sorted(removed) == sorted([left_by_the_killed, earlier_holder_of_my_pid])
    assert sorted(tmp_path.iterdir()) == sorted([mine, other_host, not_owned])


HOLDS_ITS_FOLDER = """
import time
from service.engines.owned_temp import owned_temp_dir
print(owned_temp_dir("fork"), flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs procfs")
def test_a_live_owner_s_folder_is_kept_even_where_its_pid_means_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Containers that share a /tmp and a host name but not a pid namespace: the pid in the
    # folder's name is not a process here. Renaming the folder makes it so on one machine.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    owner = subprocess.Popen(
        [sys.executable, "-c", HOLDS_ITS_FOLDER],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        made = Path(owner.stdout.readline().strip())
        parts = made.name.split("-")
        parts[3] = "4194303"  # above any pid_max: no such process here
        elsewhere = made.rename(made.with_name("-".join(parts)))

        kept = remove_orphaned_temp_dirs()
        owner.kill()
        owner.wait()
        removed = remove_orphaned_temp_dirs()
    finally:
        owner.kill()

    assert (kept, removed) == ([], [elsewhere])
