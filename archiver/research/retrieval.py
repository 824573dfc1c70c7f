"""Reading one capture's exact WARC records back, by byte range, digest-checked.

Records are read from wherever their file is now: the store once it is stored,
the local spool while it is still being written or waiting for upload.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from archiver.catalog import Catalog
from archiver.catalog.captures import Capture, get_capture
from archiver.errors import IntegrityError, StorageError
from archiver.jobs.stores import job_s3_options
from archiver.storage import S3Options, open_store
from archiver.storage.base import whole_range
from archiver.warc.writer import OPEN_SUFFIX


@dataclass(frozen=True)
class CaptureRecords:
    """The gzip members, byte for byte as stored: warcinfo, request, response, metadata,
    the certificate record of the TLS connection it came over, and a browser capture's
    resource records (screenshot, DOM)."""

    warcinfo: bytes
    request: bytes
    response: bytes
    metadata: bytes
    resources: tuple[bytes, ...] = ()
    tls: bytes = b""

    def as_warc(self, *, warcinfo: bool = True, tls: bool = True) -> bytes:
        """The records as one ``.warc.gz``; without the warcinfo record, or the TLS
        certificate record, when it is already in the file being written (a record id
        appears once in a file)."""
        head = self.warcinfo if warcinfo else b""
        chain = self.tls if tls else b""
        return (
            head + self.request + self.response + self.metadata + chain + b"".join(self.resources)
        )

    def resource_payload(self, index: int) -> bytes:
        """The block of the ``index``-th resource record (a PNG, an HTML document)."""
        plain = gzip.decompress(self.resources[index])
        head_end = plain.index(b"\r\n\r\n") + 4
        length = int(_header(plain[:head_end], "Content-Length") or 0)
        return plain[head_end : head_end + length]


def _header(head: bytes, name: str) -> str | None:
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


@contextmanager
def open_ranges(
    state: str | None,
    store_uri: str | None,
    storage_key: str | None,
    spool_path: str | None,
    s3: S3Options | None,
) -> Iterator[Callable[[int, int], bytes]]:
    """``read(offset, length)`` on one WARC file: from the store once it is stored, from
    the local spool while it is being written or waits for upload. A spool file is
    opened once, so a crawl renaming it (``.open`` to closed) or an upload removing it
    meanwhile does not break the reads in progress."""
    if state == "stored" and store_uri and storage_key:
        store = open_store(store_uri, s3=s3)
        key = storage_key
        yield lambda offset, length: store.read_range(key, offset, length)
        return
    path = Path(spool_path or "")
    candidates = (path, Path(str(path) + OPEN_SUFFIX), Path(str(path).removesuffix(OPEN_SUFFIX)))
    handle = None
    for candidate in candidates:  # renamed between the catalog's last look and now
        try:
            handle = open(candidate, "rb")  # noqa: SIM115 - held for the reads below
            path = candidate
            break
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StorageError(f"cannot read {candidate}: {exc.strerror or exc}") from exc
    if handle is None:
        raise StorageError(
            f"cannot read {path}: it is not in the spool, and the catalog does not say it "
            "was stored (run 'archiver store check')"
        )

    def read(offset: int, length: int) -> bytes:
        try:
            data = os.pread(handle.fileno(), length, offset)
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        return whole_range(data, str(path), offset, length)

    with handle:
        yield read


def _check_member(data: bytes, what: str, capture: Capture) -> dict[str, str]:
    """Parse one gzip member with warcio, checking its digests; return its WARC headers."""
    try:
        plain = gzip.decompress(data)  # checks the member's CRC-32 and length
    except (OSError, EOFError, zlib.error) as exc:
        raise IntegrityError(
            f"capture {capture.id}: the stored {what} record is damaged ({exc})"
        ) from exc
    try:
        records = list(_iterate(plain))
    except Exception as exc:
        raise IntegrityError(
            f"capture {capture.id}: the {what} record could not be read ({exc})"
        ) from exc
    if len(records) != 1:
        raise IntegrityError(
            f"capture {capture.id}: expected one {what} record, found {len(records)}"
        )
    headers, problems = records[0]
    if headers.get("WARC-Type") == "revisit":  # warcio does not check revisit digests
        problems = problems + _revisit_block_problems(plain, headers)
    if problems:
        raise IntegrityError(f"capture {capture.id}: {what} record fails its digests: {problems}")
    return headers


def _revisit_block_problems(plain: bytes, headers: dict[str, str]) -> list[str]:
    import hashlib

    start = plain.index(b"\r\n\r\n") + 4
    block = plain[start : start + int(headers.get("Content-Length", "0"))]
    expected = headers.get("WARC-Block-Digest", "")
    found = "sha256:" + hashlib.sha256(block).hexdigest()
    return [] if expected == found else [f"block digest failed: {expected}"]


def _iterate(data: bytes):  # type: ignore[no-untyped-def]
    for record in ArchiveIterator(io.BytesIO(data), check_digests=True):
        record.content_stream().read()
        headers = dict(record.rec_headers.headers)
        yield headers, list(record.digest_checker.problems)


def read_capture(capture: Capture, s3: S3Options | None = None) -> CaptureRecords:
    """The capture's records, verified against the catalog before anything is returned."""
    if capture.state == "failed" or capture.warc_offset is None:
        raise IntegrityError(
            f"capture {capture.id} is a failed fetch ({capture.error}): it has no WARC records"
        )
    with open_ranges(
        capture.warc_state, capture.store_uri, capture.storage_key, capture.spool_path, s3
    ) as read:
        parts = CaptureRecords(
            warcinfo=read(0, capture.warcinfo_length or 0),
            request=read(capture.request_offset or 0, capture.request_length or 0),
            response=read(capture.warc_offset, capture.warc_length or 0),
            metadata=read(capture.metadata_offset or 0, capture.metadata_length or 0),
            resources=tuple(read(r.warc_offset, r.warc_length) for r in capture.resources),
            tls=_read_tls(capture, read),
        )
    response = _check_member(parts.response, "response", capture)
    expected = {
        "WARC-Record-ID": capture.record_id,
        "WARC-Block-Digest": capture.record_digest,
        "WARC-Payload-Digest": capture.payload_digest,
    }
    for name, value in expected.items():
        if response.get(name) != value:
            raise IntegrityError(
                f"capture {capture.id}: {name} in the WARC is {response.get(name)!r}, "
                f"the catalog says {value!r}"
            )
    for what in ("warcinfo", "request", "metadata"):
        headers = _check_member(getattr(parts, what), what, capture)
        if what != "warcinfo" and headers.get("WARC-Concurrent-To") != capture.record_id:
            raise IntegrityError(
                f"capture {capture.id}: the {what} record belongs to another capture"
            )
    if capture.tls is not None:
        headers = _check_member(parts.tls, "TLS certificate", capture)
        found = (headers.get("WARC-Type"), headers.get("WARC-Record-ID"))
        if found != ("metadata", capture.tls.record_id):
            raise IntegrityError(
                f"capture {capture.id}: the TLS certificate record is not what the catalog"
                f" says (found {found})"
            )
    for row, data in zip(capture.resources, parts.resources, strict=True):
        headers = _check_member(data, f"{row.kind} resource", capture)
        found = (
            headers.get("WARC-Type"), headers.get("WARC-Record-ID"),
            headers.get("WARC-Block-Digest"), headers.get("WARC-Concurrent-To"),
        )  # fmt: skip
        if found != ("resource", row.record_id, row.record_digest, capture.record_id):
            raise IntegrityError(
                f"capture {capture.id}: the {row.kind} resource record is not what the"
                f" catalog says (found {found})"
            )
    return parts


def _read_tls(capture: Capture, read: Callable[[int, int], bytes]) -> bytes:
    """The record of the certificate chain of the connection the capture came over: in
    the capture's own file (the recorder writes it again in each new file)."""
    tls = capture.tls
    if tls is None:
        return b""
    if tls.warc_file != capture.warc_file:
        raise IntegrityError(
            f"capture {capture.id}: the catalog puts its TLS certificate record in"
            f" {tls.warc_file}, not in the capture's file {capture.warc_file}"
        )
    return read(tls.warc_offset, tls.warc_length)


def read_original(
    revisit: Capture, records: CaptureRecords, original: Capture, s3: S3Options | None = None
) -> CaptureRecords:
    """The records of the capture holding a revisit's payload, verified like any capture's
    and checked to be the one the revisit record refers to (``WARC-Refers-To``), with the
    payload it names (WARC 1.1 §6.7.2)."""
    plain = gzip.decompress(records.response)
    refers_to = _header(plain[: plain.index(b"\r\n\r\n")], "WARC-Refers-To")
    if original.record_id is None or refers_to != original.record_id:
        raise IntegrityError(
            f"capture {revisit.id} is a revisit of {refers_to}, but the catalog names capture"
            f" {original.id} ({original.record_id}) as holding its payload"
        )
    if revisit.payload_digest and revisit.payload_digest != original.payload_digest:
        raise IntegrityError(
            f"capture {revisit.id} is a revisit of a payload {revisit.payload_digest}, but"
            f" capture {original.id} holds {original.payload_digest}"
        )
    return read_capture(original, s3)


def with_payload_records(
    catalog: Catalog, capture: Capture, records: CaptureRecords
) -> tuple[bytes, Capture | None]:
    """The capture's records as one ``.warc.gz`` (what ``archiver get`` writes): a
    revisit's with, before them, those of the capture holding its payload, and that
    capture."""
    if not capture.revisit_of:
        return records.as_warc(), None
    original = get_capture(catalog, capture.revisit_of)
    held = read_original(capture, records, original, job_s3_options(catalog, original.job))
    same_file = original.warc_file == capture.warc_file
    # Over one TLS connection, both name the same certificate record: written once.
    same_chain = bool(
        capture.tls and original.tls and capture.tls.record_id == original.tls.record_id
    )
    return held.as_warc() + records.as_warc(warcinfo=not same_file, tls=not same_chain), original
