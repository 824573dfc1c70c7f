"""Writing WARC record groups on a thread of their own, in the order they were given.

Compressing a page's records is the largest part of recording it, and zlib (like the
file writes and the SHA-256 of the written bytes) lets go of the interpreter lock while
it works: on this thread it runs beside the crawl instead of in it. Each group's
completion (its catalog row, with the offsets only the write knows) runs back on the
crawl's thread, in order. The writer's rules are unchanged: a group lands in one file,
a write that fails is cut back to the last whole record, and a row is queued only once
its records are written (and committed only once they are fsynced).

The crawl's thread opens, rolls over and closes files, after ``drain``: nothing is then
being written.
"""

from __future__ import annotations

import collections
import queue
import threading
from collections.abc import Callable, Sequence

from archiver.warc.records import Record
from archiver.warc.writer import WarcWriter, WrittenRecord

Written = Callable[[list[WrittenRecord]], None]
Failed = Callable[[BaseException], None]
Done = tuple[Written, Failed, list[WrittenRecord] | None, BaseException | None]
PENDING = 32  # groups waiting at most; the crawl's thread waits when more would


class BackgroundWrites:
    def __init__(self, writer: WarcWriter, call_in_loop: Callable[..., object]):
        """``call_in_loop(function)`` runs ``function`` on the crawl's thread (Twisted's
        ``reactor.callFromThread``)."""
        self.writer = writer
        self._call_in_loop = call_in_loop
        self._jobs: queue.Queue[tuple[Sequence[Record], Written, Failed] | None] = queue.Queue(
            PENDING
        )
        self._done: collections.deque[Done] = collections.deque()
        self._lock = threading.Lock()
        self._called = False  # a call to ``complete`` is on its way to the loop
        self._pending_bytes = 0
        # Where an error raised by a completion goes (the crawl session stops the crawl
        # when the archive cannot be written); the other completions run all the same.
        self.on_error: Callable[[Exception], None] | None = None
        self._thread = threading.Thread(target=self._run, name="archiver-warc", daemon=True)
        self._thread.start()

    @property
    def pending_bytes(self) -> int:
        """At least what the groups given and not yet written will add to the file."""
        return self._pending_bytes

    def submit(self, records: Sequence[Record], written: Written, failed: Failed) -> None:
        """Write ``records`` as a group; then ``written(where)``, or ``failed(error)``
        (the file cut back), on the crawl's thread."""
        with self._lock:
            self._pending_bytes += _most_bytes(records)
        self._jobs.put((records, written, failed))

    def drain(self) -> None:
        """Wait until every group given is written, and run their completions."""
        self._jobs.join()
        self.complete()

    def complete(self) -> None:
        """Run the completions of the groups written so far, in order (crawl's thread)."""
        with self._lock:
            self._called = False
        while self._done:
            written, failed, where, error = self._done.popleft()
            try:
                if error is None:
                    assert where is not None
                    written(where)
                else:
                    failed(error)
            except Exception as exc:
                if self.on_error is None:
                    raise
                self.on_error(exc)

    def close(self) -> None:
        self.drain()
        self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                self._jobs.task_done()
                return
            records, written, failed = job
            try:
                self._done.append((written, failed, self.writer.write_group(records), None))
            except BaseException as error:  # handed to ``failed``, in the loop
                self._done.append((written, failed, None, error))
            with self._lock:
                self._pending_bytes -= _most_bytes(records)
                call, self._called = not self._called, True
            if call:
                self._call_in_loop(self.complete)
            self._jobs.task_done()


def _most_bytes(records: Sequence[Record]) -> int:
    """The most the records can take gzipped: deflate grows what it cannot compress by
    a few bytes per block, and each member has a header and a trailer."""
    size = 0
    for record in records:
        length = len(record.header_bytes()) + len(record.head) + 4
        length += record.body.length if record.body is not None else 0
        size += length + length // 1000 + 64
    return size


def write_group(
    writer: WarcWriter,
    background: BackgroundWrites | None,
    records: Sequence[Record],
    written: Written,
    failed: Failed,
    *,
    now: bool = False,
) -> None:
    """Write a group of records, then call ``written`` with where they are (on a failure,
    the file is cut back and ``failed`` is called). On the background thread when there is
    one, unless ``now``: then after what it holds."""
    if background is not None and not now:
        background.submit(records, written, failed)
        return
    if background is not None:
        background.drain()
    try:
        where = writer.write_group(records)
    except BaseException as error:
        failed(error)
        raise
    written(where)


def rollover_if_full(writer: WarcWriter, background: BackgroundWrites | None) -> None:
    """Roll over where writing each group at once would: when the groups being written in
    the background may fill the file, they are waited for, and its size decides."""
    if background is not None and writer.size + background.pending_bytes >= writer.max_size:
        background.drain()  # and nothing is being written while the file is closed
    writer.rollover_if_full()
