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

from service.engines.procfs import PROC, SESSION, live_stat_fields


def kill_process_tree(leader: int) -> list[int]:
    """SIGKILL the process group and then the session that `leader` leads: an engine process,
    the Pulumi CLI it runs, and the CLI's plugins. The pids the session's kill still found."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, signal.SIGKILL)
    return kill_session(leader)


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
        fields = live_stat_fields(entry.name)
        if fields and int(fields[SESSION]) == session_id:
            members.append(int(entry.name))
    return sorted(members)
