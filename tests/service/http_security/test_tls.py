"""`stepladder serve` serving TLS itself, with a certificate this test makes (trustme) and a plain
port that redirects: the headers, the cookie and the redirect a browser gets over HTTPS, and
the MDN HTTP Observatory's grade of the login page and of a page behind it.

These two are the tests that need TLS; every other test runs over plain HTTP. The Observatory
(tests/observatory, installed by `make observatory`) needs Node; without it the grading test
skips, saying so, except where STEPLADDER_OBSERVATORY_REQUIRED=1 (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from tests.helpers import ADMIN_TOKEN
from tests.live import clean_environment, free_port

OBSERVATORY = Path(__file__).resolve().parents[2] / "observatory"
SCANNER = OBSERVATORY / "node_modules" / "@mdn" / "mdn-http-observatory"
REQUIRED = os.environ.get("STEPLADDER_OBSERVATORY_REQUIRED") == "1"


@dataclass
class TlsServer:
    url: str
    https_port: int
    redirect_port: int
    ca_file: Path
    environment: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=str(self.ca_file), timeout=60)


@pytest.fixture
def tls_server(tmp_path: Path, database_url: str) -> Iterator[TlsServer]:
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, chain_file, key_file = (tmp_path / name for name in ("ca.pem", "chain.pem", "key.pem"))
    ca.cert_pem.write_to_path(str(ca_file))
    key_file.write_bytes(certificate.private_key_pem.bytes())
    chain_file.write_bytes(b"".join(pem.bytes() for pem in certificate.cert_chain_pems))
    https_port, redirect_port = free_port(), free_port()
    environment = {
        "STEPLADDER_DATABASE_URL": database_url,
        "STEPLADDER_DATA_DIR": str(tmp_path / "data"),
        "STEPLADDER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
        "STEPLADDER_LOG_LEVEL": "warning",
        "STEPLADDER_PORT": str(https_port),
        "STEPLADDER_REDIRECT_PORT": str(redirect_port),
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "service.cli", "serve"),
                *("--tls-certificate", str(chain_file), "--tls-key", str(key_file)),
            ],
            env=clean_environment(environment),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    # What the other commands (healthcheck) read the same files from.
    environment["STEPLADDER_TLS_CERTIFICATE_FILE"] = str(chain_file)
    environment["STEPLADDER_TLS_KEY_FILE"] = str(key_file)
    server = TlsServer(
        f"https://127.0.0.1:{https_port}", https_port, redirect_port, ca_file, environment
    )
    try:
        _wait_healthy(server, process, log)
        yield server
    finally:
        process.terminate()
        # uvicorn shuts down gracefully, then re-raises the signal so the exit status tells why.
        assert process.wait(timeout=60) in (0, 128 + signal.SIGTERM), log.read_text()
        assert "Traceback" not in log.read_text()


def test_over_tls_the_headers_the_cookie_and_the_redirect(tls_server: TlsServer) -> None:
    with tls_server.client() as client:
        login = client.get("/login")
        logged_in = client.post("/login", data={"token": ADMIN_TOKEN}, follow_redirects=False)
        page = client.get("/")
    plain = httpx.get(
        f"http://127.0.0.1:{tls_server.redirect_port}/environments?x=1", follow_redirects=False
    )

    print("GET /login over TLS:", dict(login.headers))
    print("POST /login over TLS, Set-Cookie:", logged_in.headers["set-cookie"])
    assert login.status_code == 200 and "server" not in login.headers
    assert login.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    cookie = logged_in.headers["set-cookie"]
    assert cookie.startswith("__Host-stepladder_session=") and "Secure" in cookie
    assert "<span>bootstrap (admin)</span>" in page.text  # the session cookie came back
    assert page.headers["cache-control"] == "no-store"
    assert plain.status_code == 308
    assert plain.headers["location"] == f"{tls_server.url}/environments?x=1"
    assert "server" not in plain.headers
    health = subprocess.run(
        [sys.executable, "-m", "service.cli", "healthcheck"],
        env=clean_environment(tls_server.environment),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert health.returncode == 0, health.stderr  # it asks over HTTPS


def test_the_observatory_grades_the_login_page_and_a_page_behind_it_a_plus(
    tls_server: TlsServer,
) -> None:
    node = shutil.which("node")
    if node is None or not (SCANNER / "conf" / "hsts-preload.json").exists():
        if REQUIRED:
            pytest.fail("the Observatory is required here: install Node and run `make observatory`")
        pytest.skip("no Node or no Observatory (tests/observatory): `make observatory`")
    # Trusts the test's CA, as a scanner on the open web trusts a public one.
    environment = {**os.environ, "NODE_EXTRA_CA_CERTS": str(tls_server.ca_file)}
    host, ports = "127.0.0.1", [str(tls_server.https_port), str(tls_server.redirect_port)]
    scans = {
        # The package's own command line, unchanged: it scans the path given with the host.
        "/login (its CLI)": [
            node,
            str(SCANNER / "src" / "scan.js"),
            f"{host}:{tls_server.https_port}/login",
        ],
        # Its retriever with the redirect port, and with a token for the page behind the login.
        "/login": [node, str(OBSERVATORY / "scan.mjs"), host, *ports, "/login"],
        "/ (logged in)": [
            node,
            str(OBSERVATORY / "scan.mjs"),
            host,
            *ports,
            "/",
            f"Authorization: Bearer {ADMIN_TOKEN}",
        ],
    }
    grades = {}
    for page, command in scans.items():
        done = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, (page, done.stdout, done.stderr)
        result = json.loads(done.stdout)
        print(f"Observatory, {page}:", _summary(result))
        grades[page] = result["scan"]["grade"]
        assert result["scan"]["statusCode"] == 200, (page, result["scan"])
        if "CLI" not in page:  # plain HTTP was redirected to this very page, not to /login
            path = page.split(" ")[0]
            redirected_to = result["tests"]["redirection"]["destination"]
            assert redirected_to == f"{tls_server.url}{path}", (page, redirected_to)
    assert grades == dict.fromkeys(scans, "A+")


def _summary(result: dict[str, Any]) -> str:
    scan = result["scan"]
    lines = [
        f"grade {scan['grade']}, score {scan['score']}, "
        f"{scan['testsPassed']} of {scan['testsQuantity']} tests passed"
    ]
    for name, test in result["tests"].items():
        lines.append(f"  {name}: {test['result']} ({test['scoreModifier']:+d})")
    return "\n".join(lines)


def _wait_healthy(server: TlsServer, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    with server.client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"serve exited:\n{log.read_text()}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
    raise AssertionError(f"/healthz did not answer over TLS within 120 s:\n{log.read_text()}")
