"""``archiver serve`` as a subprocess on loopback, for the web view's tests: started on a
free port (the one it prints), stopped with SIGTERM."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def own_database(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """For a test in a module whose fixture holds a catalog: a PostgreSQL catalog of its
    own in a PostgreSQL run (the module's is put back after it)."""
    from pgserver import POSTGRES_RUN, fresh_database

    if not POSTGRES_RUN:
        yield
        return
    with fresh_database() as url:
        monkeypatch.setenv("ARCHIVER_CATALOG", url)
        yield


@contextmanager
def serving(home: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The base URL (``http://127.0.0.1:PORT``) of a running ``archiver serve``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "archiver", "serve", "--port", "0", *args],
        cwd=home.parent,
        env={**os.environ, "ARCHIVER_HOME": str(home), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = []
        assert process.stdout is not None
        for line in process.stdout:  # blocks until serve says where it listens, or exits
            seen.append(line)
            found = re.search(r"at (http://\S+?)/ \(Ctrl-C", line)
            if found:
                yield found.group(1)
                break
        else:
            raise AssertionError("archiver serve did not start:\n" + "".join(seen))
    finally:
        process.terminate()
        process.wait(timeout=30)
    # SIGTERM stops it as Ctrl-C does: the sockets closed, exit code 0.
    assert process.returncode == 0, f"archiver serve exited {process.returncode}"
