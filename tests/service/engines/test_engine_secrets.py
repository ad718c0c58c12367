"""The passphrase and the plaintext state stay out of environments and off the disk."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from service.engines.engine_process import child_environment
from service.engines.protocol import PulumiOptions
from service.engines.pulumi_engine import PulumiEngine
from service.engines.secrets import memory_file


def test_the_engine_process_inherits_no_passphrase_variable() -> None:
    worker = {"PATH": "/usr/bin", "PULUMI_CONFIG_PASSPHRASE": "hunter2",
              "STEPLADDER_PULUMI_CONFIG_PASSPHRASE": "hunter2", "PULUMI_HOME": "/p"}  # fmt: skip

    assert child_environment(worker) == {"PATH": "/usr/bin", "PULUMI_HOME": "/p"}


def test_the_cli_gets_the_passphrase_as_a_file_only_its_parent_holds(tmp_path: Path) -> None:
    engine = PulumiEngine(PulumiOptions(f"file://{tmp_path}", None, "hunter2"))
    try:
        env = engine.env

        assert "hunter2" not in "".join(env.values())
        assert "PULUMI_CONFIG_PASSPHRASE" not in env
        path = env["PULUMI_CONFIG_PASSPHRASE_FILE"]
        # A child process (as the CLI is) reads it; nothing of it is under tmp or on disk.
        read = subprocess.run(["cat", path], capture_output=True, text=True, check=True)
        assert read.stdout == "hunter2"
        assert path.startswith(f"/proc/{os.getpid()}/fd/")
    finally:
        engine.close()
    assert not Path(path).exists()


def test_an_import_file_is_gone_even_when_the_import_fails() -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    try:
        with memory_file('{"deployment": {"secret": "hunter2"}}', "stack-import.json") as path:
            assert "hunter2" in Path(path).read_text()
            raise RuntimeError("the CLI refused the import")
    except RuntimeError:
        pass
    assert not Path(path).exists()
    assert set(os.listdir(tempfile.gettempdir())) <= before
