"""Waking ``archiver watch`` when a seed is added or edited or a schedule set, instead of
letting it sleep until the next seed it knew of is due: a new high-risk URL is captured
within seconds.

The commands that change what is due ``poke`` the home: they rewrite its wake file (a
watch on this machine sees the file's content change) and, on a PostgreSQL catalog, send
a notification that a watch on any machine receives (archiver/catalog/wake.py). A poke
that comes while the watch is busy is seen at its next wait, never lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from archiver.catalog import Catalog
from archiver.catalog.wake import Listener, notify

logger = logging.getLogger(__name__)

WAKE_FILE = "watch.wake"
SLICE = 0.1  # seconds between looks at the wake file


def poke(home_root: Path, catalog: Catalog) -> None:
    """Tell any watch of this home (or of this catalog) that its work changed."""
    try:
        path = home_root / WAKE_FILE
        temporary = path.with_name(f".{WAKE_FILE}.{os.getpid()}")
        temporary.write_text(f"{time.time_ns()} {os.getpid()}\n")
        os.replace(temporary, path)
        notify(catalog)
    except Exception as exc:  # waking is a courtesy: the watch wakes on its own later
        logger.warning("could not wake 'archiver watch': %s", exc)


class Waker:
    def __init__(self, home_root: Path, catalog_location: Path | str):
        self.path = home_root / WAKE_FILE
        self._seen = self._read()
        self.listener = Listener(catalog_location)

    def _read(self) -> str:
        try:
            return self.path.read_text()
        except OSError:
            return ""

    def _poked(self) -> bool:
        current = self._read()
        if current and current != self._seen:
            self._seen = current
            return True
        return False

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait ``seconds``, or less: True when woken by a poke, False when the time ran
        out or ``stop`` was set."""
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            if self._poked():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.listener.active:
                if self.listener.wait(min(SLICE, left)):
                    self._poked()  # a poke from this machine came both ways: seen once
                    return True
            else:
                stop.wait(min(SLICE, left))
        return False

    def close(self) -> None:
        self.listener.close()
