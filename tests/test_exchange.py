"""The exchange: what the tap keeps of the head and body, and the head stored for chunked bodies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from archiver.capture.exchange import Exchange, Limits


def make(limit: int = 0) -> Exchange:
    return Exchange("http://example.org/", datetime(2020, 2, 12, tzinfo=UTC), Limits(limit))


def test_head_is_split_from_the_raw_stream_across_packets():
    ex = make()
    wire = b"HTTP/1.1 200 Fine\r\nA: 1\r\nb: two\r\n\r\nBODY"
    for i in range(len(wire)):
        ex.on_response_bytes(wire[i : i + 1])
    assert ex.has_response
    assert ex.raw_head == b"HTTP/1.1 200 Fine\r\nA: 1\r\nb: two\r\n\r\n"
    assert ex.status_line() == ("HTTP/1.1", 200, "Fine")
    assert ex.headers() == [("A", "1"), ("b", "two")]


def test_interim_1xx_response_is_skipped():
    ex = make()
    ex.on_response_bytes(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
    )
    assert not ex.has_response
    ex.on_response_bytes(b"HTTP/1.1 201 Created\r\nX: y\r\n\r\n")
    assert ex.raw_head == b"HTTP/1.1 201 Created\r\nX: y\r\n\r\n"


def test_plain_head_is_stored_unchanged():
    ex = make()
    head = b"HTTP/1.0 404 Not Here\r\nContent-Length: 3\r\nset-cookie: a\r\nSet-Cookie: b\r\n\r\n"
    ex.on_response_bytes(head)
    ex.on_body(b"abc")
    assert ex.record_head() == head
    assert ex.payload_digest_hex == hashlib.sha256(b"abc").hexdigest()


def test_chunked_head_is_renamed_and_given_a_matching_length():
    ex = make()
    ex.on_response_bytes(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nX: 1\r\n\r\n")
    ex.on_body(b"hello ")
    ex.on_body(b"world")
    assert ex.record_head() == (
        b"HTTP/1.1 200 OK\r\nX-Crawler-transfer-encoding: chunked\r\nX: 1\r\n"
        b"Content-Length: 11\r\n\r\n"
    )


def test_chunked_head_with_bare_newlines():
    ex = make()
    ex.on_response_bytes(b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nContent-Length: 99\n\n")
    ex.on_body(b"abc")
    assert ex.record_head() == (
        b"HTTP/1.1 200 OK\nX-Crawler-Transfer-Encoding: chunked\n"
        b"X-Crawler-Content-Length: 99\nContent-Length: 3\n\n"
    )


def test_body_is_cut_at_the_size_limit():
    ex = make(limit=10)
    ex.on_response_bytes(b"HTTP/1.1 200 OK\r\n\r\n")
    assert ex.on_body(b"123456") == b"123456"
    assert ex.on_body(b"789012") == b"7890"
    assert ex.truncated == "length"
    assert ex.body_length == 10
    assert b"".join(ex.body().chunks()) == b"1234567890"
    assert ex.payload_digest_hex == hashlib.sha256(b"1234567890").hexdigest()


def test_large_bodies_spill_to_disk():
    ex = make()
    ex.on_response_bytes(b"HTTP/1.1 200 OK\r\n\r\n")
    block = b"x" * 65536
    for _ in range(20):
        ex.on_body(block)
    assert ex._body is not None and ex._body._rolled  # SpooledTemporaryFile moved to disk
    assert sum(len(c) for c in ex.body().chunks()) == 20 * 65536


def test_chunked_head_with_mixed_line_endings_keeps_each_ending():
    for head in (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\nX: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\r\n\n",
    ):
        ex = make()
        ex.on_response_bytes(head)
        assert ex.has_response
        ex.on_body(b"abc")
        stored = ex.record_head()
        assert b"\r\r" not in stored
        assert stored.count(b"X-Crawler-Transfer-Encoding: chunked") == 1
        assert b"Content-Length: 3" in stored
        assert stored.endswith((b"\r\n\r\n", b"\n\n", b"\n\r\n", b"\r\n\n"))


def test_no_content_length_is_added_to_a_204():
    ex = make()
    ex.on_response_bytes(b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert (
        ex.record_head()
        == b"HTTP/1.1 204 No Content\r\nX-Crawler-Transfer-Encoding: chunked\r\n\r\n"
    )
