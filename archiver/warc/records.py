"""Building WARC 1.1 records byte for byte.

We serialize records ourselves rather than through warcio's record builder so the
HTTP block is written exactly as it came over the wire (warcio re-serializes parsed
headers). warcio is the reader that checks what we write.

Digests are ``sha256:`` followed by lower-case hex (WARC 1.1 §5.8 allows any
labelled algorithm; hex is what ``sha256sum`` prints, so a researcher can compare).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
CHUNK = 64 * 1024


def sha256_label(hexdigest: str) -> str:
    return f"sha256:{hexdigest}"


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


@dataclass(frozen=True)
class Body:
    """A record block's tail held in a seekable file (a spool), read in chunks, never whole."""

    file: BinaryIO
    length: int

    def chunks(self) -> Iterator[bytes]:
        self.file.seek(0)
        remaining = self.length
        while remaining > 0:
            data = self.file.read(min(CHUNK, remaining))
            if not data:
                raise OSError("spooled body is shorter than recorded")
            remaining -= len(data)
            yield data


@dataclass(frozen=True)
class Record:
    """A record ready to write: WARC header fields and a block (head bytes + optional body)."""

    fields: tuple[tuple[str, str], ...]
    head: bytes = b""
    body: Body | None = None

    @property
    def record_id(self) -> str:
        return self.field("WARC-Record-ID") or ""

    def field(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.fields:
            if key.lower() == lname:
                return value
        return None

    def header_bytes(self) -> bytes:
        lines = [WARC_VERSION]
        lines += [f"{name}: {value}" for name, value in self.fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def block_chunks(self) -> Iterator[bytes]:
        if self.head:
            yield self.head
        if self.body is not None:
            yield from self.body.chunks()


@dataclass
class RecordBuilder:
    """Makes records with digests and lengths filled in. ``clock``-free: callers pass dates."""

    warcinfo_id: str | None = None
    id_factory: Callable[[], str] = new_record_id
    _extra: list[tuple[str, str]] = field(default_factory=list)

    def build(
        self,
        rec_type: str,
        *,
        date: str,
        target_uri: str | None = None,
        content_type: str | None = None,
        head: bytes = b"",
        body: Body | None = None,
        payload_digest: str | None = None,
        record_id: str | None = None,
        extra: Sequence[tuple[str, str]] = (),
    ) -> Record:
        block = hashlib.sha256(head)
        length = len(head)
        if body is not None:
            for chunk in body.chunks():
                block.update(chunk)
            length += body.length
        fields: list[tuple[str, str]] = [
            ("WARC-Type", rec_type),
            ("WARC-Record-ID", record_id or self.id_factory()),
            ("WARC-Date", date),
        ]
        if target_uri is not None:
            fields.append(("WARC-Target-URI", target_uri))
        if self.warcinfo_id and rec_type != "warcinfo":
            fields.append(("WARC-Warcinfo-ID", self.warcinfo_id))
        fields.extend(extra)
        if content_type:
            fields.append(("Content-Type", content_type))
        fields.append(("WARC-Block-Digest", sha256_label(block.hexdigest())))
        if payload_digest:
            fields.append(("WARC-Payload-Digest", payload_digest))
        fields.append(("Content-Length", str(length)))
        return Record(tuple(fields), head, body)


def warc_fields(pairs: Iterable[tuple[str, str]]) -> bytes:
    """An ``application/warc-fields`` block; newlines in values are folded to spaces."""
    pairs = list(pairs)
    block = "".join([f"{name}: {value}\r\n" for name, value in pairs])
    if block.count("\n") == block.count("\r") == len(pairs):  # no line break in a value
        return block.encode("utf-8")
    out = []
    for name, value in pairs:
        clean = " ".join(str(value).split("\n")).replace("\r", " ")
        out.append(f"{name}: {clean}\r\n")
    return "".join(out).encode("utf-8")
