"""Browser pages that try to get around the WARC, hang the crawl, leave the page or break
the browser. Everything listens on 127.0.0.1: a broken guard would still send nothing
off this machine."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from mutablesite import MutableSite, Reply, page
from test_browser import needs_chromium
from warcs import archiver, captures_json, read_warc, warc_files


class Listener:
    """Counts TCP connections and UDP datagrams that arrive on one loopback port each."""

    def __init__(self) -> None:
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(5)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.arrived: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True),
                         threading.Thread(target=self._receive, daemon=True)]  # fmt: skip
        for thread in self._threads:
            thread.start()

    @property
    def tcp_port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                continue
            self.arrived.append("tcp")
            conn.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.udp.recvfrom(2048)
            except OSError:
                continue
            self.arrived.append("udp")

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.tcp.close()
        self.udp.close()


TEXT = "A post long enough to be read as a page with words in it, not an empty render."


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()


@needs_chromium
def test_hostile_pages(tmp_path, listener):
    with MutableSite() as site:
        # A subresource redirected to ftp: never followed (Scrapy's ftp handler would go
        # around the tap and the address policy).
        site.set("/ftp", Reply(body=page("Ftp", TEXT, "<img src='/img/ftp.png'>")))
        site.set("/img/ftp.png", Reply(302, b"", headers=[
            ("Location", f"ftp://127.0.0.1:{listener.tcp_port}/x.png")]))  # fmt: skip
        # WebRTC: a STUN request is UDP, around any HTTP proxy.
        rtc = (
            "<script>const pc = new RTCPeerConnection({iceServers: [{urls:"
            f" 'stun:127.0.0.1:{listener.udp_port}'}}]}});"
            " pc.createDataChannel('x'); pc.createOffer().then(o => pc.setLocalDescription(o));"
            "</script>"
        )
        site.set("/rtc", Reply(body=page("Rtc", TEXT, rtc)))
        # A script that takes the page elsewhere: the capture is of the page shown first;
        # where it went is followed like a redirect, as a capture of its own.
        away = "<script>setTimeout(() => { location.href = '/elsewhere'; }, 50);</script>"
        site.set("/away", Reply(body=page("Away", TEXT, away)))
        site.set("/elsewhere", Reply(body=page("Elsewhere", "Somewhere else entirely. " * 5)))
        # A "Show more" that is a form's button: clicking it would send the form.
        form = (
            "<form method=post action=/vote><button onclick=\"fetch('/clicked')\">"
            "Show more</button></form>"
        )
        site.set("/form", Reply(body=page("Form", TEXT, form)))
        # A header value Chromium refuses would fail the whole response.
        site.set("/odd", Reply(body=page("Odd", TEXT, "<script src='/odd.js'></script>")))
        site.set("/odd.js", Reply(body=b"document.title = 'ran';",
                                  content_type="text/javascript",
                                  headers=[("X-Odd", "a\x01b")]))  # fmt: skip
        home = tmp_path / "home"
        urls = [site.url + p for p in ("ftp", "rtc", "away", "form", "odd")]
        archiver(home, "seeds", "add", *urls, "--browser")
        archiver(home, "seeds", "add", "http://127.0.0.1:1/refused", "--browser")
        result = archiver(home, "crawl", "--profile", "test", "--job", "hostile",
                          "-s", "ARCHIVER_SUSPECT_RETRIES=0", timeout=300)  # fmt: skip
        time.sleep(1)  # a late datagram would have arrived by now
        asked = [path for path, _ in site.requests]
    # Exit 5: the refused seed's one fetch failed, the others were captured.
    assert result.returncode == 5, result.stdout + result.stderr
    assert "seed 6 http://127.0.0.1:1/refused (browser: 1); the others were" in result.stderr
    assert listener.arrived == [], listener.arrived
    assert "/vote" not in asked and "/clicked" not in asked
    records = [r for w in warc_files(home) for r in read_warc(w)]
    doms = {r.headers["WARC-Target-URI"]: r.raw_block for r in records
            if r.headers.get("WARC-Target-URI", "").startswith("urn:dom:")}  # fmt: skip
    assert b"Somewhere else" not in doms["urn:dom:" + site.url + "away"]
    assert "urn:dom:" + site.url + "elsewhere" in doms  # followed, captured on its own
    assert b"<title>ran</title>" in doms["urn:dom:" + site.url + "odd"]
    rows = captures_json(home)
    ftp = [r for r in rows if r["url"] == site.url + "img/ftp.png"]
    assert [r["http_status"] for r in ftp] == [302]
    assert not [r for r in rows if r["url"].startswith("ftp:")]
    refused = [r for r in rows if r["url"] == "http://127.0.0.1:1/refused"]
    assert len(refused) == 1 and refused[0]["state"] == "failed", refused


@needs_chromium
def test_a_page_that_hangs_is_cut_at_its_time_limit(tmp_path):
    """A script that never yields holds the page, not the crawl: past the limit the page
    is closed, and the document as served is kept, parsed and marked suspect."""
    spin = "<script>setTimeout(() => { for (;;) {} }, 0);</script><a href='/next'>next</a>"
    with MutableSite() as site:
        site.set("/spin", Reply(body=page("Spin", TEXT, spin)))
        home = tmp_path / "home"
        archiver(home, "seeds", "add", site.url + "spin", "--browser")
        result = archiver(home, "crawl", "--profile", "test", "--job", "spin",
                          "-s", "ARCHIVER_BROWSER_PAGE_SECONDS=6",
                          "-s", "ARCHIVER_SUSPECT_RETRIES=0", timeout=300)  # fmt: skip
    # Cut, not waited out: the page is marked as not rendered (no wall-clock bound here,
    # which a busy machine would break; the subprocess timeout catches a hang).
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [r for r in captures_json(home) if r["url"] == site.url + "spin"]
    assert len(rows) == 1 and rows[0]["http_status"] == 200, rows
    assert rows[0]["quality"] == "suspect"
    assert rows[0]["quality_reason"].startswith("no render"), rows[0]
    assert "job spin finished" in result.stdout, result.stdout


@needs_chromium
def test_a_page_done_does_not_leave_requests_behind(tmp_path):
    """Requests the page made that still wait in the host's queue (its download delay)
    when the page is done are not fetched."""
    calls = "".join(f"fetch('/slow/{n}');" for n in range(4))
    with MutableSite() as site:
        site.set("/busy", Reply(body=page("Busy", TEXT, f"<script>{calls}</script>")))
        for n in range(4):
            site.set(f"/slow/{n}", Reply(body=b"{}", content_type="application/json"))
        home = tmp_path / "home"
        archiver(home, "seeds", "add", site.url + "busy", "--browser")
        result = archiver(home, "crawl", "--profile", "test", "--job", "busy",
                          "-s", "ARCHIVER_BROWSER_PAGE_SECONDS=6",
                          "-s", "DOWNLOAD_DELAY=2.5", "-s", "RANDOMIZE_DOWNLOAD_DELAY=0",
                          "-s", "ARCHIVER_SUSPECT_RETRIES=0", timeout=300)  # fmt: skip
        slow = [path for path, _ in site.requests if path.startswith("/slow/")]
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(slow) < 4, slow  # the queued ones were dropped with the page
    rows = [r for r in captures_json(home) if r["url"] == site.url + "busy"]
    assert rows and rows[0]["quality"] is not None
