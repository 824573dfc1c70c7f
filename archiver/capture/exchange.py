"""One HTTP exchange, recorded below the HTTP client's parser.

The crawl's protocol tap feeds an ``Exchange`` with what is kept of it:

- the exact request bytes written;
- the exact head of the final response (status line, header names, case, order and
  repeats as received);
- the response entity as the client's parser de-chunked it (content-encoding
  untouched): chunk framing is not kept;
- the heads of interim ``1xx`` responses (``100 Continue``, ``103 Early Hints``) and
  the trailer fields of a chunked body, both for the metadata record.

The body goes to a spool file, never a growing bytes object. Nothing here imports Scrapy.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO

from archiver.netpolicy import AddressPolicy
from archiver.warc.records import Body

if TYPE_CHECKING:
    from archiver.capture.peertls import PeerTls
    from archiver.vantage.route import Seen

SPOOL_IN_MEMORY = 512 * 1024
MAX_HEAD_BYTES = 1024 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 0  # 0: no limit
    max_seconds: float = 0  # 0: no limit
    parse_bytes: int = 32 * 1024 * 1024  # how much of a text body the crawler parses


@dataclass
class Exchange:
    url: str
    started_at: datetime
    limits: Limits = field(default_factory=Limits)
    spool_dir: str | None = None  # where bodies too big for memory spill (the archive home)
    ip_address: str | None = None
    request_bytes: bytearray = field(default_factory=bytearray)
    truncated: str | None = None  # WARC-Truncated reason: length, time, disconnect
    error: str | None = None
    spool_error: OSError | None = None  # the body could not be spooled (disk full)
    address_policy: AddressPolicy | None = None  # checked against the connected peer
    refused: str | None = None  # why the peer address was refused
    vantage: Seen | None = None  # fetched through this vantage point's tunnel (None: direct)
    finished: bool = False
    head_overflow: bool = False  # a header flood: the connection is dropped
    interim: list[bytes] = field(default_factory=list)  # heads of 1xx responses, as received
    trailers: list[bytes] = field(default_factory=list)  # trailer lines of a chunked body
    finished_at: datetime | None = None  # when the last response byte came (or the cut)
    tls: PeerTls | None = None  # what the server of a TLS connection presented
    _head: bytearray = field(default_factory=bytearray)
    _head_end: int = -1
    _body: BinaryIO | None = None
    _body_length: int = 0
    _payload: hashlib._Hash = field(default_factory=hashlib.sha256)  # type: ignore[name-defined]
    _fields: list[tuple[str, str]] | None = None  # the final head's fields, parsed once

    # -- fed by the tap -------------------------------------------------------------

    def on_request_bytes(self, data: bytes) -> None:
        self.request_bytes += data

    def on_response_bytes(self, data: bytes) -> None:
        """Raw bytes from the connection; only the head is kept from here (the body
        arrives de-chunked through ``on_body``)."""
        if self._head_end >= 0 or self.head_overflow:
            return
        start = max(0, len(self._head) - 3)
        self._head += data
        while (match := _HEAD_END.search(self._head, start)) is not None:
            if re.match(rb"HTTP/\d(?:\.\d)? 1\d\d\b", self._head):
                # An interim 1xx response (RFC 9110 §15.2), which the client skips too:
                # the final response follows on the same connection. Its head is kept
                # for the metadata record (the response record holds the final one).
                self.interim.append(bytes(self._head[: match.start()]))
                del self._head[: match.end()]
                start = 0
                continue
            self._head_end = match.end()
            del self._head[self._head_end :]
            return
        if len(self._head) > MAX_HEAD_BYTES:
            self.error = f"bad-response: a response head larger than {MAX_HEAD_BYTES} bytes"
            self.head_overflow = True
            self._head.clear()

    def on_body(self, data: bytes) -> bytes:
        """Entity bytes (transfer-encoding removed). Returns what fits under the size
        limit; when that is less than ``data``, the exchange is marked truncated."""
        limit = self.limits.max_body_bytes
        if limit and self._body_length + len(data) > limit:
            data = data[: max(0, limit - self._body_length)]
            self.truncated = "length"
        if data:
            if self._body is None:
                self._body = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed in discard()
                    max_size=SPOOL_IN_MEMORY, dir=self.spool_dir
                )
            self._body.write(data)
            self._payload.update(data)
            self._body_length += len(data)
        return data

    def on_trailers(self, lines: list[bytes]) -> None:
        """The trailer fields after a chunked body's last chunk (RFC 9112 §7.1.2)."""
        self.trailers = [bytes(line) for line in lines]

    def finish(self, *, truncated: str | None = None, error: str | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        self.finished_at = datetime.now(UTC)
        if truncated and not self.truncated:
            self.truncated = truncated
        if error and not self.error:
            self.error = error

    def discard(self) -> None:
        if self._body is not None:
            body, self._body = self._body, None
            # A temporary spool: closing may flush a buffer onto a full disk, and
            # nothing in it needs keeping any more.
            with contextlib.suppress(OSError):
                body.close()

    # -- read by the recorder ---------------------------------------------------------

    @property
    def has_response(self) -> bool:
        """True once a whole response head (status line and headers) arrived."""
        return self._head_end >= 0

    def longest_partial_line(self) -> int:
        """Length of the header line still being received (no newline yet)."""
        if self.has_response:
            return 0
        return len(self._head) - (self._head.rfind(b"\n") + 1)

    @property
    def raw_head(self) -> bytes:
        return bytes(self._head)

    @property
    def body_length(self) -> int:
        return self._body_length

    @property
    def payload_digest_hex(self) -> str:
        return self._payload.hexdigest()

    def body(self) -> Body | None:
        if self._body is None:
            return None
        return Body(self._body, self._body_length)

    def status_line(self) -> tuple[str, int | None, str]:
        first = self.raw_head.split(b"\n", 1)[0].rstrip(b"\r").decode("latin-1")
        parts = first.split(" ", 2)
        code = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        return parts[0], code, parts[2] if len(parts) > 2 else ""

    def headers(self) -> list[tuple[str, str]]:
        """Header fields in the order received, repeats kept, names as sent."""
        if self._fields is None or not self.has_response:
            self._fields = self._parse_headers()
        return self._fields

    def _parse_headers(self) -> list[tuple[str, str]]:
        lines = self.raw_head.split(b"\n")[1:]
        out: list[tuple[str, str]] = []
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                continue
            if line[:1] in (b" ", b"\t") and out:  # obsolete line folding
                name, value = out[-1]
                out[-1] = (name, value + " " + line.strip().decode("latin-1"))
                continue
            if b":" in line:
                name, value = line.split(b":", 1)
                out.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        return out

    def http_protocol(self) -> str:
        """The ``WARC-Protocol`` identifier of the HTTP layer: the response's version
        (``http/1.1``, ``http/1.0``), else the request's."""
        for line in (self.raw_head, bytes(self.request_bytes)):
            first = line.split(b"\n", 1)[0]
            found = re.search(rb"\bHTTP/(1\.[01])\b", first)
            if found:
                return "http/" + found.group(1).decode("ascii")
        return "http/1.1"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers():
            if key.lower() == lname:
                return value
        return None

    @property
    def is_chunked(self) -> bool:
        value = self.header("Transfer-Encoding") or ""
        return "chunked" in value.lower()

    def record_head(self) -> bytes:
        """The response head to store in the WARC record.

        The head is kept byte for byte, except for a chunked response: the body is
        stored de-chunked, so (DESIGN §2) ``Transfer-Encoding`` is renamed to
        ``X-Crawler-Transfer-Encoding`` and a ``Content-Length`` matching the stored
        body is added (a conflicting one the server sent is renamed likewise). A body
        cut short (``truncated``) gets no ``Content-Length``: it would present the cut
        body as whole; the record's ``WARC-Truncated`` says it is not, and readers take
        the body to the end of the block. A record never holds a body that contradicts
        its headers. Each line keeps its own line ending.
        """
        head = self.raw_head
        if not self.is_chunked:
            return head
        lines = head.splitlines(keepends=True)
        blank = lines.pop() if lines and not lines[-1].strip() else b"\r\n"
        out = []
        for line in lines:
            name = line.split(b":", 1)[0].strip().lower() if b":" in line else b""
            if name in (b"transfer-encoding", b"content-length"):
                line = b"X-Crawler-" + line.lstrip()
            out.append(line)
        _, status, _ = self.status_line()
        if self.has_body_semantics(status) and not self.truncated:
            eol = b"\r\n" if out[-1].endswith(b"\r\n") else b"\n"
            out.append(b"Content-Length: %d" % self._body_length + eol)
        return b"".join(out) + blank

    def has_body_semantics(self, status: int | None) -> bool:
        """False for responses that never carry content (RFC 9110 §6.4.1)."""
        if self.request_bytes[:5].upper() == b"HEAD ":
            return False
        return not (status is None or status < 200 or status in (204, 304))
