"""Browser capture of JavaScript-rendered posts: Debian's chromium against a local
"social post" site whose text and images arrive only through fetch() after load."""

from __future__ import annotations

import csv
import gzip
import itertools
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from mutablesite import MutableSite, Reply, page
from pgserver import module_catalog
from socialsite import MORE_TEXT, POST_TEXT, social_site
from warcs import archiver, captures_json, read_warc, warc_files

BIN = Path(sys.executable).parent
CHROMIUM = shutil.which("chromium")
# CI installs chromium (.ci/run); elsewhere the browser tests wait for it.
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)
# One worker runs the module, so the post's browser crawl (post_crawl) is made once.
pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture
def site():
    with MutableSite() as running:
        yield social_site(running)


@pytest.fixture(scope="module")
def post_crawl(tmp_path_factory):
    """One browser crawl of a post, seeded through its redirect, shared by the tests that
    only read what it wrote: (home, site, the crawl's result, the site's request log)."""
    if CHROMIUM is None and not os.environ.get("CI"):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    home = tmp_path_factory.mktemp("post") / "home"
    with MutableSite() as running, module_catalog():
        site = social_site(running)
        assert archiver(home, "seeds", "add", site.url + "go/1", "--browser").returncode == 0
        result = crawl(home, "post")
        yield home, site, result, list(site.requests)


def crawl(home, job, *extra):  # type: ignore[no-untyped-def]
    result = archiver(home, "crawl", "--profile", "test", "--job", job, *extra, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def records_of(home):  # type: ignore[no-untyped-def]
    return [r for w in warc_files(home) for r in read_warc(w)]


def uri(record) -> str:  # type: ignore[no-untyped-def]
    return record.headers.get("WARC-Target-URI", "")


def responses(records, url):  # type: ignore[no-untyped-def]
    return [r for r in records if r.type in ("response", "revisit") and uri(r) == url]


@needs_chromium
@pytest.mark.own_catalog  # post_crawl's
def test_a_post_rendered_by_javascript_is_captured_whole(tmp_path, post_crawl):
    home, site, result, requests = post_crawl
    assert "browser pages: 1, 0 suspect" in result.stdout, result.stdout
    records = records_of(home)
    assert not [p for r in records for p in r.digest_problems]
    # The seed's redirect is a hop of its own, then the post; everything the page loaded
    # through fetch() is there: the JSON API, the "Show more" call, the image behind a
    # redirect, and the lazy image far below the fold.
    assert responses(records, site.url + "go/1")[0].status_line.split()[1] == "301"
    for path in ("post/1", "static/app.js", "static/app.css", "api/post/1.json",
                 "api/post/1/more.json", "media/moved.png", "media/photo.png",
                 "media/lazy.png"):  # fmt: skip
        assert responses(records, site.url + path), path
    post = responses(records, site.url + "post/1")[0]
    # The shell as the server sent it, not the DOM the browser made of it.
    assert b"Loading" in post.content and POST_TEXT.encode() not in post.content
    dom = [r for r in records if uri(r) == "urn:dom:" + site.url + "post/1"]
    shot = [r for r in records if uri(r) == "urn:fullPage:" + site.url + "post/1"]
    assert len(dom) == 1 and len(shot) == 1
    assert dom[0].type == shot[0].type == "resource"
    assert POST_TEXT.encode() in dom[0].raw_block and MORE_TEXT.encode() in dom[0].raw_block
    assert shot[0].raw_block.startswith(b"\x89PNG\r\n\x1a\n")
    assert shot[0].headers["Content-Type"] == "image/png"
    for resource in (dom[0], shot[0]):
        assert resource.headers["WARC-Concurrent-To"] == post.headers["WARC-Record-ID"]
    # The page's metadata record lists what it loaded.
    metadata = [r for r in records if r.type == "metadata" and uri(r) == site.url + "post/1"]
    assert b"api/post/1.json E" in metadata[0].raw_block
    assert b"quality: ok" in metadata[0].raw_block
    # Nothing the browser asked for reached the server outside the WARC.
    asked = {site.url + path.lstrip("/") for path, _ in requests}
    recorded = {uri(r) for r in records if r.type == "request"}
    assert asked <= recorded, asked - recorded
    # Catalog and CLI: the capture lists its screenshot and DOM.
    rows = {r["url"]: r for r in captures_json(home)}
    row = rows[site.url + "post/1"]
    assert row["quality"] == "ok" and row["quality_reason"] is None
    assert [r["kind"] for r in row["resources"]] == ["screenshot", "dom", "text"]
    assert rows[site.url + "api/post/1.json"]["kind"] == "requisite"
    listing = archiver(home, "captures", "--job", "post")
    assert "[browser: screenshot, dom, text]" in listing.stdout, listing.stdout
    # get: the records by byte range, digest-checked; the screenshot on its own.
    got = archiver(home, "get", row["id"], "-o", str(tmp_path / "post.warc.gz"))
    assert got.returncode == 0, got.stderr
    types = [r.type for r in read_warc(tmp_path / "post.warc.gz")]
    assert types == ["warcinfo", "request", "response", "metadata"] + ["resource"] * 3
    png_path = tmp_path / "shot.png"
    got = archiver(home, "get", row["id"], "--resource", "screenshot", "-o", str(png_path))
    assert got.returncode == 0, got.stderr
    assert png_path.read_bytes() == shot[0].raw_block
    text_path = tmp_path / "post.txt"
    got = archiver(home, "get", row["id"], "--resource", "text", "-o", str(text_path))
    assert got.returncode == 0, got.stderr
    assert POST_TEXT in text_path.read_text() and "Loading" not in text_path.read_text()
    assert archiver(home, "verify", "--job", "post").returncode == 0


@needs_chromium
@pytest.mark.own_catalog  # post_crawl's
def test_browser_capture_is_read_by_independent_tools(tmp_path, post_crawl):
    home, site, _, _ = post_crawl
    for path in warc_files(home):
        check = subprocess.run(
            [BIN / "warcio", "check", "-v", str(path)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([BIN / "cdxj-indexer", str(path)], capture_output=True, text=True)
        assert index.returncode == 0, index.stderr
        assert "urn:fullpage:" in index.stdout.lower() and "api/post/1.json" in index.stdout
    # The post exported alone brings what it loaded, its screenshot and DOM.
    post_id = next(r["id"] for r in captures_json(home) if r["url"] == site.url + "post/1")
    out = tmp_path / "post.wacz"
    exported = archiver(home, "export", "--capture", post_id, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(out) as wacz:
        index = gzip.decompress(wacz.read("indexes/index.cdx.gz")).decode()
    assert "urn:fullpage:" in index.lower() and "media/lazy.png" in index
    from test_export import wacz_validate

    wacz_validate(out)


@needs_chromium
def test_a_login_wall_is_suspect_and_fetched_again(tmp_path, site):
    home = tmp_path / "home"
    archiver(home, "seeds", "add", site.url + "post/wall", "--browser")
    result = crawl(home, "wall", "-s", "ARCHIVER_SUSPECT_RETRY_DELAY=0.5")
    assert "browser pages: 2, 2 suspect" in result.stdout, result.stdout
    assert "SUSPECT:" in result.stdout and "login wall" in result.stdout
    suspects = captures_json(home, "--suspect")
    assert len(suspects) == 2  # the capture and its one retry (ARCHIVER_SUSPECT_RETRIES=1)
    assert all(s["quality_reason"].startswith("login wall") for s in suspects)
    listing = archiver(home, "captures", "--suspect")
    assert listing.stdout.count("[suspect: login wall") == 2, listing.stdout
    # What the wall looked like is kept: it is evidence too.
    dom = [r for r in records_of(home) if uri(r).startswith("urn:dom:")]
    assert dom and b"Log in to see this post" in dom[0].raw_block


SHORT_POST = "律师被带走了，家人不知情"  # a real post can be this short: 12 characters


@needs_chromium
def test_a_short_chinese_post_is_not_an_empty_render(tmp_path):
    """Text is counted by script: twelve Chinese characters are a post; a page showing
    only a loading notice is still an empty render."""
    from mutablesite import Reply

    def doc(text: str) -> bytes:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>微博正文</title></head>"
            f"<body><p>{text}</p></body></html>"
        ).encode()

    home = tmp_path / "home"
    with MutableSite() as site:
        site.set("/post/short", Reply(body=doc(SHORT_POST)))
        site.set("/post/loading", Reply(body=doc("加载中…")))
        added = archiver(home, "seeds", "add", site.url + "post/short", site.url + "post/loading",
                         "--browser")  # fmt: skip
        assert added.returncode == 0, added.stderr
        result = crawl(home, "short", "-s", "ARCHIVER_SUSPECT_RETRY_DELAY=0.5")
    # The loading page and its one retry are suspect; the post is not.
    assert "browser pages: 3, 2 suspect" in result.stdout, result.stdout
    rows = {(r["url"], r["quality"], r["quality_reason"]) for r in captures_json(home)}
    assert (site.url + "post/short", "ok", None) in rows
    assert (
        site.url + "post/loading",
        "suspect",
        "empty render: 4 characters of text and no media",
    ) in rows
    text = [r for r in records_of(home) if uri(r) == "urn:text:" + site.url + "post/short"]
    assert text and SHORT_POST.encode() in text[0].raw_block


@needs_chromium
@pytest.mark.sqlite_only  # two homes, so two catalogs
def test_browser_hosts_and_the_http_path_side_by_side(tmp_path, site):
    """A host listed in ARCHIVER_BROWSER_HOSTS takes the browser without --browser; a
    seed on another host keeps the HTTP path (its requisites fetched by the spider)."""
    home = tmp_path / "home"
    seeds = tmp_path / "seeds.csv"
    with seeds.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["url", "browser"])
        writer.writerow([site.url + "post/1", "yes"])
        writer.writerow([site.url.replace("127.0.0.1", "localhost") + "static/app.css", "no"])
    imported = archiver(home, "seeds", "import", str(seeds))
    assert imported.returncode == 0, imported.stderr
    shown = archiver(home, "seeds", "list")
    assert shown.stdout.count(", browser") == 1, shown.stdout
    crawl(home, "mixed")
    rows = captures_json(home)
    assert [r["quality"] for r in rows if r["url"].endswith("post/1")] == ["ok"]
    assert [r["quality"] for r in rows if r["url"].endswith("app.css")] == [None, None]
    # By host, without --browser:
    other = tmp_path / "other"
    archiver(other, "seeds", "add", site.url + "post/1")
    crawl(other, "by-host", "-s", "ARCHIVER_BROWSER_HOSTS=127.0.0.1")
    assert [r["quality"] for r in captures_json(other) if r["url"].endswith("post/1")] == ["ok"]


@needs_chromium
def test_the_browser_requests_keep_the_hosts_politeness_and_address_policy(
    tmp_path, site, monkeypatch
):
    """The browser's requests wait out the host's delay like any fetch, and one to an
    address the policy refuses is never sent. (The refused address is on loopback as
    well, so a broken policy would still send nothing off this machine.)"""
    monkeypatch.delenv("ARCHIVER_ALLOW_PRIVATE_NETWORKS", raising=False)
    home = tmp_path / "home"
    tracker = site.url.replace("127.0.0.1", "127.0.0.2") + "tracker.png"
    extra = f"<img src='{tracker}' width=10 height=10>"
    text = "A static post with enough words in it to be a page of its own."
    site.set("/post/policy", Reply(body=page("Policy", text, extra)))
    archiver(home, "seeds", "add", site.url + "post/policy", site.url + "post/1", "--browser")
    delay = 0.4
    crawl(home, "polite", "-s", f"DOWNLOAD_DELAY={delay}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=0",
          "-s", "ARCHIVER_ALLOW_NETWORKS=127.0.0.1/32")  # fmt: skip
    # When the crawler sent each request (its request record's WARC-Date, ms): a busy
    # server thread can log an arrival late, which made server-side gaps look short.
    sent = sorted(
        datetime.fromisoformat(r.headers["WARC-Date"].replace("Z", "+00:00")).timestamp()
        for r in records_of(home)
        if r.type == "request" and uri(r).startswith(site.url)
    )
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert len(site.times) >= 10 and len(sent) == len(site.times), (sent, site.times)
    # Each request waited its turn: no burst, and over the whole crawl the host saw no more
    # than one request per delay. (A single gap may be a little short: a request written
    # a few ms late after leaving its slot shortens the gap to the next one.)
    assert min(gaps) >= delay / 2, gaps
    assert sent[-1] - sent[0] >= (len(sent) - 1) * delay * 0.97, gaps
    rows = {r["url"]: r for r in captures_json(home)}
    refused = rows[tracker]
    assert refused["state"] == "failed" and "loopback" in refused["error"].lower(), refused


@pytest.mark.sqlite_only  # reads the SQLite file itself
def test_without_chromium_browser_seeds_are_refused_and_http_still_works(tmp_path):
    with MutableSite() as site:
        site.set("/a", Reply(body=page("A", "static page")))
        home = tmp_path / "home"
        archiver(home, "seeds", "add", site.url + "a")
        missing = ("-s", "ARCHIVER_CHROMIUM=/nonexistent/chromium")
        result = archiver(home, "crawl", "--profile", "test", "--job", "http", *missing)
        assert result.returncode == 0, result.stderr  # no seed needs the browser
        archiver(home, "seeds", "add", site.url + "b", "--browser")
        result = archiver(home, "crawl", "--profile", "test", "--job", "both", *missing)
    assert result.returncode == 1
    assert "apt-get install chromium" in result.stderr and "Traceback" not in result.stderr
    assert site.url + "b" in result.stderr
    conn = sqlite3.connect(home / "catalog.sqlite")
    assert conn.execute("SELECT name FROM jobs").fetchall() == [("http",)]


def test_seed_browser_column_is_checked(tmp_path):
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("url,browser\nhttps://example.org/a,perhaps\n")
    result = archiver(tmp_path / "home", "seeds", "import", str(seeds))
    assert result.returncode != 0
    assert "invalid browser 'perhaps': use yes or no" in result.stderr + result.stdout


@needs_chromium
def test_a_watched_browser_seed_is_judged_by_what_it_shows(tmp_path, site):
    """The shell stays byte for byte the same; the post in it changes, then turns into the
    platform's "unavailable" placeholder: changed, then a confirmed removal."""
    import json

    from mutablesite import Reply

    home = tmp_path / "home"
    archiver(home, "seeds", "add", site.url + "post/1", "--browser")
    fast = ("-s", "ARCHIVER_CONFIRM_DELAY=0.5", "-s", "ARCHIVER_SUSPECT_RETRY_DELAY=0.5")
    crawl(home, "first", *fast)
    edited = {"text": POST_TEXT + " (edited)", "image": "/media/photo.png"}
    site.set("/api/post/1.json", Reply(body=json.dumps(edited).encode(),
                                       content_type="application/json"))  # fmt: skip
    crawl(home, "second", *fast)
    records = records_of(home)
    second = [r for r in records if r.type == "revisit" and uri(r) == site.url + "post/1"]
    assert second, "the unchanged shell is a revisit"
    metadata = [r for r in records if r.type == "metadata" and uri(r) == site.url + "post/1"]
    assert all(b"api/post/1.json E" in m.raw_block for m in metadata)  # revisit too
    gone = {"text": "This post is no longer available.", "image": ""}
    site.set("/api/post/1.json", Reply(body=json.dumps(gone).encode(),
                                       content_type="application/json"))  # fmt: skip
    result = crawl(home, "third", *fast)
    assert "is removed" in result.stdout, result.stdout
    shown = json.loads(archiver(home, "seeds", "show", "1", "--json").stdout)
    statuses = [t["status"] for t in shown["timeline"]]
    assert statuses[:2] == ["captured", "changed"], statuses
    assert statuses[-2:] == ["removed", "removed"], statuses
    listed = json.loads(archiver(home, "events", "--json").stdout)
    assert [e["kind"] for e in listed] == ["removed"]
    assert "unavailable placeholder" in listed[0]["reason"]


@needs_chromium
@pytest.mark.own_catalog  # post_crawl's
def test_pywb_replays_what_the_browser_loaded(tmp_path, post_crawl):
    """pywb serves the post's shell, its JSON API answer and the lazy image back as the
    server sent them (id_ mode), from the WARC the browser capture wrote."""
    import json
    import subprocess

    from test_crawl_e2e import PYWB_REPLAY

    home, site, _, _ = post_crawl
    work = tmp_path / "pywb"
    work.mkdir()
    run = {"cwd": work, "capture_output": True, "text": True, "timeout": 120}
    assert subprocess.run([BIN / "wb-manager", "init", "c"], **run).returncode == 0
    added = subprocess.run([BIN / "wb-manager", "add", "c", *map(str, warc_files(home))], **run)
    assert added.returncode == 0, added.stderr
    paths = ["post/1", "api/post/1.json", "api/post/1/more.json", "media/lazy.png"]
    urls = [site.url + path for path in paths]
    replay = subprocess.run([sys.executable, "-c", PYWB_REPLAY, json.dumps(urls), "c"], **run)
    assert replay.returncode == 0, replay.stderr
    served = json.loads(replay.stdout.strip().splitlines()[-1])
    for path, url in zip(paths, urls, strict=True):
        status, body = served[url]
        assert status == 200, path
        assert bytes.fromhex(body) == site.routes["/" + path][0].body, path
