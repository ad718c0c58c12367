"""What Linux's /proc says of a process: the one place that parses /proc/<pid>/stat."""

from __future__ import annotations

from pathlib import Path

PROC = Path("/proc")
# Indexes into `stat_fields`, which starts after the command name.
STATE, SESSION, START_TICKS = 0, 3, 19
ENDED_STATES = ("Z", "X")  # a zombie nobody reaped yet, or dead


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, pgrp, session, ...);
    None once the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The name is in parentheses and may contain spaces: fields start after the last ")".
    return stat[stat.rindex(")") + 2 :].split()


def is_running(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[STATE] not in ENDED_STATES
