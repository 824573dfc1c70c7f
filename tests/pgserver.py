"""PostgreSQL for the tests: a fresh database per test on a loopback server.

`.ci/run` starts a throwaway cluster and exports ``ARCHIVER_TEST_POSTGRES`` (a URL to its
``postgres`` database). Without it, the first test that asks starts a cluster of its own
in a temporary folder with Debian's ``initdb``/``pg_ctl`` (as the ``postgres`` user when
run as root); with neither, the PostgreSQL tests skip, or fail under CI.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ENV = "ARCHIVER_TEST_POSTGRES"
# The suite's PostgreSQL run: every test's catalog is a fresh database (conftest.py).
POSTGRES_RUN = os.environ.get("ARCHIVER_TEST_CATALOG") == "postgresql"
_started: str | None = None


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _start_cluster() -> str:
    """A cluster of this test process's own, stopped at exit."""
    global _started
    if _started:
        return _started
    pg_bin = _pg_bin()
    if pg_bin is None:
        message = f"PostgreSQL is not installed and {ENV} is not set (.ci/run sets it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="archiver-test-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = folder / "data"
    quiet = {"check": True, "capture_output": True}
    subprocess.run([*run_as, pg_bin / "initdb", "-D", data, "-A", "trust", "-U", "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8"], **quiet)  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    subprocess.run([*run_as, pg_bin / "pg_ctl", "-D", data, "-l", folder / "log", "-w",
                    "-o", options, "start"], **quiet)  # fmt: skip

    def stop() -> None:
        subprocess.run([*run_as, pg_bin / "pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    _started = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    return _started


def server_url() -> str:
    return os.environ.get(ENV) or _start_cluster()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    import psycopg

    admin = server_url()
    name = "t_" + secrets.token_hex(6)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def module_catalog() -> Iterator[None]:
    """For a module-scoped fixture: its own PostgreSQL catalog in a PostgreSQL run."""
    if not POSTGRES_RUN:
        yield
        return
    with fresh_database() as url:
        os.environ["ARCHIVER_CATALOG"] = url
        try:
            yield
        finally:
            del os.environ["ARCHIVER_CATALOG"]
