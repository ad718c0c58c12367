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


def started_at_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks after boot: with its pid, what tells it apart
    from a later process given the same pid. None once it is gone or has ended."""
    fields = stat_fields(pid)
    if fields is None or fields[STATE] in ENDED_STATES:
        return None
    return int(fields[START_TICKS])
