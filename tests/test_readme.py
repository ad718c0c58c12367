"""The README's walkthrough, pasted in order into a shell against a live `stepladder serve`.

Every ```sh block of README.md is run, in order, as one bash session (aliases on, as in an
interactive shell), in a directory whose `.stepladder` is the server's data dir and whose
`.venv` is this environment. `curl` is wrapped so each request's status is recorded: a line
whose trailing comment names a status (`# 409 ...`) must answer exactly that; every other
request must answer 2xx.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.live import clean_environment, free_port, live_server

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^( *)```sh\n(.*?)^\1```$", re.DOTALL | re.MULTILINE)
ANNOTATION = re.compile(r"\s#\s*(\d{3})\b[^'\"]*$")
CURL_CALL = re.compile(r"(?:^|[\s($])(?:command\s+)?curl\s")

CURL_WRAPPER = """#!/usr/bin/env bash
# Records each request's status, then behaves as curl.
headers=$(mktemp)
"{real_curl}" -D "$headers" "$@"
code=$?
status=$(head -n 1 "$headers" | cut -d ' ' -f 2)
arguments="$*"
echo "$status ${{arguments//$'\\n'/ }}" | sed -e 's/Bearer [^ ]*/Bearer [token]/g' >> "{log}"
rm -f "$headers"
exit $code
"""


def walkthrough() -> str:
    blocks = [textwrap.dedent(body) for _, body in FENCE.findall(README.read_text())]
    return "".join(blocks)


def logical_commands(script: str) -> list[str]:
    """Lines joined across backslash continuations and quotes left open."""
    commands, pending = [], ""
    for line in script.splitlines():
        pending += line + "\n"
        if line.endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        commands.append(pending)
        pending = ""
    return commands


def expected_statuses(script: str) -> list[str | None]:
    """For each curl the script runs, in order: its annotated status, or None (2xx)."""
    expected: list[str | None] = []
    for command in logical_commands(script):
        if command.lstrip().startswith(("#", "alias ")):
            continue
        annotation = ANNOTATION.search(command.rstrip())
        calls = len(CURL_CALL.findall(command))
        expected.extend([annotation.group(1) if annotation else None] * calls)
    return expected


def test_the_walkthrough_parses_into_requests() -> None:
    expected = expected_statuses(walkthrough())

    assert len(expected) > 30
    assert expected.count("409") >= 3  # the unconfirmed destroy, demote and a finished cancel


@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough needs curl")
# Some 60 requests and a dozen operations: about 4 minutes on 2 cores shared with other tests.
@pytest.mark.timeout(900)
def test_the_readme_walkthrough_runs_against_a_live_server(
    tmp_path: Path, database_url: str
) -> None:
    real_curl = shutil.which("curl")
    assert real_curl is not None
    log = tmp_path / "requests.log"
    wrappers = tmp_path / "wrappers"
    wrappers.mkdir()
    (wrappers / "curl").write_text(CURL_WRAPPER.format(real_curl=real_curl, log=log))
    (wrappers / "curl").chmod(0o755)
    session = tmp_path / "checkout"
    session.mkdir()
    (session / ".venv").symlink_to(sys.prefix)
    port = free_port()
    script = walkthrough().replace("localhost:8000", f"localhost:{port}")
    env = {
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_DATA_DIR": str(session / ".stepladder"),
        "STEPLADDER_SIMULATOR_SECONDS_PER_RESOURCE": "0",
        "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}",
    }

    with live_server([sys.executable, "-m", "service.cli", "serve"], env, port=port) as server:
        server.wait_healthy()
        result = subprocess.run(
            ["bash", "-c", "set -euo pipefail\nshopt -s expand_aliases\n" + script],
            cwd=session,
            env=clean_environment(env),
            capture_output=True,
            text=True,
            timeout=600,
        )

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.console}"
    answered = [line.split(" ", 1) for line in log.read_text().splitlines()]
    expected = expected_statuses(walkthrough())
    assert len(answered) == len(expected), "\n".join(" ".join(pair) for pair in answered)
    for (status, request), wanted in zip(answered, expected, strict=True):
        if wanted is None:
            assert status.startswith("2"), f"{status} for curl {request}\n{result.stdout}"
        else:
            assert status == wanted, f"{status}, README says {wanted}, for curl {request}"
