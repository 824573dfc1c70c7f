"""`archiver export`: WACZ 1.1.1 packages that py-wacz validates, streamed, digest-checked."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from warcs import archiver, captures_json, read_warc, warc_files

WACZ = shutil.which("wacz", path=str(Path(sys.executable).parent))


def wacz_validate(path: Path, tmp_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """py-wacz's check; it extracts the package into a temporary folder (``tmp_dir``)."""
    import os

    assert WACZ, "py-wacz is a test dependency"
    env = {**os.environ, "TMPDIR": str(tmp_dir)} if tmp_dir else None
    return subprocess.run(
        [WACZ, "validate", "-f", str(path)], capture_output=True, text=True, timeout=900, env=env
    )


def crawled(tmp_path: Path, site, job: str = "x") -> Path:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    added = archiver(home, "seeds", "add", site.url, "--scope", "host", "--tag", "t")
    assert added.returncode == 0, added.stderr
    crawl = archiver(home, "crawl", "--profile", "test", "--job", job)
    assert crawl.returncode == 0, crawl.stderr
    return home


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def test_job_export_is_a_valid_wacz_with_the_records_byte_for_byte(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    out = tmp_path / "out" / "job.wacz"
    out.parent.mkdir()  # export makes no folders (test_unwritable_outputs_get_clear_errors)
    result = archiver(home, "export", "--job", "x", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = captures_json(home, "--job", "x")
    kept = [r for r in rows if r["state"] != "failed"]
    assert f"{len(kept)} capture(s)" in result.stdout and "digests verified" in result.stdout

    validation = wacz_validate(out)
    assert validation.returncode == 0, validation.stdout + validation.stderr
    assert "Validation succeeded" in validation.stdout

    files = members(out)
    [warc] = warc_files(home)
    assert list(files) == [
        f"archive/{warc.name}", "indexes/index.cdx.gz", "indexes/index.idx",
        "pages/pages.jsonl", "datapackage.json", "datapackage-digest.json",
    ]  # fmt: skip
    with zipfile.ZipFile(out) as zf:
        assert zf.getinfo(f"archive/{warc.name}").compress_type == zipfile.ZIP_STORED
        assert zf.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED

    # A whole job's single file comes out identical to the stored WARC.
    assert files[f"archive/{warc.name}"] == warc.read_bytes()

    package = json.loads(files["datapackage.json"])
    assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
    for resource in package["resources"]:
        data = files[resource["path"]]
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)
    digest = json.loads(files["datapackage-digest.json"])
    assert digest == {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(files["datapackage.json"]).hexdigest(),
    }

    pages = [json.loads(line) for line in files["pages/pages.jsonl"].decode().splitlines()]
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    page_rows = {r["id"]: r for r in kept if r["kind"] in ("seed", "page")}
    assert {p["id"] for p in pages[1:]} == set(page_rows)
    for page in pages[1:]:
        row = page_rows[page["id"]]
        assert (page["url"], page["ts"]) == (row["url"], row["captured_at"])

    # The ZipNum index: index.idx points into index.cdx.gz, whose lines are what
    # cdxj-indexer makes of the packaged WARC.
    extracted = tmp_path / "extracted.warc.gz"
    extracted.write_bytes(files[f"archive/{warc.name}"])
    fresh = subprocess.run(
        [str(Path(sys.executable).parent / "cdxj-indexer"), "-s", str(extracted)],
        capture_output=True, text=True, check=True,
    ).stdout.replace(extracted.name, warc.name)  # fmt: skip
    assert gzip.decompress(files["indexes/index.cdx.gz"]).decode() == fresh
    idx = files["indexes/index.idx"].decode().splitlines()
    assert json.loads(idx[0].split(" ", 2)[2])["filename"] == "index.cdx.gz"
    block = json.loads(idx[1].split(" ", 2)[2])
    assert block["offset"] == 0 and block["length"] == len(files["indexes/index.cdx.gz"])


def test_one_capture_export_holds_its_records_and_what_it_needs_to_replay(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    rows = captures_json(home, "--job", "x")
    page2 = next(r for r in rows if r["url"] == fixture_site.url + "page2.html")
    out = tmp_path / "one.wacz"
    cid = page2["id"].lower().replace("-", "")  # ids are accepted in any case, without dash
    result = archiver(home, "export", "--capture", cid, "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert wacz_validate(out).returncode == 0

    files = members(out)
    packaged = tmp_path / "packaged.warc.gz"
    packaged.write_bytes(files[f"archive/{page2['warc_file']}"])
    records = read_warc(packaged)
    assert records[0].type == "warcinfo"
    assert all(not r.digest_problems for r in records)
    responses = {r.headers["WARC-Target-URI"] for r in records if r.type == "response"}
    # page2 and its requisites (style.css was first found on the index page, and its
    # own requisite, a background image, comes too); not the pages it links to.
    base = fixture_site.url
    assert {base + "page2.html", base + "style.css", base + "img/photo.png"} <= responses
    assert base + "index.html" not in responses and base + "sub/page3.html" not in responses
    assert f"{len(responses)} capture(s), 1 page(s)" in result.stdout
    # The same gzip members `archiver get` returns: warcinfo first, then the capture's
    # request, response and metadata, byte for byte.
    got = tmp_path / "got.warc.gz"
    assert archiver(home, "get", page2["id"], "-o", str(got)).returncode == 0
    get_bytes, pack_bytes = got.read_bytes(), packaged.read_bytes()
    warcinfo = records[1].offset
    assert get_bytes[:warcinfo] == pack_bytes[:warcinfo]
    assert get_bytes[warcinfo:] in pack_bytes
    pages = [json.loads(line) for line in files["pages/pages.jsonl"].decode().splitlines()[1:]]
    assert [p["id"] for p in pages] == [page2["id"]]
    assert "mainPageUrl" not in json.loads(files["datapackage.json"])
    again = tmp_path / "again.wacz"
    as_json = archiver(home, "export", "--capture", cid, "-o", str(again), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "path": str(again), "job": None, "seed_id": None, "url": None,
        "capture_ids": [page2["capture_id"]], "captures": len(responses), "pages": 1,
        "warc_files": 1, "warc_bytes": len(pack_bytes), "failed_fetches": 0,
        "wacz_sha256": hashlib.sha256(again.read_bytes()).hexdigest(), "signed_by": None,
        "signature_timestamps": [], "proof_files": 0,
    }  # fmt: skip


def test_a_chosen_redirect_brings_its_target(tmp_path, fixture_site):
    home = tmp_path / "home"
    crawl = archiver(
        home, "crawl", "--profile", "test", "--job", "r", fixture_site.url + "redirect"
    )
    assert crawl.returncode == 0, crawl.stderr
    [hop] = [r for r in captures_json(home) if r["url"].endswith("/redirect")]
    out = tmp_path / "r.wacz"
    result = archiver(home, "export", "--capture", hop["id"], "-o", str(out))
    assert result.returncode == 0, result.stderr
    packaged = tmp_path / "r.warc.gz"
    packaged.write_bytes(members(out)[f"archive/{hop['warc_file']}"])
    urls = {r.headers["WARC-Target-URI"] for r in read_warc(packaged) if r.type == "response"}
    assert {fixture_site.url + "redirect", fixture_site.url + "index.html"} <= urls


def test_url_and_seed_exports_name_the_main_page(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    seed_url = fixture_site.url
    for how, value in (("--url", seed_url), ("--seed", "1")):
        out = tmp_path / f"main{how}.wacz"
        result = archiver(home, "export", how, value, "-o", str(out), "--title", "Evidence")
        assert result.returncode == 0, result.stderr
        assert wacz_validate(out).returncode == 0
        package = json.loads(members(out)["datapackage.json"])
        [seed_row] = [r for r in captures_json(home, "--url", seed_url)]
        assert package["mainPageUrl"] == seed_url
        assert package["mainPageDate"] == seed_row["captured_at"]
        assert package["title"] == "Evidence"


def test_a_flipped_byte_stops_the_export_and_leaves_nothing(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    rows = captures_json(home, "--job", "x")
    victim = next(r for r in rows if r["url"] == fixture_site.url + "page2.html")
    [warc] = [w for w in warc_files(home) if w.name == victim["warc_file"]]
    data = bytearray(warc.read_bytes())
    data[victim["offset"] + victim["length"] // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    result = archiver(home, "export", "--job", "x", "-o", str(out_dir / "job.wacz"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"(capture {victim['id']})" in result.stderr
    assert "nothing was exported" in result.stderr and "Traceback" not in result.stderr
    assert list(out_dir.iterdir()) == []


@pytest.mark.sqlite_only  # writes to the SQLite file itself
def test_a_catalog_that_disagrees_with_the_record_stops_the_export(tmp_path, fixture_site):
    import sqlite3

    home = crawled(tmp_path, fixture_site)
    conn = sqlite3.connect(home / "catalog.sqlite")
    with conn:
        conn.execute(
            "UPDATE captures SET payload_digest = 'sha256:' || printf('%064d', 0)"
            " WHERE url LIKE '%page2.html'"
        )
    conn.close()
    out = tmp_path / "job.wacz"
    result = archiver(home, "export", "--job", "x", "-o", str(out))
    assert result.returncode == 3
    assert "is not what the catalog says" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "choose what to export: one of --job NAME, --seed ID, --url URL or --capture ID"),
        (("--job", "x", "--seed", "1"), "choose what to export"),
        (("--job", "nope"), "no job named 'nope'"),
        (("--capture", "0000-0000"), "is not a capture id"),
        (("--url", "https://example.org/never"), "nothing to export"),
    ],
)
def test_bad_export_requests_get_clear_errors(tmp_path, fixture_site, args, message):
    if args and args[0] != "--capture":
        home = crawled(tmp_path, fixture_site)
    else:  # an archive with nothing captured
        home = tmp_path / "h"
        assert archiver(home, "seeds", "add", fixture_site.url).returncode == 0
    out = tmp_path / "bad.wacz"
    result = archiver(home, "export", *args, "-o", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".bad.wacz.*"))


RSS_PROBE = """
import sys
from archiver.cli import main
sys.argv = ["archiver", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
# This process's own peak (VmHWM): ru_maxrss would carry over the pytest worker's RSS
# from before the exec, however large that worker has grown.
peak = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("peak-rss-kib", peak, file=sys.stderr)
sys.exit(code)
"""


def test_a_large_export_streams_in_flat_memory(tmp_path, fixture_site):
    """≥ 200 MB of incompressible captures packaged with peak RSS under 150 MB."""
    home = tmp_path / "home"
    size, count = 45 * 1024 * 1024, 5
    urls = [f"{fixture_site.url}random?bytes={size}&seed={n}" for n in range(count)]
    crawl = archiver(home, "crawl", "--profile", "test", "--job", "big", *urls, timeout=600)
    assert crawl.returncode == 0, crawl.stderr
    out = tmp_path / "big.wacz"
    import os

    run = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, "export", "--job", "big", "-o", str(out)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "ARCHIVER_HOME": str(home)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert out.stat().st_size >= 200 * 1024 * 1024
    peak_mib = int(run.stderr.split("peak-rss-kib")[1].split()[0]) / 1024
    print(f"export of {out.stat().st_size // 2**20} MiB peaked at {peak_mib:.0f} MiB RSS")
    assert peak_mib < 150, f"export peaked at {peak_mib:.0f} MiB"
    assert wacz_validate(out).returncode == 0


def test_unwritable_outputs_get_clear_errors(tmp_path, fixture_site):
    home = crawled(tmp_path, fixture_site)
    # A folder that is not there is refused as 'get -o' refuses it, and is not made.
    missing = archiver(home, "export", "--job", "x", "-o", "nowhere/sub/job.wacz", cwd=tmp_path)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert missing.stderr == (
        "Error: cannot write nowhere/sub/job.wacz: the folder nowhere/sub does not exist;"
        " create it first, or choose another -o\n"
    )
    assert not (tmp_path / "nowhere").exists()
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    for target in (blocker / "x.wacz", Path("/proc/x.wacz")):
        result = archiver(home, "export", "--job", "x", "-o", str(target))
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(f"Error: cannot write {target}:"), result.stderr
        assert "Traceback" not in result.stderr
    # A file already there is kept unless --force, as 'get -o' keeps it.
    kept = tmp_path / "kept.wacz"
    kept.write_bytes(b"someone's earlier package")
    refused = archiver(home, "export", "--job", "x", "-o", str(kept))
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"Error: {kept} already exists: add --force to overwrite it, or choose another -o\n"
    )
    assert kept.read_bytes() == b"someone's earlier package"
    replaced = archiver(home, "export", "--job", "x", "-o", str(kept), "--force")
    assert replaced.returncode == 0, replaced.stderr
    assert wacz_validate(kept).returncode == 0


FULL_DISK_PROBE = """
import resource, signal, sys
from archiver.cli import main
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.argv = ["archiver", *sys.argv[2:]]
main()
"""


def test_running_out_of_space_leaves_nothing_and_says_so(tmp_path, fixture_site):
    import os

    home = tmp_path / "home"
    big = f"{fixture_site.url}random?bytes={4 * 1024 * 1024}"
    assert archiver(home, "crawl", "--profile", "test", "--job", "x", big).returncode == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "job.wacz"
    # Files may grow to 2 MB: the catalog can, the 4 MB package cannot.
    run = subprocess.run(
        [sys.executable, "-c", FULL_DISK_PROBE, str(2 * 1024 * 1024), "export", "--job", "x", "-o",
         str(target)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "ARCHIVER_HOME": str(home)},
    )  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert run.stderr.startswith(f"Error: cannot write {target}: File too large"), run.stderr
    assert "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    assert list(out_dir.iterdir()) == []


def synthetic_job(home: Path, count: int) -> None:
    """Add a job of ``count`` captures to ``home``: one real capture's gzip members
    repeated in a new WARC file, with a catalog row for each copy."""
    import sqlite3

    conn = sqlite3.connect(home / "catalog.sqlite")
    conn.row_factory = sqlite3.Row
    real = conn.execute(
        "SELECT c.*, w.spool_path, w.warcinfo_length FROM captures c JOIN warc_files w"
        " ON w.name = c.warc_file WHERE c.state = 'ok' ORDER BY c.warc_length LIMIT 1"
    ).fetchone()
    [stored] = home.glob(f"warcs/*/{real['warc_file']}")
    source = stored.read_bytes()
    warcinfo = source[: real["warcinfo_length"]]
    start = real["request_offset"]
    group = source[start : real["metadata_offset"] + real["metadata_length"]]
    job_id = conn.execute(
        "INSERT INTO jobs (name, status, started_at, settings, seed_ids)"
        " VALUES ('many', 'finished', '2026-01-01T00:00:00.000Z', '{}', '[]')"
    ).lastrowid
    name = "synthetic-many.warc.gz"
    path = home / "spool" / "many" / name
    path.parent.mkdir(parents=True)
    with open(path, "wb") as out:
        out.write(warcinfo)
        for _ in range(count):
            out.write(group)
    conn.execute(
        "INSERT INTO warc_files (name, job_id, state, spool_path, warcinfo_id, warcinfo_length,"
        " created_at) VALUES (?, ?, 'closed', ?, 'x', ?, '2026-01-01T00:00:00.000Z')",
        (name, job_id, str(path), len(warcinfo)),
    )
    names = [d[0] for d in conn.execute("SELECT * FROM captures LIMIT 0").description]
    rows = []
    for i in range(count):
        row = dict(real)
        shift = len(warcinfo) + i * len(group) - start
        row.update(
            id=f"S{i:07d}"[:4] + "-" + f"{i:08d}"[-4:], job_id=job_id, warc_file=name,
            warc_offset=real["warc_offset"] + shift,
            request_offset=real["request_offset"] + shift,
            metadata_offset=real["metadata_offset"] + shift,
        )  # fmt: skip
        rows.append(tuple(row[n] for n in names))
    conn.executemany(f"INSERT INTO captures VALUES ({','.join('?' * len(names))})", rows)
    conn.commit()
    conn.close()


@pytest.mark.sqlite_only  # writes to the SQLite file itself
def test_memory_stays_flat_with_the_number_of_captures(tmp_path, fixture_site):
    """The same export for 4,000 and for 60,000 captures: peak memory must not grow with
    the count. (Holding ~1 KB per capture, as a first version did, adds ~60 MB here;
    what may grow is bounded: the index lines sorted in memory, SQLite's caches.)"""
    import os

    peaks = {}
    for count in (4_000, 60_000):
        (tmp_path / str(count)).mkdir()
        home = crawled(tmp_path / str(count), fixture_site)
        synthetic_job(home, count)
        out = tmp_path / f"many-{count}.wacz"
        run = subprocess.run(
            [sys.executable, "-c", RSS_PROBE, "export", "--job", "many", "-o", str(out)],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "ARCHIVER_HOME": str(home)},
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert f"{count} capture(s)" in run.stdout
        peaks[count] = int(run.stderr.split("peak-rss-kib")[1].split()[0]) / 1024
    print(f"peak RSS: 4,000 captures {peaks[4000]:.0f} MiB, 60,000 {peaks[60000]:.0f} MiB")
    assert peaks[60_000] - peaks[4_000] < 30, peaks


@pytest.mark.sqlite_only  # writes to the SQLite file itself
def test_rows_committed_during_an_export_are_not_copied(tmp_path, fixture_site, monkeypatch):
    """A crawl may commit captures to the job while it is exported: the package holds the
    rows of one moment, sized and copied alike."""
    import sqlite3

    from archiver.catalog import open_catalog
    from archiver.research.export import Selection, export_wacz, package

    home = crawled(tmp_path, fixture_site)
    sized = package.entry_sizes

    def size_then_commit(cursor):  # type: ignore[no-untyped-def]
        sizes = sized(cursor)
        other = sqlite3.connect(home / "catalog.sqlite")
        with other:  # as a crawl would: another connection adds a capture to the job
            columns = [r[1] for r in other.execute("PRAGMA table_info(captures)")]
            picked = ", ".join("'ZZZZ-ZZZZ'" if c == "id" else c for c in columns)
            other.execute(
                f"INSERT INTO captures ({', '.join(columns)}) SELECT {picked} FROM captures"
                " WHERE url LIKE '%page2.html' AND state = 'ok'"
            )
        other.close()
        return sizes

    catalog = open_catalog(home / "catalog.sqlite")
    job = Selection("j.name = ?", ("x",), "job x", expand=False, job="x")
    plain = export_wacz(catalog, job, tmp_path / "plain.wacz", s3_for_job=lambda name: None)
    rows = catalog.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    monkeypatch.setattr(package, "entry_sizes", size_then_commit)
    summary = export_wacz(catalog, job, tmp_path / "x.wacz", s3_for_job=lambda name: None)
    assert summary.captures == plain.captures  # the row committed meanwhile is not in it
    assert catalog.conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0] == rows + 1
    assert wacz_validate(tmp_path / "x.wacz").returncode == 0
