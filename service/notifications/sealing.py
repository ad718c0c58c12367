"""Secrets the service must read back (webhook signing secrets), sealed with its secret key.

A hash would do for tokens, which are only compared; a signing secret has to be used, so it is
encrypted (Fernet: AES-128-CBC with an HMAC) and the database holds only the ciphertext. The key
comes from STEPLADDER_SECRET_KEY, or for a single machine from a file the service creates in
its data directory. Workers on other machines need the same key, so set it there.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from service.config import Settings

KEY_FILE = "secret-key"


class SecretKeyMismatch(Exception):
    """This process's key is not the one that sealed the secret (a worker elsewhere)."""


def service_key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.resolved_data_dir() / KEY_FILE
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def seal(key: bytes, secret: str) -> str:
    return Fernet(key).encrypt(secret.encode()).decode()


def unseal(key: bytes, sealed: str) -> str:
    try:
        return Fernet(key).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SecretKeyMismatch(
            "A secret was sealed with another key: give every process the same "
            "STEPLADDER_SECRET_KEY."
        ) from None


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: of two processes starting at once, one writes the key and both read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as file:
        file.write(Fernet.generate_key())
