"""Reading a running command's output line by line, to act when a line appears (a signal
once the crawl says it is stopping), never after a sleep."""

from __future__ import annotations

import re
import threading
from typing import IO


class Lines:
    """Collects the lines of ``stream`` in a thread; ``wait_for`` blocks until one matches."""

    def __init__(self, stream: IO[str]):
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._done = False
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._done = True
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60) -> str | None:
        """The first line matching the regex ``pattern``, once it has come; None if the
        stream ended (or ``timeout`` passed) first."""
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.lines if regex.search(line)), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None or self._done, timeout)
            return found()

    def text(self, timeout: float = 60) -> str:
        """Everything, once the stream has ended."""
        with self._changed:
            self._changed.wait_for(lambda: self._done, timeout)
            return "\n".join(self.lines)
