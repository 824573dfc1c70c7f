"""The ZIP records of an exported WACZ, read as they are on disk: ZIP64 only where an
entry or an offset needs it, and every local header agreeing with the central directory
(ReplayWeb.page reads local headers; it could not open packages where they disagreed)."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from test_export import crawled, wacz_validate
from warcs import archiver
from zipcheck import FULL, ZIP64_EXTRA, check_consistent, read_layout

from archiver.catalog.captures import CaptureRow, insert_captures
from archiver.catalog.db import iso_ms, open_catalog, utc_now
from archiver.catalog.jobs import create_job, finish_job
from archiver.catalog.warcfiles import file_closed, file_opened
from archiver.home import ArchiveHome
from archiver.urls import surt_key
from archiver.warc.records import Body, sha256_label
from archiver.warc.writer import WarcWriter

UNZIP = shutil.which("unzip")


def uses_zip64(entry) -> bool:  # type: ignore[no-untyped-def]
    return ZIP64_EXTRA in entry.local.extra_ids or FULL in entry.local.raw_sizes


def unzip_test(path: Path) -> subprocess.CompletedProcess[str]:
    assert UNZIP, "unzip is in the machine image (Debian's unzip)"
    return subprocess.run([UNZIP, "-tq", str(path)], capture_output=True, text=True, timeout=900)


def test_small_entries_have_no_zip64_and_local_headers_match_the_directory(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    out = tmp_path / "job.wacz"
    result = archiver(home, "export", "--job", "x", "-o", str(out))
    assert result.returncode == 0, result.stderr
    layout = read_layout(out)
    assert [e.central.name for e in layout.entries][1:] == [
        "indexes/index.cdx.gz", "indexes/index.idx", "pages/pages.jsonl",
        "datapackage.json", "datapackage-digest.json",
    ]  # fmt: skip
    check_consistent(layout)
    for entry in layout.entries:
        assert not uses_zip64(entry), f"{entry.central.name} has a ZIP64 local header"
        assert ZIP64_EXTRA not in entry.central.extra_ids, entry.central.name
        assert entry.local.raw_sizes == entry.central.raw_sizes, entry.central.name
    assert not layout.zip64_end
    # The bytes after each local header are the entry, as zipfile reads them.
    with zipfile.ZipFile(out) as zf, open(out, "rb") as raw:
        for entry in layout.entries:
            if entry.central.method == zipfile.ZIP_STORED:
                raw.seek(entry.data_start)
                assert raw.read(entry.central.sizes[1]) == zf.read(entry.central.name)
    assert unzip_test(out).returncode == 0


RECORD_BODY = 64 * 1024 * 1024
HTTP_RESPONSE = "application/http; msgtype=response"
BIG_RECORDS = 65  # 65 x 64 MiB: the archive/ entry passes 4 GiB


def generated_job(home: Path, job_name: str, records: int) -> Path:
    """A job of ``records`` captures of a 64 MiB body, written by archiver's own WARC
    writer with stored deflate blocks (gzip members as large as what they hold, made
    fast) and entered in the catalog through its API, as a crawl would."""
    ArchiveHome(home).ensure()
    catalog = open_catalog(ArchiveHome(home).catalog_path)
    job = create_job(catalog, job_name, {}, [])
    body_bytes = hashlib.shake_256(b"archiver").digest(1024 * 1024) * (RECORD_BODY // 2**20)
    payload = sha256_label(hashlib.sha256(body_bytes).hexdigest())
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body_bytes)
    )
    writer = WarcWriter(
        ArchiveHome(home).spool_dir / job_name,
        warcinfo_fields=lambda name: [("software", "test generator"), ("isPartOf", job_name)],
        max_size=1 << 62,
        compress_level=0,
        on_open=lambda opened: file_opened(catalog, job.id, opened),
        on_close=lambda closed: file_closed(catalog, closed),
    )
    rows = []
    body = Body(io.BytesIO(body_bytes), len(body_bytes))
    for n in range(records):
        url = f"http://127.0.0.1:9/big/{n}.bin"
        date = iso_ms(utc_now())
        record = writer.builder().build(
            "response", date=date, target_uri=url, content_type=HTTP_RESPONSE,
            head=head, body=body, payload_digest=payload,
        )  # fmt: skip
        [written] = writer.write_group([record])
        row = CaptureRow(
            url=url, final_url=url, surt=surt_key(url), seed_id=None, job_id=job.id,
            kind="page", hops=0, via=None, captured_at=date, state="ok",
            software="test generator", http_status=200, mime="application/octet-stream",
            size=len(body_bytes), payload_digest=payload,
            record_digest=record.field("WARC-Block-Digest"), record_id=written.record_id,
            warc_file=written.filename, warc_offset=written.offset, warc_length=written.length,
        )  # fmt: skip
        rows.append(row)
    closed = writer.close()
    assert closed is not None
    with catalog.transaction() as conn:
        insert_captures(conn, rows)
    finish_job(catalog, job.id, "finished", None)
    catalog.close()
    return closed.path


@pytest.mark.slow
def test_a_package_over_4_gib_opens_in_py_wacz_and_unzip(tmp_path):
    """One archive/ entry over 4 GiB, and entries after it at offsets past 4 GiB: ZIP64
    there (in both headers for the big entry; in the directory for the offsets), none in
    the small entries' local headers. Needs about 13 GB free (the WARC, the package, and
    py-wacz's extracted copy), all removed at the end."""
    free = shutil.disk_usage(tmp_path).free
    if free < 16 * 10**9:
        pytest.skip(f"needs 16 GB free in {tmp_path} for a 4.4 GB WARC, its package and a copy")
    home = tmp_path / "home"
    out = tmp_path / "big.wacz"
    try:
        started = time.monotonic()
        warc = generated_job(home, "big", BIG_RECORDS)
        generated = time.monotonic()
        assert warc.stat().st_size > 2**32
        result = archiver(home, "export", "--job", "big", "-o", str(out), timeout=900)
        assert result.returncode == 0, result.stderr
        exported = time.monotonic()

        layout = read_layout(out)
        check_consistent(layout)
        big, *small = layout.entries
        assert big.central.name == f"archive/{warc.name}"
        assert big.central.sizes == (warc.stat().st_size,) * 2  # a whole job: the whole file
        assert uses_zip64(big) and FULL in big.central.raw_sizes
        assert small and all(not uses_zip64(e) and e.offset > 2**32 for e in small)
        assert all(e.zip64_offset and FULL not in e.central.raw_sizes for e in small)
        assert layout.zip64_end

        unzipped = unzip_test(out)
        assert unzipped.returncode == 0, unzipped.stdout + unzipped.stderr
        tested = time.monotonic()
        os.unlink(warc)  # room for py-wacz's extracted copy
        validation = wacz_validate(out, tmp_dir=tmp_path)
        assert validation.returncode == 0, validation.stdout + validation.stderr
        assert "Validation succeeded" in validation.stdout
        print(
            f"{out.stat().st_size / 2**30:.2f} GiB package: generated in "
            f"{generated - started:.0f} s, exported in {exported - generated:.0f} s, "
            f"unzip -t {tested - exported:.0f} s, wacz validate {time.monotonic() - tested:.0f} s"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
        out.unlink(missing_ok=True)
