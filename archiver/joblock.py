"""One process per job (or per seed being captured): an advisory lock file in the home.

The lock is released by the kernel when the process ends, however it ends (kill -9
included), so a stale lock never blocks a resume. A seed's lock lives in the catalog
when the catalog is PostgreSQL, so that processes on several machines see it.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from archiver.catalog.db import Catalog
from archiver.errors import ArchiverError


class JobLock:
    def __init__(self, job_dir: Path):
        self.path = job_dir / "lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False if another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def acquire_or_fail(self, job_name: str) -> JobLock:
        if not self.acquire():
            holder = self.path.read_text(errors="replace").strip() or "?"
            raise ArchiverError(
                f"job {job_name!r} is being crawled by another process (pid {holder}): "
                "wait for it to end, or stop it first"
            )
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> int | None:
        """The pid of the process holding the lock, None when it is free. Looked up without
        taking the lock (taking it, however briefly, could turn away a crawl starting at
        that moment): in /proc/locks on Linux, else by whether the pid the lock file names
        is alive."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        try:
            with open("/proc/locks", encoding="ascii") as locks:
                lines = locks.read().splitlines()
        except OSError:
            return _alive(self.path)
        wanted = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
        for line in lines:
            fields = line.split()
            if len(fields) < 6 or fields[1] != "FLOCK" or "->" in fields:
                continue
            major, minor, inode = fields[5].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == wanted:
                return int(fields[4])
        return None


def _alive(lock_file: Path) -> int | None:
    try:
        pid = int(lock_file.read_text().strip())
        os.kill(pid, 0)
    except PermissionError:  # alive, another user's
        return pid
    except (OSError, ValueError):
        return None
    return pid


class CatalogLock:
    """A lock in a PostgreSQL catalog, with JobLock's interface (archiver/catalog/locks.py)."""

    def __init__(self, catalog: Catalog, name: str):
        self.catalog, self.name = catalog, name
        self._held = False

    def acquire(self) -> bool:
        from archiver.catalog import locks

        self._held = locks.try_lock(self.catalog, self.name)
        return self._held

    def release(self) -> None:
        from archiver.catalog import locks

        if self._held:
            locks.unlock(self.catalog, self.name)
            self._held = False


def seed_lock(catalog: Catalog, home_root: Path, seed_id: int) -> JobLock | CatalogLock:
    """The lock held while a seed is captured by run-due or watch: a file in the home, or,
    with a PostgreSQL catalog shared by several machines, a lock in the catalog."""
    if catalog.dialect == "postgresql":
        return CatalogLock(catalog, f"seed-{seed_id}")
    return JobLock(home_root / "locks" / f"seed-{seed_id}")
