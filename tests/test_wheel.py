"""The built wheel is enough to run the service: what `pip install .` (and the image) ships.

The wheel goes into a fresh virtual environment outside the checkout. Its third-party
dependencies come from the development environment's site-packages (a path entry, so the
checkout's own editable install is not seen), so no dependency is downloaded again; every
file of our own comes from the wheel, which the test checks. Building the wheel fetches the
build backend as `pip install .` does (or takes it from pip's cache).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import sysconfig
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from db.engine import libpq_url
from tests.helpers import ADMIN_HEADERS, ADMIN_TOKEN
from tests.live import clean_environment, free_port, live_server

CHECKOUT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "service", "programs", "db")


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; returns its bin directory."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (CHECKOUT / name).is_dir():
            shutil.copytree(
                CHECKOUT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy(CHECKOUT / name, source / name)
    # Built as `pip install .` builds it: in isolation, with the backend pyproject.toml names.
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", root / "dist", source)
    (wheel,) = (root / "dist").glob("stepladder-*.whl")

    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", wheel)
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
    dependencies = sysconfig.get_path("purelib")
    (Path(site_packages.strip()) / "stepladder-test-dependencies.pth").write_text(dependencies)
    return venv / "bin"


@pytest.fixture
def fresh_database(database_url: str) -> Iterator[str]:
    """An empty database, so every migration has to come out of the wheel."""
    from sqlalchemy.engine import make_url

    name = f"stepladder_wheel_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_every_module_comes_from_the_wheel(installed: Path) -> None:
    where = _run(
        installed / "python",
        "-c",
        "import service, programs, db; print(service.__file__, programs.__file__, db.__file__)",
        cwd=installed,
    )

    for module_file in where.split():
        assert Path(module_file).is_relative_to(installed.parent), where


def test_the_installed_wheel_serves(installed: Path, fresh_database: str, tmp_path: Path) -> None:
    env = {
        "STEPLADDER_DATABASE_URL": fresh_database,
        "STEPLADDER_DATA_DIR": str(tmp_path / "data"),
        "STEPLADDER_BOOTSTRAP_TOKEN": ADMIN_TOKEN,
    }
    port = free_port()
    command = [str(installed / "stepladder"), "serve"]
    healthcheck = [str(installed / "stepladder"), "healthcheck"]
    with live_server(command, env, port=port, cwd=tmp_path) as server:
        server.wait_healthy()
        # The image's HEALTHCHECK: the configured port, from the settings.
        checked = subprocess.run(healthcheck, env=clean_environment({"STEPLADDER_PORT": str(port)}))
        assert checked.returncode == 0

        assert httpx.get(f"{server.url}/login").status_code == 200  # templates
        assert httpx.get(f"{server.url}/static/style.css").status_code == 200  # static files
        tiers = httpx.get(f"{server.url}/api/tiers", headers=ADMIN_HEADERS)
        assert tiers.status_code == 200 and len(tiers.json()) == 8  # the programs' ladder
        server.process.terminate()
        # serve stops what it started, then exits like a process ended by SIGTERM (128 + 15).
        assert server.process.wait(timeout=60) == 128 + signal.SIGTERM, server.console
    stopped = subprocess.run(
        healthcheck, env=clean_environment({"STEPLADDER_PORT": str(port)}), capture_output=True
    )
    assert stopped.returncode != 0
