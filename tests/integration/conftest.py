"""The integration suite needs a real Pulumi CLI (and its AWS plugin) and moto on loopback."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, start_server

NO_CLI_REASON = (
    "needs the Pulumi CLI and its AWS plugin on PATH; this machine cannot install them (their "
    "installers download from the internet). Runs in the Docker image or on a developer laptop."
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("pulumi") is not None:
        return
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=NO_CLI_REASON))


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


__all__ = ["Server", "moto_endpoint", "start_server"]
