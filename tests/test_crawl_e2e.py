"""A real crawl of a local fixture site, read back the way a researcher would."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pgserver import module_catalog
from servers import CHUNKED_GZIP_HTML, CHUNKED_HTML, GZIP_HTML, FixtureSite
from warcs import archiver, captures_json, catalog_rows, raw_block, read_warc, warc_files

BIN = Path(sys.executable).parent

# One worker runs the module, so its module-scoped fixtures are made once.
pytestmark = [pytest.mark.xdist_group("crawl_e2e"), pytest.mark.own_catalog]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = FixtureSite().start()
    home = tmp_path_factory.mktemp("e2e") / "home"
    try:
        with module_catalog():
            added = archiver(home, "seeds", "add", site.url, "--scope", "host", "--tag", "fixture")
            assert added.returncode == 0, added.stderr
            result = archiver(home, "crawl", "--profile", "test", "--job", "e2e")
            yield site, home, result
    finally:
        site.close()


def responses_by_url(home):
    out = {}
    for warc in warc_files(home):
        for rec in read_warc(warc):
            if rec.type == "response":
                out[rec.headers["WARC-Target-URI"]] = rec
    return out


def test_crawl_succeeds_and_summarizes(crawled):
    site, home, result = crawled
    assert result.returncode == 0, result.stdout + result.stderr
    assert "job e2e finished" in result.stdout
    assert re.search(rf"seed 1 {re.escape(site.url)}: \d+ ok", result.stdout)
    assert "Traceback" not in result.stderr


def test_every_warc_passes_independent_readers(crawled):
    _, home, _ = crawled
    files = warc_files(home)
    assert files, "no WARC written"
    for warc in files:
        assert not list(warc.parent.glob("*.open"))
        check = subprocess.run(
            [BIN / "warcio", "check", "-v", str(warc)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([BIN / "cdxj-indexer", str(warc)], capture_output=True, text=True)
        assert index.returncode == 0, index.stderr
        assert len(index.stdout.splitlines()) >= 10
        for rec in read_warc(warc):
            assert not rec.digest_problems, (rec.headers["WARC-Record-ID"], rec.digest_problems)


def test_static_files_are_captured_byte_for_byte(crawled):
    site, home, _ = crawled
    responses = responses_by_url(home)
    static = [
        "index.html",
        "page2.html",
        "sub/page3.html",
        "style.css",
        "img/logo.png",
        "img/bg.png",
    ]
    for name in static:
        rec = responses[site.url + name]
        assert rec.status_line.startswith("HTTP/1.1 200"), name
        assert rec.content == (site.root / name).read_bytes(), name


def test_scripted_paths_are_recorded_as_served(crawled):
    site, home, _ = crawled
    responses = responses_by_url(home)
    gz = responses[site.url + "gzip.html"]
    assert ("Content-Encoding", "gzip") in gz.http_headers
    body = gz.raw_block.partition(b"\r\n\r\n")[2]
    assert gzip.decompress(body) == GZIP_HTML  # stored compressed, as sent
    assert gz.content == GZIP_HTML
    assert responses[site.url + "chunked.html"].content == CHUNKED_HTML
    assert responses[site.url + "chunked-gzip.html"].content == CHUNKED_GZIP_HTML
    chunked_head = responses[site.url + "chunked.html"].raw_block.partition(b"\r\n\r\n")[0]
    assert b"\r\nX-Crawler-Transfer-Encoding: chunked" in chunked_head
    assert b"\r\nContent-Length: %d" % len(CHUNKED_HTML) in chunked_head
    cookies = [v for k, v in responses[site.url + "cookies"].http_headers if k == "Set-Cookie"]
    assert len(cookies) == 2
    assert responses[site.url + "gone"].status_line.startswith("HTTP/1.1 410")
    assert responses[site.url + "missing"].status_line.startswith("HTTP/1.1 404")
    assert responses[site.url + "query?a=1&b=two"].content == b"/query?a=1&b=two"


def test_each_redirect_is_its_own_pair(crawled):
    site, home, _ = crawled
    responses = responses_by_url(home)
    chain = responses[site.url + "redirect-chain"]
    assert chain.status_line.startswith("HTTP/1.1 301")
    assert ("Location", "/redirect") in chain.http_headers or any(
        k == "Location" and v.endswith("/redirect") for k, v in chain.http_headers
    )
    assert responses[site.url + "redirect"].status_line.startswith("HTTP/1.1 302")
    rows = {r["url"]: r for r in captures_json(home)}
    assert rows[site.url + "redirect-chain"]["final_url"] == site.url + "redirect"
    assert rows[site.url + "redirect"]["http_status"] == 302


def test_catalog_rows_point_at_their_records(crawled):
    site, home, _ = crawled
    rows = captures_json(home, "--job", "e2e")
    assert len(rows) >= 14
    by_file = {w.name: w for w in warc_files(home)}
    for row in rows:
        assert re.fullmatch(r"[3-9A-Z]{4}-[3-9A-Z]{4}", row["id"])
        assert row["state"] == "ok", row
        assert row["storage_uri"] == by_file[row["warc_file"]].as_uri()
        block = raw_block(by_file[row["warc_file"]], row["offset"], row["length"])
        assert "sha256:" + hashlib.sha256(block).hexdigest() == row["record_digest"]
        [rec] = [r for r in read_warc(by_file[row["warc_file"]]) if r.offset == row["offset"]]
        assert rec.type == "response"
        assert rec.headers["WARC-Target-URI"] == row["url"]
        assert rec.headers["WARC-Record-ID"] == row["record_id"]
        assert rec.headers["WARC-Payload-Digest"] == row["payload_digest"]
        assert rec.headers["WARC-Date"] == row["captured_at"]
    kinds = {r["url"]: r for r in catalog_rows(home)}
    assert kinds[site.url]["kind"] == "seed"
    assert kinds[site.url + "page2.html"]["kind"] == "page"
    assert kinds[site.url + "page2.html"]["hops"] == 1
    assert kinds[site.url + "style.css"]["kind"] == "requisite"
    assert kinds[site.url + "page2.html"]["via"] == site.url


def test_metadata_records_carry_lineage_and_outlinks(crawled):
    site, home, _ = crawled
    [warc] = warc_files(home)
    records = read_warc(warc)
    response = next(
        r for r in records if r.type == "response" and r.headers["WARC-Target-URI"] == site.url
    )
    response_id = response.headers["WARC-Record-ID"]
    meta = next(
        r for r in records
        if r.type == "metadata" and r.headers["WARC-Concurrent-To"] == response_id
    )  # fmt: skip
    text = meta.content.decode()
    assert "seed: 1" in text and "job: e2e" in text and "linkHops: 0" in text
    assert f"outlink: {site.url}page2.html L" in text
    assert f"outlink: {site.url}style.css E" in text


def test_get_writes_a_valid_standalone_warc(crawled, tmp_path):
    site, home, _ = crawled
    row = next(r for r in captures_json(home) if r["url"] == site.url + "page2.html")
    out = tmp_path / "evidence.warc.gz"
    result = archiver(home, "get", row["id"].lower().replace("-", ""), "-o", str(out))
    assert result.returncode == 0, result.stderr
    check = subprocess.run([BIN / "warcio", "check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    records = read_warc(out)
    assert [r.type for r in records] == ["warcinfo", "request", "response", "metadata"]
    assert records[2].content == (site.root / "page2.html").read_bytes()
    assert records[2].headers["WARC-Record-ID"] == row["record_id"]


def test_cite_is_complete(crawled):
    site, home, _ = crawled
    row = next(r for r in captures_json(home) if r["url"] == site.url + "page2.html")
    result = archiver(home, "cite", row["id"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for needed in (row["url"], row["id"], row["payload_digest"].removeprefix("sha256:"),
                   row["captured_at"].replace("T", " ").replace("Z", ""), row["storage_uri"],
                   row["title"]):  # fmt: skip
        assert needed and needed in text, needed


@pytest.mark.parametrize("tamper", ["warc-bytes", "catalog-digest"])
@pytest.mark.sqlite_only  # tampers with the SQLite file
def test_get_refuses_bytes_that_do_not_match(fixture_site, tmp_path, tamper):
    home = tmp_path / "home"
    assert archiver(home, "crawl", "--profile", "test", fixture_site.url).returncode == 0
    row = next(r for r in captures_json(home) if r["url"] == fixture_site.url)
    warc = next(w for w in warc_files(home) if w.name == row["warc_file"])
    if tamper == "warc-bytes":
        data = bytearray(warc.read_bytes())
        data[row["offset"] + row["length"] - 12] ^= 0x01  # a bit inside the stored member
        warc.write_bytes(bytes(data))
        expected = "record is damaged"
    else:
        conn = sqlite3.connect(home / "catalog.sqlite")
        with conn:
            conn.execute(
                "UPDATE captures SET payload_digest = ? WHERE id = ?",
                ("sha256:" + "0" * 64, row["id"]),
            )
        conn.close()
        expected = "WARC-Payload-Digest in the WARC is"
    out = tmp_path / "bad.warc.gz"
    result = archiver(home, "get", row["id"], "-o", str(out))
    assert result.returncode == 3, result.stdout + result.stderr
    assert result.stderr.startswith(f"Error: capture {row['id']}")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("*.partial"))


PYWB_REPLAY = """
import json, sys
from webtest import TestApp
from pywb.apps.frontendapp import FrontEndApp
app = TestApp(FrontEndApp())
out = {}
for url in json.loads(sys.argv[1]):
    r = app.get(f"/{sys.argv[2]}/2030id_/" + url, expect_errors=True)
    out[url] = [r.status_int, r.body.hex()]
print(json.dumps(out))
"""


def test_pywb_replays_the_captures(crawled, tmp_path):
    """pywb, the replay system researchers use, indexes our WARCs and serves the
    original bytes back (id_ mode: the archived payload, unmodified); so it does from
    our own CDXJ indexes (collection "own": the WARCs beside archiver's .cdxj files)."""
    site, home, _ = crawled
    work = tmp_path / "pywb"
    work.mkdir()
    manager = BIN / "wb-manager"
    run = {"cwd": work, "capture_output": True, "text": True, "timeout": 120}
    assert subprocess.run([manager, "init", "c"], **run).returncode == 0
    added = subprocess.run([manager, "add", "c", *map(str, warc_files(home))], **run)
    assert added.returncode == 0, added.stderr
    assert subprocess.run([manager, "init", "own"], **run).returncode == 0
    for warc in warc_files(home):
        shutil.copy(warc, work / "collections/own/archive" / warc.name)
        index = warc.parent / (warc.name + ".cdxj")
        shutil.copy(index, work / "collections/own/indexes" / index.name)
    names = ["index.html", "page2.html", "style.css", "img/logo.png", "gzip.html", "chunked.html"]
    urls = [site.url + name for name in names]
    for collection in ("c", "own"):
        replay = subprocess.run(
            [sys.executable, "-c", PYWB_REPLAY, json.dumps(urls), collection], **run
        )  # fmt: skip
        assert replay.returncode == 0, replay.stderr
        check_replayed(site, names, urls, json.loads(replay.stdout.strip().splitlines()[-1]))


def check_replayed(site, names, urls, served):  # type: ignore[no-untyped-def]
    for name, url in zip(names, urls, strict=True):
        status, body = served[url]
        assert status == 200, name
        expected = (site.root / name).read_bytes() if (site.root / name).exists() else None
        if expected is not None:
            assert bytes.fromhex(body) == expected, name
    assert bytes.fromhex(served[site.url + "gzip.html"][1]) == GZIP_HTML
    assert bytes.fromhex(served[site.url + "chunked.html"][1]) == CHUNKED_HTML


def test_captures_lookup_by_url_in_any_spelling(crawled):
    site, home, _ = crawled
    port = site.url.rsplit(":", 1)[1].rstrip("/")
    spelled = f"HTTP://127.0.0.1:{port}/page2.html#top"
    rows = captures_json(home, "--url", spelled)
    assert [r["url"] for r in rows] == [site.url + "page2.html"]
    assert captures_json(home, "--url", site.url + "nothing-here") == []


def test_cite_formats_from_the_cli(crawled):
    site, home, _ = crawled
    rows = [r for r in captures_json(home) if r["url"] in (site.url, site.url + "page2.html")]
    ids = [r["id"] for r in rows]
    csl = archiver(
        home, "cite", *ids, "--format", "csl-json", "--replay-base", "http://r.example/a"
    )
    assert csl.returncode == 0, csl.stderr
    items = json.loads(csl.stdout)
    assert [i["id"] for i in items] == ids
    assert all(i["archive_location"].startswith("http://r.example/a/") for i in items)
    # What page2 states about itself (og:site_name, article:published_time) is cited;
    # the index page states nothing, so nothing is claimed for it.
    by_url = {i["URL"]: i for i in items}
    assert by_url[site.url + "page2.html"]["container-title"] == "Fixture Watch"
    assert by_url[site.url + "page2.html"]["issued"] == {"date-parts": [[2020, 2, 11]]}
    assert "issued" not in by_url[site.url] and by_url[site.url]["container-title"] == "127.0.0.1"
    as_json = archiver(home, "cite", ids[0], "--format", "bibtex", "--json")
    [data] = json.loads(as_json.stdout)
    assert data["capture_id"] == ids[0] and data["citation"].startswith("@online{")
    assert data["payload_digest"] == rows[0]["payload_digest"]
    bad = archiver(home, "cite", ids[0], "--format", "mla")
    assert bad.returncode == 2 and "Invalid value for '--format'" in bad.stderr


def test_each_warc_has_a_cdxj_index_beside_it(crawled):
    site, home, _ = crawled
    rows = {r["record_id"]: r for r in captures_json(home)}
    files = catalog_rows(home, "SELECT name, storage_uri, index_uri FROM warc_files")
    for f in files:
        assert f["index_uri"] == f["storage_uri"] + ".cdxj"
        [warc] = [w for w in warc_files(home) if w.name == f["name"]]
        lines = (warc.parent / (warc.name + ".cdxj")).read_text().splitlines()
        assert lines == sorted(lines)
        by_offset = {int(json.loads(line.split(" ", 2)[2])["offset"]): line for line in lines}
        for row in rows.values():
            if row["warc_file"] == f["name"] and row["state"] == "ok":
                key, stamp, data = by_offset[row["offset"]].split(" ", 2)
                fields = json.loads(data)
                assert fields["url"] == row["url"] and fields["filename"] == f["name"]
                assert int(fields["length"]) == row["length"]
                assert fields["digest"] == row["payload_digest"]
                assert stamp == row["captured_at"][:19].replace("-", "").replace("T", "").replace(
                    ":", ""
                )
