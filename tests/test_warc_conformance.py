"""WARC conformance against the WARC 1.1 text and Heritrix's writer: what a truncated
chunked body says of itself, interim responses and trailers, identical-payload revisits,
hop paths, outlink contexts, the warcinfo, robots.txt under ``ignore``, failed fetches."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warcs import archiver, captures_json, catalog_rows, read_warc, warc_files

CHUNKS = (b"<html><title>chunked</title>", b"<p>" + b"x" * 4000 + b"</p></html>")
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTrailer: X-Checksum\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
CHUNKED_BODY = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in CHUNKS)
BIN = Path(sys.executable).parent
EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n"


def fields(record) -> list[tuple[str, str]]:
    text = record.raw_block.decode()
    return [tuple(line.split(": ", 1)) for line in text.split("\r\n") if ": " in line]


def crawl(tmp_path, url, *args, robots="ignore", job="conf", scope=()):
    home = tmp_path / "home"
    added = archiver(home, "seeds", "add", url, "--robots", robots, *scope)
    assert added.returncode == 0, added.stderr
    result = archiver(home, "crawl", "--profile", "test", "--job", job, *args)
    return home, result


def records_of(home):
    return [r for path in warc_files(home) for r in read_warc(path)]


def page_records(records, url):
    return {r.type: r for r in records if r.headers.get("WARC-Target-URI") == url}


def test_interim_responses_and_trailers_are_kept_in_the_metadata_record(tmp_path, raw_server):
    server = raw_server(
        b"HTTP/1.1 100 Continue\r\n\r\n" + EARLY_HINTS + CHUNKED_HEAD + CHUNKED_BODY
        + b"0\r\nX-Checksum: abc123\r\n\r\n"
    )  # fmt: skip
    home, result = crawl(tmp_path, server.url)
    assert result.returncode == 0, result.stderr
    records = records_of(home)
    assert all(not r.digest_problems for r in records)
    page = page_records(records, server.url)
    response, metadata = page["response"], page["metadata"]
    assert response.raw_block.startswith(b"HTTP/1.1 200 OK\r\n")
    assert response.content == b"".join(CHUNKS)
    assert b"Content-Length: %d\r\n" % len(b"".join(CHUNKS)) in response.raw_block
    got = fields(metadata)
    assert ("interimResponse", "HTTP/1.1 100 Continue") in got
    start = got.index(("interimResponse", "HTTP/1.1 103 Early Hints"))
    assert got[start + 1] == ("interimHeader", "Link: </style.css>; rel=preload; as=style")
    assert ("trailer", "X-Checksum: abc123") in got


def readers_accept(home):
    """warcio check, warcio index and cdxj-indexer read every file without complaint."""
    for path in warc_files(home):
        for command in (["warcio", "check", "-v"], ["warcio", "index"], ["cdxj-indexer"]):
            run = subprocess.run(
                [BIN / command[0], *command[1:], str(path)], capture_output=True, text=True
            )
            assert run.returncode == 0 and "error" not in run.stdout.lower(), run.stdout


def test_a_truncated_chunked_body_gets_no_content_length(tmp_path, raw_server):
    body = b"".join(b"1000\r\n" + bytes([65 + i % 26]) * 4096 + b"\r\n" for i in range(20))
    server = raw_server(CHUNKED_HEAD + body + b"0\r\n\r\n")
    home, result = crawl(tmp_path, server.url, "-s", "ARCHIVER_MAX_BODY_BYTES=10000")
    page = page_records(records_of(home), server.url)
    response = page["response"]
    assert response.headers["WARC-Truncated"] == "length"
    head, _, stored = response.raw_block.partition(b"\r\n\r\n")
    assert len(stored) == 10000
    assert b"\r\nX-Crawler-Transfer-Encoding: chunked" in head
    assert b"content-length" not in head.lower()  # nothing presents the cut body as whole
    [row] = [r for r in catalog_rows(home) if r["kind"] == "seed"]
    assert (row["state"], row["truncated"], row["size"]) == ("truncated", "length", 10000)
    readers_accept(home)


def metadata_by_url(records):
    return {
        r.headers["WARC-Target-URI"]: dict(fields(r))
        for r in records
        if r.type == "metadata" and "WARC-Concurrent-To" in r.headers
    }


def test_hop_paths_outlink_contexts_and_fetch_times(tmp_path, fixture_site):
    site = fixture_site
    home, result = crawl(tmp_path, site.url, robots="obey", scope=("--scope", "host"))
    assert result.returncode == 0, result.stderr
    records = records_of(home)
    meta = metadata_by_url(records)
    paths = {url: m.get("hopsFromSeed") for url, m in meta.items()}
    # Heritrix's hop letters: the seed has none, its requisites E, a link's page L,
    # that page's requisites LE, a stylesheet's images EE, a redirect's target LR.
    assert paths[site.url] is None and meta[site.url]["linkHops"] == "0"
    assert paths[site.url + "style.css"] == "E"
    assert paths[site.url + "img/bg.png"] == "EE"
    assert paths[site.url + "page2.html"] == "L"
    assert paths[site.url + "img/photo.png"] == "LE"
    assert paths[site.url + "redirect"] == "L"
    rows = {r["url"]: r for r in captures_json(home)}
    assert rows[site.url + "img/photo.png"]["hop_path"] == "LE"
    assert rows[site.url + "img/photo.png"]["hops"] == 1
    assert rows[site.url]["hop_path"] == ""
    text = next(
        r.raw_block.decode() for r in records
        if r.type == "metadata" and r.headers["WARC-Target-URI"] == site.url
    )  # fmt: skip
    assert f"outlink: {site.url}page2.html L a/@href\r\n" in text
    assert f"outlink: {site.url}style.css E link/@href\r\n" in text
    assert f"outlink: {site.url}img/logo.png E img/@src\r\n" in text
    css = next(
        r.raw_block.decode() for r in records
        if r.type == "metadata" and r.headers["WARC-Target-URI"] == site.url + "style.css"
    )  # fmt: skip
    assert f"outlink: {site.url}img/bg.png E =EMBED_MISC\r\n" in css
    redirect = next(
        r.raw_block.decode() for r in records
        if r.type == "metadata" and r.headers["WARC-Target-URI"] == site.url + "redirect"
    )  # fmt: skip
    assert f"outlink: {site.url}index.html R Location:\r\n" in redirect
    assert all(int(m["fetchTimeMs"]) >= 0 for m in meta.values())
    readers_accept(home)


def test_a_redirect_hop_is_r(tmp_path, fixture_site):
    site = fixture_site
    home, result = crawl(tmp_path, site.url + "redirect-chain", scope=("--scope", "page"))
    assert result.returncode == 0, result.stderr
    meta = metadata_by_url(records_of(home))
    assert meta[site.url + "redirect"]["hopsFromSeed"] == "R"
    assert meta[site.url + "index.html"]["hopsFromSeed"] == "RR"
    assert meta[site.url + "style.css"]["hopsFromSeed"] == "RRE"


def test_resume_keeps_hop_paths(tmp_path, fixture_site):
    """Pages waiting in the frontier keep their hop path across a stop and resume."""
    site = fixture_site
    home, result = crawl(
        tmp_path, site.url, "-s", "CLOSESPIDER_PAGECOUNT=2", "-s", "CONCURRENT_REQUESTS=1",
        robots="obey", job="paths", scope=("--scope", "host"),
    )  # fmt: skip
    done = {r["url"] for r in catalog_rows(home)}
    assert site.url + "img/photo.png" not in done, "the first run should stop early"
    resumed = archiver(
        home, "crawl", "--profile", "test", "--job", "paths", "-s", "CLOSESPIDER_PAGECOUNT=0"
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    meta = metadata_by_url(records_of(home))
    assert meta[site.url + "img/photo.png"]["hopsFromSeed"] == "LE"
    rows = {r["url"]: r for r in catalog_rows(home)}
    assert rows[site.url + "sub/page3.html"]["hop_path"] == "L"


def test_identical_payload_revisits_say_they_are_truncated(tmp_path, fixture_site):
    site = fixture_site
    home, result = crawl(tmp_path, site.url + "page2.html", scope=("--scope", "page"))
    assert result.returncode == 0, result.stderr
    again = archiver(home, "crawl", "--profile", "test", "--job", "again")
    assert again.returncode == 0, again.stderr
    revisits = [r for r in records_of(home) if r.type == "revisit"]
    assert revisits
    for record in revisits:
        assert record.headers["WARC-Profile"].endswith("identical-payload-digest")
        assert record.headers["WARC-Truncated"] == "length"  # WARC 1.1 §6.7.2
    readers_accept(home)


def test_warcinfo_names_the_stack_and_robots_txt_is_archived_under_ignore(tmp_path, raw_server):
    server = raw_server(
        lambda request: b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\n"
        b"User-agent: *\nDisallow: /\n"
        if request.startswith(b"GET /robots.txt ")
        else b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n"
        b"<p>page</p>\n"
    )  # fmt: skip
    home, result = crawl(
        tmp_path, server.url + "page", "-s", "ARCHIVER_FROM=crawl-ops@example.org",
        "-s", "ARCHIVER_OPERATOR=Example Archive",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = records_of(home)
    info = dict(fields(records[0]))
    assert records[0].type == "warcinfo"
    assert info["software"].startswith("archiver/")
    for part in ("Scrapy 2.", "Twisted ", "OpenSSL "):
        assert part in info["software"], info["software"]
    assert info["http-header-from"] == "crawl-ops@example.org"
    assert info["operator"] == "Example Archive"
    assert info["ip"]
    # Dated when its file opened: the time stamp in the file's name.
    stamp = warc_files(home)[0].name.split("-")[1]
    date = records[0].headers["WARC-Date"]
    assert stamp == "".join(c for c in date if c.isdigit()), (stamp, date)
    # The page was fetched (the rules were not applied) and robots.txt archived once.
    paths = sorted(r.split(b" ")[1] for r in server.received)
    assert paths == [b"/page", b"/robots.txt"]
    assert any(b"\r\nFrom: crawl-ops@example.org\r\n" in r for r in server.received)
    robots = [
        r
        for r in records
        if r.type == "response" and r.headers["WARC-Target-URI"].endswith("/robots.txt")
    ]
    assert len(robots) == 1 and robots[0].content == b"User-agent: *\nDisallow: /\n"


def test_a_failed_fetch_leaves_a_metadata_record(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/gone-away"
    home, result = crawl(tmp_path, url)
    assert result.returncode == 1
    records = records_of(home)
    [attempt] = [r for r in records if r.type == "metadata" and r.headers["WARC-Target-URI"] == url]
    got = dict(fields(attempt))
    assert got["fetchError"].startswith("refused:")
    assert got["kind"] == "seed" and got["seed"] == "1"
    [row] = [r for r in catalog_rows(home) if r["url"] == url]
    assert (row["state"], row["captured_at"]) == ("failed", attempt.headers["WARC-Date"])
    assert row["warc_file"] is None  # nothing to retrieve: the WARC shows the attempt
    readers_accept(home)
