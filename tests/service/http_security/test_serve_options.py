"""`stepladder serve`'s TLS settings, refused with a sentence before anything starts when they
cannot work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.live import clean_environment, free_port


def _serve(tmp_path: Path, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    settings = {"STEPLADDER_DATA_DIR": str(tmp_path / "data"), **environment}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(free_port()), *arguments],
        env=clean_environment(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    done = _serve(tmp_path, "--tls-certificate", str(tmp_path / "chain.pem"))

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "stepladder: TLS needs both a certificate and its key (--tls-certificate and "
        "--tls-key, or STEPLADDER_TLS_CERTIFICATE_FILE and STEPLADDER_TLS_KEY_FILE)."
    ]


def test_files_that_are_missing_or_no_certificate_and_key_are_refused(tmp_path: Path) -> None:
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    chain.write_text("not a certificate\n")

    missing = _serve(tmp_path, "--tls-certificate", str(chain), "--tls-key", str(key))
    key.write_text("not a key either\n")
    wrong = _serve(tmp_path, "--tls-certificate", str(chain), "--tls-key", str(key))

    assert missing.returncode == 1 and wrong.returncode == 1
    assert missing.stderr == f"stepladder: cannot serve TLS: there is no file {key}.\n"
    assert wrong.stderr.startswith(
        f"stepladder: cannot serve TLS with the certificate {chain} and the key {key}: they "
        "must be a PEM certificate"
    )


def test_a_redirect_port_without_tls_points_at_the_proxy_setting(tmp_path: Path) -> None:
    done = _serve(tmp_path, STEPLADDER_REDIRECT_PORT=str(free_port()))

    assert done.returncode == 1
    assert "STEPLADDER_HTTPS_REDIRECT=true" in done.stderr and "Traceback" not in done.stderr
