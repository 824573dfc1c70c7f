"""Bounded content-decoding of the copy parsed for links."""

from __future__ import annotations

import gzip
import zlib

from archiver.spiders.decode import decoded_body

PAGE = b"<a href=x>" * 1000


def test_gzip_deflate_and_identity():
    assert decoded_body(gzip.compress(PAGE), b"gzip", 10**6) == PAGE
    assert decoded_body(zlib.compress(PAGE), b"deflate", 10**6) == PAGE
    raw = zlib.compressobj(wbits=-15)
    assert decoded_body(raw.compress(PAGE) + raw.flush(), b"deflate", 10**6) == PAGE
    assert decoded_body(PAGE, None, 10**6) == PAGE
    assert decoded_body(gzip.compress(gzip.compress(PAGE)), b"gzip, gzip", 10**6) == PAGE


def test_bomb_is_bounded():
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    assert len(decoded_body(bomb, b"gzip", 1_000_000)) == 1_000_000


def test_unknown_or_corrupt_encoding_is_not_parsed():
    assert decoded_body(b"whatever", b"br", 10**6) is None
    assert decoded_body(b"not gzip at all", b"gzip", 10**6) is None
