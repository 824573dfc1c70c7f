"""Removal notices count where a notice stands (the title, a short page, or the post's own
title gone too), never in a post that quotes one, even in its title: each built-in notice,
judged alone and through a real crawl of a changing site."""

from __future__ import annotations

import json

import pytest
from mutablesite import MutableSite, Reply, page
from test_watch import POST, crawl, events, timeline
from warcs import archiver

from archiver.browser.quality import SHORT
from archiver.watch.classify import Fetch, classify
from archiver.watch.notices import PageText
from archiver.watch.patterns import DEFAULT_PATTERNS, RemovalPatterns

PATTERNS = RemovalPatterns.load()


@pytest.fixture
def site():
    with MutableSite() as running:
        running.set(POST, Reply(body=page("Post 8841", "发出来几分钟就被删了 — the original text")))
        yield running


BUILT_IN = [(host, text) for host, texts in DEFAULT_PATTERNS.items() for text in texts]
CHATTER = "Replies and reposts from readers, one after another, with the usual menus. " * 40


def quoting_post(notice: str, title: str = "Lawyer Wang's statement") -> str:
    """A long post page that quotes the notice, as a report about a removal would."""
    return (
        f"<html><head><title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>My earlier post was hidden; the page said &ldquo;{notice}&rdquo;. Here it is "
        f"again, in full.</p><div>{CHATTER}</div></body></html>"
    )


@pytest.mark.parametrize(("host", "notice"), BUILT_IN)
def test_a_long_post_quoting_a_notice_is_not_removed(host, notice):
    url = f"https://{host}/a/1"
    post = quoting_post(notice)
    first = classify(Fetch(url, 200, text=post, payload_digest="sha256:a"), None, PATTERNS)
    assert first[0] == "captured"
    again = Fetch(url, 200, text=post, payload_digest="sha256:b")
    assert classify(again, "sha256:a", PATTERNS, "Lawyer Wang's statement")[0] == "changed"


@pytest.mark.parametrize(("host", "notice"), BUILT_IN)
def test_a_notice_where_notices_stand_is_removed(host, notice):
    url = f"https://{host}/a/1"
    short = f"<html><head><title>{host}</title></head><body><p>{notice}</p></body></html>"
    assert classify(Fetch(url, 200, text=short), "sha256:a", PATTERNS)[0] == "removed"
    titled = quoting_post("nothing", title=notice)
    assert classify(Fetch(url, 200, text=titled), "sha256:a", PATTERNS)[0] == "removed"
    # A long page with the notice, where the post's own title no longer appears.
    replaced = quoting_post(notice, title=f"{host} home")
    observed, reason = classify(Fetch(url, 200, text=replaced), "sha256:a", PATTERNS, "Post 8841")
    assert observed == "removed" and "'Post 8841' is gone" in reason


@pytest.mark.parametrize(("host", "notice"), BUILT_IN)
def test_a_post_whose_title_quotes_a_notice_is_not_removed(host, notice):
    # Facebook, and X pages served to crawlers, put the post's own text in the <title>.
    url = f"https://{host}/a/1"
    title = f"Jane on X: &quot;{notice}: what they did to my friend&quot;"
    before = f'Jane on X: "{notice}: what they did to my friend"'
    long_post = quoting_post(notice, title=title)
    fetch = Fetch(url, 200, text=long_post, payload_digest="sha256:b")
    assert classify(fetch, "sha256:a", PATTERNS, before)[0] == "changed"
    short_post = f"<html><head><title>{title}</title></head><body><p>{notice}</p></body></html>"
    fetch = Fetch(url, 200, text=short_post, payload_digest="sha256:b")
    assert classify(fetch, "sha256:a", PATTERNS, before)[0] == "changed"


@pytest.mark.parametrize(("host", "notice"), BUILT_IN)
def test_a_post_titled_by_og_title_only_keeps_its_title(host, notice):
    # No <title>: the catalog's title is the og:title, an attribute no reader sees as text.
    url = f"https://{host}/a/1"
    post = (
        '<html><head><meta property="og:title" content="Lawyer Wang&#39;s statement">'
        f"</head><body><p>My earlier post was hidden; the page said &ldquo;{notice}&rdquo;."
        f"</p><div>{CHATTER}</div></body></html>"
    )
    fetch = Fetch(url, 200, text=post, payload_digest="sha256:b")
    assert classify(fetch, "sha256:a", PATTERNS, "Lawyer Wang's statement")[0] == "changed"
    # The same page with another og:title: the post's title is gone.
    other = post.replace("Lawyer Wang&#39;s statement", host)
    observed, reason = classify(Fetch(url, 200, text=other), "sha256:a", PATTERNS, "Lawyer Wang")
    assert observed == "removed" and "'Lawyer Wang' is gone" in reason


@pytest.mark.parametrize(("host", "notice"), BUILT_IN)
def test_a_notice_page_in_place_of_a_known_post_is_removed(host, notice):
    url = f"https://{host}/a/1"
    for title in (notice, host):  # the platform's notice, or its bare name, as the title
        short = f"<html><head><title>{title}</title></head><body><p>{notice}</p></body></html>"
        observed, reason = classify(Fetch(url, 200, text=short), "sha256:a", PATTERNS, "Post 8841")
        assert observed == "removed" and "'Post 8841' is gone" in reason


def test_what_counts_as_a_short_page():
    url = "https://x.com/a/status/1"
    notice = "<p>Account suspended</p>"
    filler = "<p>" + "x" * (SHORT - len("Account suspended") - 1) + "</p>"
    assert classify(Fetch(url, 200, text=notice + filler), "s", PATTERNS)[0] == "removed"
    longer = notice + filler + "<p>x</p>"
    assert classify(Fetch(url, 200, text=longer, payload_digest="t"), "s", PATTERNS)[0] == (
        "changed"
    )
    # Markup, scripts and styles are not visible text: they neither shorten nor lengthen
    # the page, and a notice inside them is not shown.
    padded = notice + "<script>var s = '" + "y" * 50_000 + "';</script><!-- " + "z" * 9000 + " -->"
    assert classify(Fetch(url, 200, text=padded), "s", PATTERNS)[0] == "removed"
    hidden = "<p>A post.</p><script>render({'text': 'Account suspended'})</script>"
    assert classify(Fetch(url, 200, text=hidden, payload_digest="t"), "s", PATTERNS)[0] == "changed"
    attribute = '<p>A post.</p><img alt="Account suspended" src="a.png">'
    assert classify(Fetch(url, 200, text=attribute, payload_digest="t"), "s", PATTERNS)[0] == (
        "changed"
    )


def test_visible_text_of_broken_and_hostile_pages():
    assert PageText.of("<title>T</title><p>Account <b>suspended</b>") == PageText(
        "T", "Account suspended"
    )
    # No </head>: the body is still shown; an unclosed script hides the rest, as a browser would.
    assert PageText.of("<head><title>T</title><body>shown<script>x").text == "shown"
    # Unclosed tags by the hundred thousand cost one pass (a regex retried at each "<"
    # would take hours here).
    hostiles = ("<script>" * 100_000, "<a" * 300_000, "<title>" * 100_000, "<!--" * 100_000)
    hostiles += ("<meta" * 300_000, "<meta property=og:title content=" * 100_000)
    for hostile in hostiles:
        assert PageText.of("<p>Account suspended</p>" + hostile).text == "Account suspended"
    # The og:title is read as the catalog reads it: the first one, in any attribute order.
    meta = '<meta content="A &amp;  B" property="og:title"><meta property="og:title" content="C">'
    assert PageText.of(meta) == PageText("", "", "A & B")


def test_posts_quoting_notices_are_not_removals_but_notices_are(tmp_path, site):
    # Every built-in notice applies to the local site, so the crawl judges the pages the
    # way it judges Weibo, WeChat, X, Telegram and Facebook posts.
    home = tmp_path / "home"
    patterns = tmp_path / "patterns.json"
    patterns.write_text(json.dumps({"127.0.0.1": [text for _, text in BUILT_IN]}))
    env_patterns = ("-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}")
    assert archiver(home, "seeds", "add", site.url + POST[1:], "--scope", "page").returncode == 0
    crawl(home, *env_patterns)
    quotes = "".join(f"<blockquote>{text}</blockquote>" for _, text in BUILT_IN)
    long_post = page("Post 8841", "What the platforms told us, word for word:", quotes + CHATTER)
    site.set(POST, Reply(body=long_post))
    crawl(home, *env_patterns)
    assert timeline(home) == [("captured", True), ("changed", True)]
    assert events(home) == []
    # The platform's page in place of the post: long (menus, trends), with the notice,
    # and the post's title is nowhere on it.
    notice_page = page("Weibo", "抱歉，此微博已被作者删除。", CHATTER)
    site.set(POST, Reply(body=notice_page))
    crawl(home, *env_patterns)
    [event] = events(home)
    assert event["kind"] == "removed" and "'Post 8841' is gone" in event["reason"]


def test_a_short_notice_page_is_removed(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", "--scope", "page", site.url + POST[1:]).returncode == 0
    crawl(home)
    patterns = tmp_path / "patterns.json"
    patterns.write_text(json.dumps({"127.0.0.1": DEFAULT_PATTERNS["x.com"]}))
    # A short reply that quotes the notice under the post's own title is the post.
    site.set(POST, Reply(body=page("Post 8841", "This post is unavailable. (Not mine!)")))
    crawl(home, "-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}")
    assert events(home) == []
    site.set(POST, Reply(body=page("X", "This post is unavailable.")))  # the platform's page
    crawl(home, "-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}")
    [event] = events(home)
    assert event["kind"] == "removed" and "This post is unavailable" in event["reason"]


def test_a_post_titled_by_og_title_quoting_a_notice_is_not_removed(tmp_path, site):
    # No <title>, so the catalog takes the og:title, which is in no visible text.
    head = '<html><head><meta property="og:title" content="Lawyer Wang&#39;s statement"></head>'
    body = "<body><p>Hidden a second time.</p><div>" + CHATTER + "</div></body></html>"
    site.set(POST, Reply(body=(head + body).encode()))
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", "--scope", "page", site.url + POST[1:]).returncode == 0
    crawl(home)
    quoted = body.replace("Hidden", "The page said &ldquo;This post is unavailable&rdquo;. Hidden")
    site.set(POST, Reply(body=(head + quoted).encode()))
    patterns = tmp_path / "patterns.json"
    patterns.write_text(json.dumps({"127.0.0.1": DEFAULT_PATTERNS["x.com"]}))
    crawl(home, "-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}")
    assert timeline(home) == [("captured", True), ("changed", True)]
    assert events(home) == []
