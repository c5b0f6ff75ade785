"""A real PostgreSQL server for the sql tests: initdb + pg_ctl in a temporary directory.

The server listens on a unix socket only (no TCP port), and is stopped at the end of the
session. Skipped, with the reason shown, where the server binaries or psycopg are absent.
initdb refuses to run as root (CI runs as root): there the server runs as `nobody`.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _server_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "nobody", "--", *argv]


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A psycopg connection (autocommit) to a fresh PostgreSQL server."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    bindir = _server_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="redflag-pg-"))
    data, sock = root / "data", root / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        nobody = shutil.chown
        root.chmod(0o755)
        for path in (data, sock):
            nobody(path, "nobody")
        sock.chmod(0o777)
    run: dict[str, Any] = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", "redflag", "--auth=trust", "-E", "UTF8"]
        ),
        **run,
    )
    options = f"-k {sock} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                "/dev/null",
                "-w",
                "start",
            ]
        ),
        **run,
    )
    try:
        with psycopg.connect(
            host=str(sock), user="redflag", dbname="postgres", autocommit=True
        ) as conn:
            yield conn
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)
