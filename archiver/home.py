"""The archive home: one folder that holds all state (catalog, WARC files, job state, logs).

Chosen by ``--home DIR``, else the ``ARCHIVER_HOME`` environment variable, else
``$XDG_DATA_HOME/archiver`` (``~/.local/share/archiver``). Created on first use.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archiver.errors import HomeError

ENV_VAR = "ARCHIVER_HOME"
CATALOG_ENV = "ARCHIVER_CATALOG"  # a postgresql:// URL: the catalog shared by several workers


def default_home() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "archiver"


@dataclass(frozen=True)
class ArchiveHome:
    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> ArchiveHome:
        chosen = home or os.environ.get(ENV_VAR) or default_home()
        return cls(Path(chosen).expanduser().absolute())

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def catalog_location(self) -> Path | str:
        """Where the catalog is: ``ARCHIVER_CATALOG`` (``--catalog``), a PostgreSQL URL,
        else the SQLite file in the home."""
        return os.environ.get(CATALOG_ENV) or self.catalog_path

    @property
    def spool_dir(self) -> Path:
        """WARC files being written (``.open``) and closed files not yet in the store."""
        return self.root / "spool"

    @property
    def warcs_dir(self) -> Path:
        """The default local store: closed, verified WARC files."""
        return self.root / "warcs"

    @property
    def jobs_dir(self) -> Path:
        """Per-job state and logs."""
        return self.root / "jobs"

    @property
    def operator_key_path(self) -> Path:
        """The key that signs exported WACZ packages (``archiver keys init``)."""
        return self.root / "keys" / "operator.pem"

    def job_dir(self, job_name: str) -> Path:
        return self.jobs_dir / job_name

    def ensure(self) -> ArchiveHome:
        """Create the home and its folders; fail with a clear message if that is not possible."""
        try:
            if self.root.exists() and not self.root.is_dir():
                raise HomeError(
                    f"archive home {str(self.root)!r} is a file, not a folder: "
                    "choose another path with --home or ARCHIVER_HOME"
                )
            for folder in (self.root, self.spool_dir, self.warcs_dir, self.jobs_dir):
                folder.mkdir(parents=True, exist_ok=True)
            # A name of its own: overlapping processes (cron) must not trip on each other.
            fd, probe = tempfile.mkstemp(dir=self.root, prefix=".write-test-")
            os.close(fd)
            os.unlink(probe)
        except HomeError:
            raise
        except OSError as exc:
            raise HomeError(
                f"cannot use archive home {str(self.root)!r}: {exc.strerror or exc}; "
                "choose a writable folder with --home or ARCHIVER_HOME"
            ) from exc
        return self
