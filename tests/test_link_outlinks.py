"""`<link href>` outlinks (search, feeds, next, canonical) in a real crawl of a doc-like site."""

from __future__ import annotations

from pathlib import Path

import pytest
from pgserver import module_catalog
from servers import FixtureSite
from warcs import archiver, captures_json, read_warc, warc_files

INDEX = b"""<!doctype html><html><head><meta charset="utf-8"><title>Docs</title>
<link rel="stylesheet" href="_static/basic.css">
<link rel="Alternate Stylesheet" title="dark" href="_static/dark.css">
<link rel="search" type="application/opensearchdescription+xml" title="Search"
      href="_static/opensearch.xml">
<link rel="alternate" type="application/atom+xml" title="Changes" href="feed.atom">
<link rel="next" title="Introduction" href="intro.html">
<link rel="canonical" href="/docs/index.html">
<link rel="license" href="/legal/license.html">
<link rel="preconnect" href="/docs/hint.html">
</head><body><h1>Docs</h1><p>The documentation of a project.</p></body></html>
"""

FILES = {
    "docs/index.html": INDEX,
    "docs/_static/basic.css": b"body { margin: 0 }\n",
    "docs/_static/dark.css": b"body { background: #000 }\n",
    "docs/_static/opensearch.xml": (
        b'<?xml version="1.0"?>\n<OpenSearchDescription '
        b'xmlns="http://a9.com/-/spec/opensearch/1.1/"><ShortName>Docs</ShortName>'
        b'<Url type="text/html" template="search.html?q={searchTerms}"/></OpenSearchDescription>\n'
    ),
    "docs/feed.atom": (
        b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        b"<title>Changes</title></feed>\n"
    ),
    "docs/intro.html": b"<!doctype html><title>Introduction</title><p>Hello.</p>\n",
    "docs/hint.html": b"<!doctype html><title>Hint</title>\n",
    "legal/license.html": b"<!doctype html><title>License</title>\n",
}


# The tests read one crawl: in the PostgreSQL run, its catalog is the module's own.
pytestmark = [pytest.mark.own_catalog, pytest.mark.xdist_group("link_outlinks")]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    root = tmp_path_factory.mktemp("docsite")
    for name, data in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    home: Path = tmp_path_factory.mktemp("links") / "home"
    with FixtureSite(root) as site, module_catalog():
        seed = site.url + "docs/index.html"
        added = archiver(home, "seeds", "add", seed, "--scope", "prefix")
        assert added.returncode == 0, added.stderr
        result = archiver(home, "crawl", "--profile", "test", "--job", "links")
        assert result.returncode == 0, result.stderr
        yield site, home


def test_link_outlinks_in_scope_are_captured(crawled):
    site, home = crawled
    rows = {row["url"]: row for row in captures_json(home)}
    docs = site.url + "docs/"
    for name in ("_static/opensearch.xml", "feed.atom", "intro.html"):
        assert rows[docs + name]["http_status"] == 200, name
    responses = {
        rec.headers["WARC-Target-URI"]: rec
        for warc in warc_files(home)
        for rec in read_warc(warc)
        if rec.type == "response"
    }
    assert (
        responses[docs + "_static/opensearch.xml"].content == FILES["docs/_static/opensearch.xml"]
    )
    assert responses[docs + "feed.atom"].content == FILES["docs/feed.atom"]
    # An alternate stylesheet stays a requisite.
    assert responses[docs + "_static/dark.css"].content == FILES["docs/_static/dark.css"]


def test_out_of_scope_and_hint_links_are_recorded_not_fetched(crawled):
    site, home = crawled
    assert "/legal/license.html" not in site.requests  # outside the seed's prefix
    assert "/docs/hint.html" not in site.requests  # rel=preconnect: not a link
    urls = {row["url"] for row in captures_json(home)}
    assert site.url + "legal/license.html" not in urls
    records = [rec for warc in warc_files(home) for rec in read_warc(warc)]
    index = next(
        r for r in records
        if r.type == "response" and r.headers["WARC-Target-URI"] == site.url + "docs/index.html"
    )  # fmt: skip
    meta = next(
        r for r in records
        if r.type == "metadata"
        and r.headers.get("WARC-Concurrent-To") == index.headers["WARC-Record-ID"]
    )  # fmt: skip
    text = meta.content.decode()
    assert f"outlink: {site.url}docs/_static/opensearch.xml L" in text
    assert f"outlink: {site.url}legal/license.html L" in text  # listed, though not followed
    assert f"outlink: {site.url}docs/_static/dark.css E" in text
    assert "hint.html" not in text
