"""Seed scopes and link/requisite extraction."""

from __future__ import annotations

import pytest

from archiver.spiders.links import extract_css, extract_html
from archiver.spiders.scope import Scope

SEED = "https://www.example.org/news/2020/story.html"


@pytest.mark.parametrize(
    ("kind", "depth", "url", "hops", "allowed"),
    [
        ("page", None, "https://other.net/x", 1, False),  # page: nothing beyond the page
        ("page", 1, "https://other.net/x", 1, True),  # page + depth 1: one hop, any host
        ("page", 1, "https://other.net/y", 2, False),
        ("prefix", None, "https://www.example.org/news/2020/other.html", 5, True),
        ("prefix", None, "http://www.example.org/news/2020/a/b", 1, True),  # either scheme
        ("prefix", None, "https://www.example.org/news/2019/x.html", 1, False),
        ("prefix", 1, "https://www.example.org/news/2020/x.html", 2, False),
        ("host", None, "https://www.example.org/anything", 9, True),
        ("site", None, "http://www.example.org/", 1, True),
        ("host", None, "https://news.example.org/", 1, False),
        ("domain", None, "https://news.example.org/", 1, True),
        ("domain", None, "https://example.org/", 1, True),
        ("domain", None, "https://badexample.org/", 1, False),
        ("domain", 2, "https://a.example.org/", 3, False),
    ],
)
def test_scope(kind, depth, url, hops, allowed):
    assert Scope(kind, SEED, depth).allows(url, hops) is allowed


PAGE = b"""<!doctype html><html><head>
<title> A &amp; B
 report </title>
<base href="https://cdn.example.org/base/">
<link rel="stylesheet" href="s.css"><link rel="canonical" href="/canon">
<link rel="icon" href="/favicon.ico">
<style>@import "print.css"; body { background: url('bg.png') }</style>
</head><body style="background-image:url(body.jpg)">
<a href="page2.html#section">two</a> <a href='page2.html'>again</a>
<a href="javascript:void(0)">js</a> <a href="mailto:x@y">mail</a> <a href="#top">top</a>
<img src="a.png" srcset="a-1x.png 1x, a-2x.png 2x"><img data-src="lazy.png">
<script src="app.js"></script><iframe src="https://embed.example.net/frame"></iframe>
<video poster="poster.jpg"><source src="clip.mp4"></video>
<a href="q?a=1&amp;b=2">query</a>
</body></html>"""


def test_html_extraction():
    found = extract_html(PAGE, "https://www.example.org/news/story.html")
    base = "https://cdn.example.org/base/"
    assert found.title == "A & B report"
    assert found.links == ["https://cdn.example.org/canon", base + "page2.html", base + "q?a=1&b=2"]
    assert found.requisites == [
        base + "s.css", "https://cdn.example.org/favicon.ico", base + "body.jpg", base + "a.png",
        base + "a-1x.png", base + "a-2x.png", base + "lazy.png", base + "app.js",
        "https://embed.example.net/frame", base + "poster.jpg", base + "clip.mp4",
        base + "print.css", base + "bg.png",
    ]  # fmt: skip


LINK_RELS = b"""<head>
<link rel="search" type="application/opensearchdescription+xml" href="_static/opensearch.xml">
<link rel="alternate" type="application/atom+xml" href="feed.atom">
<link rel="alternate" hreflang="de" href="/de/">
<LINK REL="Next" HREF="intro.html"><link rel="prev" href="start.html">
<link rel="canonical" href="https://example.org/docs/"><link rel="author" href="/people/a">
<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">
<link href="no-rel.html"><link rel="me nofollow" href="https://social.example.net/@a">
<link rel="alternate stylesheet" title="dark" href="dark.css">
<link rel="Shortcut Icon" href="/favicon.ico"><link rel="apple-touch-icon" href="/touch.png">
<link rel="preload" as="font" href="f.woff2"><link rel="modulepreload" href="m.js">
<link rel="manifest" href="/site.webmanifest"><link rel="stylesheet  alternate" href="hc.css">
<link rel="preconnect" href="https://fonts.example.net"><link rel="dns-prefetch" href="//cdn.x">
<link rel="next" href="intro.html#top"><link rel="search" href="javascript:void(0)">
</head>"""


def test_link_rels_other_than_requisites_are_outlinks():
    found = extract_html(LINK_RELS, "https://example.org/docs/index.html")
    docs = "https://example.org/docs/"
    assert found.links == [
        docs + "_static/opensearch.xml", docs + "feed.atom", "https://example.org/de/",
        docs + "intro.html", docs + "start.html", docs, "https://example.org/people/a",
        "https://creativecommons.org/licenses/by/4.0/", docs + "no-rel.html",
        "https://social.example.net/@a",
    ]  # fmt: skip
    assert found.requisites == [
        docs + "dark.css", "https://example.org/favicon.ico", "https://example.org/touch.png",
        docs + "f.woff2", docs + "m.js", "https://example.org/site.webmanifest", docs + "hc.css",
    ]  # fmt: skip


def test_og_title_when_no_title():
    found = extract_html(b'<meta property="og:title" content="Post &#8211; 1">', "http://x/")
    assert found.title == "Post – 1"


def test_css_extraction():
    css = b"""@import url("print.css"); @import 'more.css';
    @font-face { src: url(fonts/a.woff2) format("woff2"), url('data:font/woff;base64,AAA'); }
    .x { background: url( "../img/bg.png" ) }"""
    found = extract_css(css, "https://example.org/static/site.css")
    assert found.links == []
    assert found.requisites == [
        "https://example.org/static/print.css", "https://example.org/static/more.css",
        "https://example.org/static/fonts/a.woff2", "https://example.org/img/bg.png",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "ref",
    ["/a/b.html", "/a/b?x=1&y=/z", "/", "//cdn.example.net/x", "/a/../b", "/./a", "rel/x",
     "../up", "?q=1", "https://other.org/p", "/a b", "/é", "/a/.hidden"],
)  # fmt: skip
def test_fast_join_agrees_with_urljoin(ref):
    from urllib.parse import urljoin

    from archiver.spiders.links import _Resolver

    base = "https://www.example.org:8443/news/2020/story.html?page=2"
    assert _Resolver(base, "utf-8").join(ref) == urljoin(base, ref)


def test_real_world_markup():
    page = b"""<a href="big.jpg"><img src="big.jpg"></a>
    <img alt="a > b" src="/c.png">
    <a href="http://[object Object]/">broken</a><img src="after-broken.png">
    <img srcset="https://res.example.net/w_300,h_200,c_fill/p.jpg 300w,
                 https://res.example.net/w_600,h_400,c_fill/p.jpg 600w">
    <link rel="preload" as="image" imagesrcset="hero-1.jpg 1x, hero-2.jpg 2x">
    <meta http-equiv="refresh" content="0; url='/moved.html'">
    <style>.h { background: image-set("bg-1.png" 1x, 'bg-2.png' 2x); }</style>"""
    found = extract_html(page, "https://example.org/")
    assert found.links == ["https://example.org/big.jpg"]
    assert found.redirects == ["https://example.org/moved.html"]
    assert found.requisites == [
        "https://example.org/big.jpg", "https://example.org/c.png",
        "https://example.org/after-broken.png",
        "https://res.example.net/w_300,h_200,c_fill/p.jpg",
        "https://res.example.net/w_600,h_400,c_fill/p.jpg",
        "https://example.org/hero-1.jpg", "https://example.org/hero-2.jpg",
        "https://example.org/bg-1.png", "https://example.org/bg-2.png",
    ]  # fmt: skip


def test_stray_quotes_do_not_hide_the_rest_of_the_page():
    # A backtracking tag pattern would take exponential time here; the possessive one
    # gives up on the broken tag at once and reads on.
    hostile = b"<a " + b'"' * 50_000 + b" href=x" + b"<img src=y>" * 10
    assert extract_html(hostile, "https://example.org/").requisites == ["https://example.org/y"]
