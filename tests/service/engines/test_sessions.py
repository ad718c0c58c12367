"""An engine's session outlives its process group: what the Pulumi CLI starts in a group of its
own (every plugin) is ended with the session, not left running."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from service.engines.engine_process import EngineProcess
from service.engines.procfs import is_running
from service.engines.sessions import kill_session, session_members

# Starts a "plugin" in a process group of its own, as the Pulumi CLI does (`Setpgid`), holding
# none of the engine's pipes (the CLI gives each plugin pipes of its own).
ENGINE = (
    "import subprocess, sys, time\n"
    "plugin = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'],\n"
    "    process_group=0, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,\n"
    "    stderr=subprocess.DEVNULL)\n"
    "print(plugin.pid, flush=True)\n"
    "time.sleep(300)\n"
)


def test_a_process_that_left_the_engines_group_is_ended_with_its_session() -> None:
    engine = subprocess.Popen(
        [sys.executable, "-c", ENGINE], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    assert engine.stdout is not None
    plugin = int(engine.stdout.readline())
    try:
        assert session_members(engine.pid) == sorted([engine.pid, plugin])
        os.killpg(engine.pid, signal.SIGKILL)  # what the worker's kill did alone
        engine.wait()
        assert is_running(plugin), "the group's kill left the plugin running"

        assert kill_session(engine.pid) == [plugin]

        deadline = time.monotonic() + 30
        while is_running(plugin):
            assert time.monotonic() < deadline, "the plugin is still running"
            time.sleep(0.05)
        assert session_members(engine.pid) == []
    finally:
        if is_running(plugin):
            os.kill(plugin, signal.SIGKILL)


def test_the_workers_kill_of_an_engine_ends_the_plugins_it_started() -> None:
    async def start_and_kill() -> int:
        started = await asyncio.create_subprocess_exec(
            sys.executable, "-c", ENGINE, start_new_session=True,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert started.stdout is not None
        plugin = int(await started.stdout.readline())
        await EngineProcess(started, "pulumi").kill()
        return plugin

    plugin = asyncio.run(start_and_kill())
    try:
        deadline = time.monotonic() + 30
        while is_running(plugin):
            assert time.monotonic() < deadline, "the plugin outlived the engine's kill"
            time.sleep(0.05)
    finally:
        if is_running(plugin):
            os.kill(plugin, signal.SIGKILL)
