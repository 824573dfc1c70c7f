"""Undoing content-encoding for link extraction, with a bound.

The WARC keeps the body as sent; only the copy we parse for links is decoded.
Scrapy's own HttpCompressionMiddleware is off: it re-creates the response and, in
doing so, runs charset detection over the still-compressed body (a few ms a page,
PERF.md). Decompression is bounded so a small gzip bomb cannot fill memory.
"""

from __future__ import annotations

import zlib

ACCEPT_ENCODING = "gzip, deflate"


def decoded_body(body: bytes, content_encoding: bytes | None, limit: int) -> bytes | None:
    """The entity with content-encoding removed, at most ``limit`` bytes; None when the
    encoding is one we did not ask for or the data is corrupt."""
    codings = [c.strip().lower() for c in (content_encoding or b"").split(b",") if c.strip()]
    data = body
    for coding in reversed(codings):  # RFC 9110 §8.4: listed in the order applied
        if coding == b"identity":
            continue
        if coding in (b"gzip", b"x-gzip"):
            wbits = 16 + zlib.MAX_WBITS
        elif coding == b"deflate":
            wbits = zlib.MAX_WBITS if data[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            return None
        try:
            data = zlib.decompressobj(wbits).decompress(data, limit)
        except zlib.error:
            return None
    return data[:limit]
