"""Keeping secrets out of events, logs, responses and the database.

Pulumi marks a secret value in state and events with a signature key; `stack export
--show-secrets` (which the Automation API uses) puts the plaintext beside it. Everything the
engines report passes through `redact` first.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"

# Values that look like credentials even when nothing marked them secret.
_CREDENTIAL_PATTERNS = (
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key ids
    re.compile(r"(?i)(aws_secret_access_key|passphrase|password)(\s*[=:]\s*)\S+"),
)


def redact(value: Any) -> Any:
    """A copy of `value` with every Pulumi secret replaced by `[secret]`."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE:
            return REDACTED
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str, known_secrets: tuple[str, ...] = ()) -> str:
    """Free text (CLI output, diagnostics) with known secrets and credential shapes masked."""
    for secret in known_secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _CREDENTIAL_PATTERNS[0].sub(REDACTED, text)
    return _CREDENTIAL_PATTERNS[1].sub(
        lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text
    )


@contextlib.contextmanager
def memory_file(content: str, name: str) -> Iterator[str]:
    """A path the Pulumi CLI (a child of this process) can read `content` from, backed by
    memory: nothing reaches the disk, and the file is gone when this process ends, however it
    ends. Outside Linux, a private temporary file removed on the way out. Readable by its owner
    only, either way: PostgreSQL's drivers ignore a pgpass file others could read."""
    if hasattr(os, "memfd_create") and Path(f"/proc/{os.getpid()}/fd").is_dir():
        descriptor = os.memfd_create(name, 0)
        try:
            os.fchmod(descriptor, 0o600)
            remaining = memoryview(content.encode())
            while remaining:
                remaining = remaining[os.write(descriptor, remaining) :]
            yield f"/proc/{os.getpid()}/fd/{descriptor}"
        finally:
            os.close(descriptor)
        return
    with tempfile.TemporaryDirectory(prefix="stepladder-") as private:  # mode 0700
        path = Path(private) / name
        path.touch(mode=0o600)
        path.write_text(content)
        yield str(path)
