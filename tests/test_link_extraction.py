"""Link extraction on libxml2: what the parser reads, and the per-page joins."""

from __future__ import annotations

from urllib.parse import urljoin

import pytest

from archiver.spiders.links import _Resolver, extract_html

BASE = "https://www.example.org/docs/15/sql/select.html?v=2"


@pytest.mark.parametrize(
    "ref",
    ["../index.html", "../../img/x.png", "../", "../../../../../../up", "a/b/c.html",
     "page.html?x=1&y=a/./b", "page.html?", "a;p.html", "a//b", "../a/../b", "./a",
     "sql-select.html", "dir/", "é.html", "a b.html", "\x01a", "/a?", "/a;b", "/a\tb",
     "http://other.org/a?", "HTTP://other.org/a", "https://other.org", "x:y", "?q=1"],
)  # fmt: skip
def test_join_agrees_with_urljoin(ref):
    assert _Resolver(BASE, "utf-8").join(ref) == urljoin(BASE, ref)


def test_a_page_of_absolute_paths_is_joined_like_one_link_at_a_time():
    hrefs = ["/p/1.html", " /p/2.html#top", "/p/1.html", "/p/3.html?", "/p/4.html?a=1",
             "/p/./5.html", "//cdn.example.net/6", "/p/7;x", "/p/1.html#again"]  # fmt: skip
    page = "".join(f'<a href="{href}">x</a>' for href in hrefs).encode()
    found = extract_html(page, BASE)
    expected = list(dict.fromkeys(urljoin(BASE, h.strip().split("#")[0]) for h in hrefs))
    assert found.links == expected
    assert found.contexts["L"] == dict.fromkeys(expected, "a/@href")


def test_references_before_a_base_keep_the_base_they_had():
    page = b'<a href="a.html">1</a><base href="/sub/"><a href="b.html">2</a><a href="a.html">'
    found = extract_html(page, "https://example.org/x/")
    assert found.links == ["https://example.org/x/a.html", "https://example.org/sub/b.html"]


def test_markup_in_comments_and_script_text_is_not_read():
    page = b"""<!-- <a href="/old-page.html">gone</a> <img src="/old.png"> -->
    <script>document.write('<img src="/written.png">')</script>
    <a href="/kept.html">kept</a>"""
    found = extract_html(page, "https://example.org/")
    assert found.links == ["https://example.org/kept.html"]
    assert found.requisites == []


def test_links_after_markup_nested_deeper_than_libxml2_reads():
    # libxml2 stops at 2,048 levels of nesting; such a page is read again, flattened.
    page = b'<div style="x">' * 3000 + b'<a href="/deep.html">deep</a><img src="/after.png">'
    found = extract_html(page, "https://example.org/")
    assert found.links == ["https://example.org/deep.html"]
    assert found.requisites == ["https://example.org/after.png"]


def test_a_page_in_its_declared_encoding():
    page = '<meta charset="gbk"><a href="/新闻/一.html">新闻</a>'.encode("gbk")
    found = extract_html(page, "https://example.org/", "gbk")
    assert found.links == ["https://example.org/新闻/一.html"]
    undecodable = extract_html(b'<a href="/\xff.html">x</a>', "https://example.org/")
    assert undecodable.links == ["https://example.org/\ufffd.html"]
