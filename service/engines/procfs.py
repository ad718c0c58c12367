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


def live_stat_fields(pid: int | str) -> list[str] | None:
    """`stat_fields`, and None also once the process has ended but is not reaped yet."""
    fields = stat_fields(pid)
    return None if fields is None or fields[STATE] in ENDED_STATES else fields


def is_running(pid: int) -> bool:
    return live_stat_fields(pid) is not None


def started_at_ticks(pid: int) -> int | None:
    """When the process started, in clock ticks after boot: with its pid, what tells it apart
    from a later process given the same pid. None once it is gone or has ended."""
    fields = live_stat_fields(pid)
    return None if fields is None else int(fields[START_TICKS])
