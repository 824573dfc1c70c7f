"""ReplayWeb.page replays an exported WACZ: the npm package's ``ui.js`` and ``sw.js``
(unpacked by .ci/run into tests/.npm/replaywebpage), served on loopback with the package
and an embedding page, in Debian's chromium driven by Playwright; and it verifies the
package's signature with the browser's WebCrypto."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import FixtureSite
from test_export import crawled, members, wacz_validate
from test_wacz_signing import forged_signature, key_facts, rewritten
from warcs import archiver

RWP = Path(__file__).resolve().parent / ".npm" / "replaywebpage"
CHROMIUM = shutil.which("chromium")
# Text of the archived page2.html, found inside the replay's nested frames.
PAGE_TEXT = "Second page of the fixture site."


def _missing() -> str | None:
    if CHROMIUM is None:
        return "Debian's chromium is not installed (.ci/run installs it)"
    if not (RWP / "ui.js").is_file() or not (RWP / "sw.js").is_file():
        if shutil.which("npm") is None:
            return "node/npm are absent, so ReplayWeb.page's npm package cannot be had"
        return f"ReplayWeb.page is not unpacked in {RWP} (.ci/run fetches it with npm)"
    return None


# CI installs both (.ci/run); there a missing part fails the test instead of skipping it.
needs_replayweb = pytest.mark.skipif(
    _missing() is not None and not (os.environ.get("CI") and shutil.which("npm")),
    reason=str(_missing()),
)

EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><title>replay</title>
<script src="replay/ui.js"></script></head>
<body><replay-web-page source="{source}" url="{url}" replayBase="replay/"
 style="display:block;width:1000px;height:700px"></replay-web-page></body></html>
"""


class _StaticSite(BaseHTTPRequestHandler):
    """Files from one folder, with byte ranges (ReplayWeb.page reads a WACZ by ranges)."""

    root: Path

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._send(body=False)

    def do_GET(self) -> None:
        self._send(body=True)

    def _send(self, body: bool) -> None:
        path = (self.root / self.path.split("?")[0].lstrip("/")).resolve()
        if path.is_dir():  # as any static web server does (nginx's index)
            path = path / "index.html"
        if not path.is_file() or self.root not in path.parents:
            self.send_error(404)
            return
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if wanted and (wanted[1] or wanted[2]):
            if wanted[1]:
                start = int(wanted[1])
                end = min(int(wanted[2]), size - 1) if wanted[2] else size - 1
            else:
                start = max(size - int(wanted[2]), 0)
            status = 206
        kind = {".js": "application/javascript", ".html": "text/html; charset=utf-8"}
        self.send_response(status)
        self.send_header("Content-Type", kind.get(path.suffix, "application/octet-stream"))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            with open(path, "rb") as source:
                source.seek(start)
                self.wfile.write(source.read(end - start + 1))


@contextmanager
def _serve(root: Path) -> Iterator[str]:
    handler = type("Handler", (_StaticSite,), {"root": root.resolve()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# The rows wabac.js keeps of what it verified in a package ("signature", "publicKey",
# "datapackageHash", each file's hash), read from its IndexedDB as the page's origin
# sees it. An unsigned package gets a "signature" row too, with an empty expected value.
VERIFICATION = """async () => {
  const request = (r) => new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const rows = [];
  for (const info of await indexedDB.databases()) {
    const db = await request(indexedDB.open(info.name));
    if (db.objectStoreNames.contains("verification")) {
      const store = db.transaction("verification").objectStore("verification");
      rows.push(...await request(store.getAll()));
    }
    db.close();
  }
  return rows;
}"""


def replayed(
    page_url: str, wanted: str, shot: Path, timeout: float = 90
) -> tuple[str, dict[str, dict]]:
    """Open the embedding page in chromium and poll every frame (the replay sits in
    iframes inside shadow roots) until one shows ``wanted``, or an error shows; then
    wait for wabac.js's verdict on the package's signature. The text, and wabac.js's
    verification rows by id. On a time-out, say what the frames and the console showed,
    with a screenshot at ``shot``."""
    from playwright.sync_api import Error, sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    console: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            page = browser.new_page()
            page.on("console", lambda message: console.append(message.text[:300]))
            page.goto(page_url)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                for frame in page.frames:
                    try:
                        text = frame.evaluate("() => document.body ? document.body.innerText : ''")
                        error = frame.get_by_text(
                            re.compile("loading error|unexpected error", re.I)
                        )
                        if error.count():
                            return "error: " + error.first.inner_text()
                    except Error:
                        continue  # a frame navigating or gone
                    if wanted in text:
                        return text, _verification(page, deadline)
                page.wait_for_timeout(250)
            page.screenshot(path=shot)
            return (
                f"timed out (screenshot {shot}); frames: "
                + ", ".join(f.url for f in page.frames)
                + "; console: "
                + " | ".join(console[-20:])
            ), {}
        finally:
            browser.close()


def _verification(page, deadline: float) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """wabac.js's verification rows, once its "signature" row is written."""
    rows: dict[str, dict] = {}
    while time.monotonic() < deadline:
        # Rows of a package loaded as part of another are prefixed with its name.
        rows = {r["id"].rpartition(":")[2]: r for r in page.evaluate(VERIFICATION)}
        if "signature" in rows:
            break
        page.wait_for_timeout(250)
    return rows


@needs_replayweb
def test_an_exported_crawl_replays_in_replayweb_page(tmp_path):
    assert _missing() is None, _missing()
    with FixtureSite() as site:
        home = crawled(tmp_path, site)
        url = site.url + "page2.html"
    # The site is gone: what the replay shows comes from the package.
    served = tmp_path / "served"
    (served / "replay").mkdir(parents=True)
    out = served / "crawl.wacz"
    assert archiver(home, "keys", "init").returncode == 0
    result = archiver(home, "export", "--job", "x", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert wacz_validate(out).returncode == 0
    files = members(out)
    # The same package with one bit of its signature flipped.
    rewritten(out, served / "forged.wacz",
              {"datapackage-digest.json": forged_signature(files)})  # fmt: skip
    # replay/ as ReplayWeb.page's embedding docs lay it out; its index.html answers the
    # replay frame if that loads before the service worker controls it (seen on a busy
    # machine: the frame got a 404 and the replay never started).
    for name in ("ui.js", "sw.js", "index.html"):
        shutil.copy(RWP / name, served / "replay" / name)
    (served / "index.html").write_text(EMBED.format(source="crawl.wacz", url=url))
    (served / "forged.html").write_text(EMBED.format(source="forged.wacz", url=url))
    signed = json.loads(files["datapackage-digest.json"])["signedData"]
    with _serve(served) as base:
        text, verified = replayed(base + "index.html", PAGE_TEXT, tmp_path / "replay.png")
        assert PAGE_TEXT in text, text
        # wabac.js verified the signature (WebCrypto, ECDSA P-384 over the hash) with the
        # key it shows as the package's public key.
        assert verified.get("signature", {}).get("matched") is True, verified
        assert verified["publicKey"]["expected"] == key_facts(home)["public_key"]
        assert verified["datapackageHash"]["expected"] == signed["hash"]

        text, verified = replayed(base + "forged.html", PAGE_TEXT, tmp_path / "forged.png")
        assert PAGE_TEXT in text, text  # it still replays, and says the signature is bad
        assert verified.get("signature", {}).get("matched") is False, verified
