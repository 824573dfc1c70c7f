"""The WARC writer: exact record bytes with a fixed clock and ids, offsets, rollover, naming."""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import os
import re
from datetime import UTC, datetime

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.warc.records import Body, Record, RecordBuilder, warc_fields
from archiver.warc.writer import OPEN_SUFFIX, WarcWriter

CLOCK = datetime(2020, 2, 12, 6, 0, 0, 123000, tzinfo=UTC)


def ids():
    counter = itertools.count(1)
    return lambda: f"<urn:uuid:00000000-0000-0000-0000-{next(counter):012d}>"


def writer(tmp_path, **kwargs) -> WarcWriter:
    return WarcWriter(
        tmp_path,
        warcinfo_fields=lambda name: [("software", "archiver/test"), ("isPartOf", "t")],
        prefix="TEST",
        host="box",
        clock=lambda: CLOCK,
        id_factory=ids(),
        **kwargs,
    )


def test_record_bytes_are_exact():
    builder = RecordBuilder(warcinfo_id="<urn:uuid:w>", id_factory=lambda: "<urn:uuid:r>")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    body = Body(io.BytesIO(b"hi"), 2)
    record = builder.build(
        "response",
        date="2020-02-12T06:00:00.123Z",
        target_uri="http://example.org/",
        content_type="application/http; msgtype=response",
        head=head,
        body=body,
        payload_digest="sha256:" + hashlib.sha256(b"hi").hexdigest(),
    )
    block_digest = hashlib.sha256(head + b"hi").hexdigest()
    assert record.header_bytes() == (
        b"WARC/1.1\r\n"
        b"WARC-Type: response\r\n"
        b"WARC-Record-ID: <urn:uuid:r>\r\n"
        b"WARC-Date: 2020-02-12T06:00:00.123Z\r\n"
        b"WARC-Target-URI: http://example.org/\r\n"
        b"WARC-Warcinfo-ID: <urn:uuid:w>\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"WARC-Block-Digest: sha256:" + block_digest.encode() + b"\r\n"
        b"WARC-Payload-Digest: sha256:" + hashlib.sha256(b"hi").hexdigest().encode() + b"\r\n"
        b"Content-Length: 40\r\n\r\n"
    )
    assert b"".join(record.block_chunks()) == head + b"hi"


def test_each_record_is_one_gzip_member_at_its_offset(tmp_path):
    w = writer(tmp_path)
    builder = w.builder()
    records = [
        builder.build(
            "resource",
            date="2020-02-12T06:00:00.123Z",
            target_uri=f"urn:x:{i}",
            content_type="text/plain",
            head=b"payload %d" % i,
        )
        for i in range(3)
    ]
    written = w.write_group(records)
    open_path = tmp_path / (written[0].filename + OPEN_SUFFIX)
    assert open_path.exists()  # still being written
    closed = w.close()
    assert closed is not None and not open_path.exists()
    data = closed.path.read_bytes()
    assert closed.sha256 == hashlib.sha256(data).hexdigest()
    assert closed.size == len(data)
    for i, rec in enumerate(written):
        member = data[rec.offset : rec.offset + rec.length]
        plain = gzip.decompress(member)  # exactly one member, nothing else
        assert plain.startswith(b"WARC/1.1\r\nWARC-Type: resource\r\n")
        assert plain.endswith(b"payload %d\r\n\r\n" % i)
        [parsed] = list(ArchiveIterator(io.BytesIO(member), check_digests="raise"))
        assert parsed.rec_headers.get_header("WARC-Record-ID") == rec.record_id
    # The first record of the file is the warcinfo, and every record points at it.
    with open(closed.path, "rb") as handle:
        recs = list(ArchiveIterator(handle, check_digests="raise"))
    assert recs[0].rec_type == "warcinfo"
    assert recs[0].rec_headers.get_header("WARC-Filename") == closed.filename
    info_id = recs[0].rec_headers.get_header("WARC-Record-ID")
    assert all(r.rec_headers.get_header("WARC-Warcinfo-ID") == info_id for r in recs[1:])


def test_file_names_and_rollover(tmp_path):
    closed = []
    w = writer(tmp_path, max_size=600, on_close=closed.append)
    for i in range(6):
        w.rollover_if_full()
        builder = w.builder()
        record = builder.build(
            "resource", date="2020-02-12T06:00:00.123Z", target_uri=f"urn:x:{i}",
            head=bytes(range(256)) * 2,
        )  # fmt: skip
        w.write_group([record])
    w.close()
    assert len(closed) >= 3
    for serial, item in enumerate(closed):
        assert re.fullmatch(
            rf"TEST-20200212060000123-{serial:05d}-box-[a-z0-9]{{6}}\.warc\.gz", item.filename
        )
    assert not list(tmp_path.glob("*" + OPEN_SUFFIX))
    total = 0
    for item in closed:
        with open(item.path, "rb") as handle:
            total += sum(1 for r in ArchiveIterator(handle) if r.rec_type == "resource")
    assert total == 6


def test_warc_fields_fold_newlines():
    assert warc_fields([("a", "x\ny"), ("b", "z")]) == b"a: x y\r\nb: z\r\n"


class FailingBody(io.BytesIO):
    """A spool that breaks after some bytes, as a disk does when it fills up."""

    def read(self, size=-1):
        if self.tell() >= 2_500_000:  # after more than one batch reached the file
            raise OSError(28, "No space left on device")
        return super().read(size)


def test_a_failed_write_leaves_the_file_ending_on_a_whole_record(tmp_path):
    w = writer(tmp_path)
    builder = w.builder()
    good = builder.build("resource", date="2020-02-12T06:00:00.123Z", target_uri="urn:x:ok",
                         head=b"kept")  # fmt: skip
    [kept] = w.write_group([good])
    data = os.urandom(3_000_000)
    bad = builder.build("resource", date="2020-02-12T06:00:00.123Z", target_uri="urn:x:bad",
                        body=Body(io.BytesIO(data), len(data)))  # fmt: skip
    broken = Record(bad.fields, bad.head, Body(FailingBody(data), len(data)))
    with pytest.raises(OSError, match="No space"):
        w.write_group([broken])
    after = builder.build("resource", date="2020-02-12T06:00:00.123Z", target_uri="urn:x:after",
                          head=b"after")  # fmt: skip
    [later] = w.write_group([after])
    assert later.offset == kept.offset + kept.length  # the broken member left no bytes behind
    closed = w.close()
    with open(closed.path, "rb") as handle:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
    assert uris == [None, "urn:x:ok", "urn:x:after"]
    assert closed.sha256 == hashlib.sha256(closed.path.read_bytes()).hexdigest()


class FillingFile(io.RawIOBase):
    """A raw file that takes a few bytes of a write, then finds the disk full."""

    def __init__(self, real):
        self.real = real

    def write(self, data):
        self.real.write(bytes(data[:10]))
        raise OSError(28, "No space left on device")

    def fileno(self):
        return self.real.fileno()

    def seek(self, offset, whence=0):
        return self.real.seek(offset, whence)


def test_a_failed_write_of_a_small_record_leaves_a_whole_record(tmp_path):
    w = writer(tmp_path)
    builder = w.builder()
    [kept] = w.write_group([builder.build("resource", date="2020-02-12T06:00:00.123Z",
                                          target_uri="urn:x:ok", head=b"kept")])  # fmt: skip
    real = w._file
    w._file = FillingFile(real)
    small = builder.build("resource", date="2020-02-12T06:00:00.123Z", target_uri="urn:x:bad",
                          head=b"small enough to be compressed in one call")  # fmt: skip
    with pytest.raises(OSError, match="No space"):
        w.write_group([small])
    assert os.fstat(real.fileno()).st_size == kept.offset + kept.length  # cut back at once
    w._file = real
    [later] = w.write_group([builder.build("resource", date="2020-02-12T06:00:00.123Z",
                                           target_uri="urn:x:after", head=b"after")])  # fmt: skip
    assert later.offset == kept.offset + kept.length  # the broken member left no bytes behind
    closed = w.close()
    with open(closed.path, "rb") as handle:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
    assert uris == [None, "urn:x:ok", "urn:x:after"]
    assert closed.sha256 == hashlib.sha256(closed.path.read_bytes()).hexdigest()
