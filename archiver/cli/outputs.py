"""Files a command writes where its ``-o`` says (``get``, ``export``): the folder must be
there already, as ``cp`` and ``curl -o`` expect; a typo in a path makes no folders, and the
error names the folder and what to do. A file already there is replaced only with
``--force``."""

from __future__ import annotations

from pathlib import Path

from archiver.errors import ArchiverError


def check_folder(target: Path) -> None:
    """Refuse an output whose folder does not exist, or is not a folder."""
    folder = target.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise ArchiverError(
            f"cannot write {target}: the folder {folder} {what}; create it first, or choose"
            " another -o"
        )


def check_output(target: Path, force: bool) -> None:
    """Refuse an output that cannot or should not be written, before anything is read:
    a missing folder, or a file already there (without ``--force``)."""
    check_folder(target)
    if target.exists() and not force:
        raise ArchiverError(
            f"{target} already exists: add --force to overwrite it, or choose another -o"
        )
