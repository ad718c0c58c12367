"""Ending what an engine process left running in its session.

An engine process leads its own session and process group, and the worker signals the group.
But the Pulumi CLI starts each plugin in a process group of its own (`Setpgid`, so that it can
stop a plugin's children), so a SIGKILL of the group ends the engine and the CLI and leaves
the plugins (a provider holds hundreds of MB) running with no one to stop them. They stay in
the session, though: nothing there calls `setsid`. Linux does not reuse a session's id while
any process is in it, so the id still names only what the engine started.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

PROC = Path("/proc")
# Fields of /proc/<pid>/stat after the command name: state, ppid, pgrp, session, ...
SESSION_FIELD = 3


def kill_session(session_id: int) -> list[int]:
    """SIGKILL every process in the session; the pids signalled. Without procfs (macOS),
    nothing: there the process group is all that is ended."""
    if not PROC.is_dir():
        return []
    killed = []
    for pid in session_members(session_id):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def session_members(session_id: int) -> list[int]:
    members: list[int] = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # The name is in parentheses and may contain spaces: fields start after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[SESSION_FIELD]) == session_id and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return sorted(members)
