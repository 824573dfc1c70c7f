"""Wire fidelity: the response record holds the bytes the server sent (DESIGN §2).

A raw-socket server sends a status line with its own reason phrase, mixed-case
header names, two Set-Cookie headers and a chunked gzip body; the request record
must hold exactly the bytes the crawler wrote.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import socket
import struct
import threading

from rawserver import FIDELITY_BODY_GZ, FIDELITY_HEADER_BYTES, FIDELITY_HTML
from warcs import archiver, catalog_rows, read_warc, warc_files


def crawl_raw(tmp_path, raw_server):
    server = raw_server()
    home = tmp_path / "home"
    url = server.url + "page?id=42&lang=zh"
    added = archiver(home, "seeds", "add", url, "--robots", "ignore")
    assert added.returncode == 0, added.stderr
    result = archiver(home, "crawl", "--profile", "test", "--job", "fidelity")
    assert result.returncode == 0, result.stdout + result.stderr
    [warc] = warc_files(home)
    # robots.txt is archived under --robots ignore too (never applied): set it aside.
    server.received[:] = [r for r in server.received if not r.startswith(b"GET /robots.txt ")]
    records = read_warc(warc)
    return (
        server,
        url,
        home,
        [r for r in records if r.headers.get("WARC-Target-URI") in (None, url)],
    )


def test_response_record_holds_the_wire_bytes(tmp_path, raw_server):
    server, url, home, records = crawl_raw(tmp_path, raw_server)
    assert all(not r.digest_problems for r in records), [r.digest_problems for r in records]
    [response] = [r for r in records if r.type == "response"]
    block = response.raw_block

    # Status line as received, reason phrase included; header names as sent, repeats kept.
    assert block.startswith(b"HTTP/1.1 200 Everything Fine\r\n")
    head, _, body = block.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert b"content-TYPE: text/html; charset=utf-8" in lines
    assert b"X-MiXeD-Case: yes" in lines
    assert [line for line in lines if line.startswith(b"Set-Cookie:")] == [
        b"Set-Cookie: session=abc123; Path=/; HttpOnly",
        b"Set-Cookie: lang=zh-Hans; Path=/",
    ]
    # Every other header line the server sent is there, in order; chunked transfer is
    # stored de-chunked with the header renamed and a Content-Length that matches.
    sent = FIDELITY_HEADER_BYTES.rstrip(b"\r\n").split(b"\r\n")
    expected = [
        b"X-Crawler-" + line if line.startswith(b"Transfer-Encoding") else line for line in sent
    ] + [b"Content-Length: %d" % len(FIDELITY_BODY_GZ)]
    assert lines == expected
    # The body is the entity still content-encoded (gzip), exactly as sent.
    assert body == FIDELITY_BODY_GZ
    assert gzip.decompress(body) == FIDELITY_HTML
    assert response.content == FIDELITY_HTML  # warcio decodes it to the page

    # Payload digest: entity with transfer-encoding removed, content-encoding kept.
    digest = hashlib.sha256(FIDELITY_BODY_GZ).hexdigest()
    assert response.headers["WARC-Payload-Digest"] == f"sha256:{digest}"
    assert response.headers["WARC-Block-Digest"] == "sha256:" + hashlib.sha256(block).hexdigest()
    [row] = catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    assert row["payload_digest"] == f"sha256:{digest}"
    assert row["http_status"] == 200
    assert row["title"] == "Fidelity Check"


def test_request_record_holds_the_bytes_sent(tmp_path, raw_server):
    server, url, home, records = crawl_raw(tmp_path, raw_server)
    [request] = [r for r in records if r.type == "request"]
    [sent] = server.received
    assert request.raw_block == sent
    # The exact request target, query string included; the exchange marker never leaves.
    assert sent.startswith(b"GET /page?id=42&lang=zh HTTP/1.1\r\n")
    assert b"x-archiver-exchange" not in sent.lower()
    assert re.search(rb"\r\nUser-Agent: archiver/", sent)


def test_records_are_linked(tmp_path, raw_server):
    _, url, _, records = crawl_raw(tmp_path, raw_server)
    warcinfo, request, response, metadata = records
    assert warcinfo.type == "warcinfo"
    assert (request.type, response.type, metadata.type) == ("request", "response", "metadata")
    assert request.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"]
    assert metadata.headers["WARC-Concurrent-To"] == response.headers["WARC-Record-ID"]
    assert request.headers["WARC-Date"] == response.headers["WARC-Date"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", response.headers["WARC-Date"])
    for rec in (request, response, metadata):
        assert rec.headers["WARC-Warcinfo-ID"] == warcinfo.headers["WARC-Record-ID"]
        assert rec.headers["WARC-Target-URI"] == url
    assert response.headers["WARC-IP-Address"] == "127.0.0.1"
    fields = dict(
        line.split(": ", 1) for line in warcinfo.content.decode().splitlines() if ": " in line
    )
    for name in ("software", "format", "conformsTo", "isPartOf", "operator", "robots",
                 "http-header-user-agent", "hostname"):  # fmt: skip
        assert fields.get(name), name
    assert fields["isPartOf"] == "fidelity"
    assert fields["robots"] == "ignore"
    meta = metadata.content.decode()
    assert "seed: 1" in meta and "job: fidelity" in meta and "linkHops: 0" in meta
    assert "hopsFromSeed" not in meta  # a seed has no hop path (Heritrix leaves it out)


def test_body_delimited_by_connection_close_is_complete(tmp_path, raw_server):
    body = b"<html><title>old server</title>" + b"x" * 5000 + b"</html>"
    server = raw_server(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body)
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", server.url, "--robots", "ignore").returncode == 0
    result = archiver(home, "crawl", "--profile", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    [row] = catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    assert (row["state"], row["truncated"], row["size"]) == ("ok", None, len(body))
    [response] = [
        r for r in read_warc(warc_files(home)[0])
        if r.type == "response" and not r.headers["WARC-Target-URI"].endswith("/robots.txt")
    ]  # fmt: skip
    assert "WARC-Truncated" not in response.headers
    assert response.raw_block == b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body


def test_body_shorter_than_its_content_length_is_marked(tmp_path, raw_server):
    server = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", server.url, "--robots", "ignore").returncode == 0
    archiver(home, "crawl", "--profile", "test")
    [row] = catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    assert (row["state"], row["truncated"], row["size"]) == ("truncated", "disconnect", 9)
    [response] = [
        r for r in read_warc(warc_files(home)[0])
        if r.type == "response" and not r.headers["WARC-Target-URI"].endswith("/robots.txt")
    ]  # fmt: skip
    assert response.headers["WARC-Truncated"] == "disconnect"


class ScriptedConnections:
    """Serves each connection with ``handle(conn, number)``; for connection-level cases."""

    def __init__(self, handle):
        self.handle = handle
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        number = 0
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            number += 1
            threading.Thread(target=self.handle, args=(conn, number), daemon=True).start()

    def close(self):
        self.listener.close()


def read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        data += chunk
    return data


def test_reset_before_a_close_delimited_body_ends_is_truncated(tmp_path):
    body = b"<html>" + b"y" * 1000

    def handle(conn, number):
        read_request(conn)
        conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST, not FIN

    server = ScriptedConnections(handle)
    home = tmp_path / "home"
    try:
        archiver(home, "seeds", "add", server.url, "--robots", "ignore")
        archiver(home, "crawl", "--profile", "test")
    finally:
        server.close()
    [row] = catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    assert (row["state"], row["truncated"]) == ("truncated", "disconnect")


def test_a_stale_keep_alive_connection_is_retried_as_a_new_exchange(tmp_path):
    """The server drops the second request on every connection unanswered, as servers
    do with idle keep-alive connections. The retry is a fresh, recorded exchange."""
    pages = {b"/": b"<a href='/a.html'>a</a>", b"/a.html": b"<title>a</title>"}

    def handle(conn, number):
        with conn:
            request = read_request(conn)
            body = pages.get(request.split(b" ")[1], b"")
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)  # fmt: skip
            read_request(conn)  # the next request on this connection: dropped

    server = ScriptedConnections(handle)
    home = tmp_path / "home"
    try:
        archiver(home, "seeds", "add", server.url, "--scope", "host", "--robots", "ignore")
        result = archiver(home, "crawl", "--profile", "test", "-s", "RETRY_TIMES=2",
                          "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")  # fmt: skip
    finally:
        server.close()
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        r["url"].removeprefix(server.url): r
        for r in catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    }
    assert rows["a.html"]["state"] == "ok", rows["a.html"]
    assert rows["a.html"]["title"] == "a"
    assert len(rows) == 2


def test_an_unusable_location_is_recorded_and_the_job_goes_on(tmp_path, raw_server):
    def respond(request: bytes) -> bytes:
        if request.startswith(b"GET /r "):
            return b"HTTP/1.1 302 Found\r\nLocation: http://[broken/x\r\nContent-Length: 0\r\n\r\n"
        body = b"<a href='/r'>r</a><a href='http://[object Object]/'>x</a><img src='/i.png'>"
        return b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % (
            len(body)
        ) + body  # fmt: skip

    server = raw_server(respond)
    home = tmp_path / "home"
    archiver(home, "seeds", "add", server.url, "--scope", "host", "--robots", "ignore")
    result = archiver(home, "crawl", "--profile", "test", "--job", "j")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        r["url"].removeprefix(server.url): r
        for r in catalog_rows(home, "SELECT * FROM captures WHERE kind != 'robots'")
    }
    assert set(rows) == {"", "r", "i.png"}
    assert rows["r"]["http_status"] == 302 and rows["r"]["final_url"] == "http://[broken/x"
    job = catalog_rows(home, "SELECT status FROM jobs")[0]
    assert job["status"] == "finished"
    files = catalog_rows(home, "SELECT state FROM warc_files")
    assert [f["state"] for f in files] == ["stored"]


def test_https_exchanges_are_recorded_in_plaintext(tmp_path):
    """Over TLS the tap sits above the TLS layer: the records hold the HTTP bytes."""
    from servers import GZIP_HTML, FixtureSite
    from tls import server_context

    with FixtureSite(tls=server_context(tmp_path)) as site:
        home = tmp_path / "home"
        archiver(home, "seeds", "add", site.url + "gzip.html", "--robots", "ignore")
        result = archiver(home, "crawl", "--profile", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert site.url.startswith("https://")
    records = read_warc(warc_files(home)[0])
    assert all(not r.digest_problems for r in records)
    records = [r for r in records if r.headers.get("WARC-Target-URI") == site.url + "gzip.html"]
    [request] = [r for r in records if r.type == "request"]
    [response] = [r for r in records if r.type == "response"]
    assert request.raw_block.startswith(b"GET /gzip.html HTTP/1.1\r\n")
    assert response.raw_block.startswith(b"HTTP/1.1 200 ")
    assert response.content == GZIP_HTML
    assert response.headers["WARC-Target-URI"] == site.url + "gzip.html"
