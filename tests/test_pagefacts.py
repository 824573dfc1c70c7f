"""Page facts for citations: what a page states about its site and publication date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archiver.pagefacts import normalize_published
from archiver.spiders.links import extract_html


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("2020-02-12", "2020-02-12"),
        ("2020-02", "2020-02"),
        ("2020-02-12T14:00:00+08:00", "2020-02-12T14:00:00+08:00"),
        ("2020-02-12T06:00:00Z", "2020-02-12T06:00:00+00:00"),
        ("2020-02-12 14:00", "2020-02-12T14:00:00"),
        ("Wed, 12 Feb 2020 14:00:00 +0800", "2020-02-12T14:00:00+08:00"),
        ("12 Feb 2020", "2020-02-12"),
        ("March 2020", "2020-03"),
        ("2020/02/12", "2020-02-12"),
        ("13/02/2020", "2020-02-13"),  # only one reading makes sense
        ("02/03/2020", None),  # February 3rd or 2 March? not guessed
        ("Feb 12", None),  # no year: not filled in from today
        ("Tuesday", None),
        ("not a date", None),
        ("", None),
        (None, None),
        ("0001-01-01", None),  # a placeholder, not a date anyone published on
        ("2020-13-45", None),
        ("2020", "2020"),
        ("9999-12-31T00:00:00Z", None),
    ],
)
def test_normalize_published(given, kept):
    assert normalize_published(given) == kept


def test_a_date_after_the_capture_is_not_believed():
    captured = datetime(2020, 2, 12, 6, 0, tzinfo=UTC)
    assert normalize_published("2020-02-12T13:00:00+08:00", captured) == (
        "2020-02-12T13:00:00+08:00"
    )  # 05:00 UTC: before the capture
    assert normalize_published("2020-02-12T15:00:00+08:00", captured) is None
    assert normalize_published("2020-02-13", captured) == "2020-02-13"  # east of UTC
    assert normalize_published("2020-02-15", captured) is None


def test_site_name_and_publication_date_are_read_from_meta_tags():
    page = b"""<html><head><title>Post</title>
    <meta property="og:site_name" content="Defenders &amp; Watch">
    <meta property="article:published_time" content="2020-02-12T14:00:00+08:00">
    <meta name="citation_publication_date" content="1999-01-01">
    </head><body></body></html>"""
    found = extract_html(page, "https://example.org/post")
    assert found.title == "Post"
    assert found.site_name == "Defenders & Watch"
    assert found.published == "2020-02-12T14:00:00+08:00"  # the first one stated wins


@pytest.mark.parametrize(
    "tag",
    [
        b'<meta name="citation_publication_date" content="2020/02/12">',
        b'<meta name="DC.date.issued" content="2020/02/12">',
        b'<meta itemprop="datePublished" content="2020/02/12">',
    ],
)
def test_other_ways_pages_state_a_date(tag):
    found = extract_html(b"<html><head>" + tag + b"</head></html>", "https://example.org/")
    assert found.published == "2020/02/12" and found.site_name is None


def test_no_facts_when_the_page_states_none():
    found = extract_html(b"<title>t</title><p>2020-02-12</p>", "https://example.org/")
    assert (found.site_name, found.published) == (None, None)
