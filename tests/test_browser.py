"""Browser capture of JavaScript-rendered posts (Debian's chromium, on loopback)."""

from __future__ import annotations

import os
import shutil

import pytest
from mutablesite import MutableSite
from socialsite import MORE_TEXT, POST_TEXT, social_site
from warcs import archiver, captures_json, catalog_rows, read_warc, warc_files

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (.ci/run installs it)",
)


@pytest.fixture
def site():
    with MutableSite() as running:
        yield social_site(running)


def crawl(home, job, *extra):  # type: ignore[no-untyped-def]
    return archiver(home, "crawl", "--profile", "test", "--job", job, *extra, timeout=300)


@needs_chromium
def test_a_post_rendered_by_javascript_is_captured_whole(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "post/1", "--browser").returncode == 0
    result = crawl(home, "post")
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    records = [r for w in warc_files(home) for r in read_warc(w)]
    uris = {(r.type, r.headers.get("WARC-Target-URI")) for r in records}
    for path in ("post/1", "static/app.js", "api/post/1.json", "api/post/1/more.json",
                 "media/photo.png", "media/lazy.png"):  # fmt: skip
        assert ("response", site.url + path) in uris, path
    assert ("resource", "urn:fullPage:" + site.url + "post/1") in uris
    assert ("resource", "urn:dom:" + site.url + "post/1") in uris
    by_uri = {r.headers.get("WARC-Target-URI"): r for r in records if r.type != "request"}
    dom = next(r for r in records if r.headers.get("WARC-Target-URI", "").startswith("urn:dom:"))
    shot = next(r for r in records if r.headers.get("WARC-Target-URI", "").startswith("urn:full"))
    assert POST_TEXT.encode() in dom.raw_block and MORE_TEXT.encode() in dom.raw_block
    assert shot.raw_block.startswith(b"\x89PNG\r\n\x1a\n")
    assert shot.headers["Content-Type"] == "image/png"
    page = [r for r in records if r.type == "response" and r.headers["WARC-Target-URI"] == site.url + "post/1"][0]
    assert dom.headers["WARC-Concurrent-To"] == page.headers["WARC-Record-ID"]
    assert shot.headers["WARC-Concurrent-To"] == page.headers["WARC-Record-ID"]
    # The shell as the server sent it, not the rendered DOM.
    assert b"Loading" in page.content and POST_TEXT.encode() not in page.content
    assert not [p for r in records for p in r.digest_problems]
    # Nothing the browser asked for went around the WARC.
    asked = {path.split("?")[0] for path, _ in site.requests}
    recorded = {u.removeprefix(site.url.rstrip("/")) for (t, u) in uris if t == "response"}
    assert asked <= recorded, asked - recorded
    rows = captures_json(home)
    post = next(r for r in rows if r["url"] == site.url + "post/1")
    assert post["quality"] == "ok"
    assert [r["kind"] for r in post["resources"]] == ["screenshot", "dom"]
    print(by_uri.keys())
