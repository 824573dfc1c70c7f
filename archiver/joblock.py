"""One process per job: an advisory lock file in the job's folder.

The lock is released by the kernel when the process ends, however it ends (kill -9
included), so a stale lock never blocks a resume.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

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
