"""Start-up time of a crawl process: a new high-risk seed is captured by a new process,
so what it does before its first request counts (benchmarks/nomination.py).

Scrapy's ``create_deprecated_class`` (three calls when its HTTP/1.1 handler is imported)
asks ``inspect.stack()`` for its caller's module: that reads the source line of every
frame on the stack from disk, about 45 ms of a one-page crawl. ``cheap_stack`` stands in
for it while those modules are imported: the same frames, outermost last, without the
source lines (only the frame is read).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _FrameOnly(tuple):  # type: ignore[type-arg]
    """``(frame,)``: what ``inspect.stack()[n][0]`` gives, and ``.frame``."""

    @property
    def frame(self) -> Any:
        return self[0]


def _stack(context: int = 1) -> list[_FrameOnly]:
    frame = sys._getframe(1)
    frames = []
    while frame is not None:
        frames.append(_FrameOnly((frame,)))
        frame = frame.f_back
    return frames


@contextmanager
def cheap_stack() -> Iterator[None]:
    original = inspect.stack
    inspect.stack = _stack  # type: ignore[assignment]
    try:
        yield
    finally:
        inspect.stack = original
