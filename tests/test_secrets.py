"""Operator secrets never reach WARCs, the catalog, logs or the terminal."""

from __future__ import annotations

import base64
import gzip
import os
import sqlite3
import subprocess
import sys

from warcs import read_warc, warc_files

from archiver.secrets import LogScrubber, redact_request_head, redact_settings

PROXY_PASSWORD = "PROXYSECRET4f9c"
AUTH_TOKEN = "AUTHSECRET8e21d"
AWS_ENV = "AWSENVSECRET77aa"
AWS_SETTING = "AWSSETTINGSECRET31"
API_KEY = "APIKEYSECRET5511"


def test_request_head_redaction_keeps_the_rest():
    block = (
        b"GET / HTTP/1.1\r\nAuthorization: Bearer x\r\nproxy-authorization: Basic y\r\n"
        b"A: b\r\n\r\nbody"
    )
    clean, names = redact_request_head(block)
    assert names == ["Authorization", "proxy-authorization"]
    assert clean == (
        b"GET / HTTP/1.1\r\nAuthorization: [redacted by archiver]\r\n"
        b"proxy-authorization: [redacted by archiver]\r\nA: b\r\n\r\nbody"
    )


def test_settings_snapshot_masks_secrets():
    masked = redact_settings({
        "AWS_SECRET_ACCESS_KEY": "k", "DOWNLOAD_DELAY": 1,
        "DEFAULT_REQUEST_HEADERS": {"Authorization": "Bearer t", "Accept": "x"},
        "ARCHIVER_STORE": "http://u:pw@host/x",
    })  # fmt: skip
    assert masked["AWS_SECRET_ACCESS_KEY"] == "[redacted by archiver]"
    assert masked["DOWNLOAD_DELAY"] == 1
    assert masked["DEFAULT_REQUEST_HEADERS"] == {
        "Authorization": "[redacted by archiver]",
        "Accept": "x",
    }
    assert "pw" not in masked["ARCHIVER_STORE"]


def test_log_scrubber_cleans_messages_and_tracebacks():
    import logging

    scrub = LogScrubber(["s3cr3t-value"])
    try:
        raise ValueError("bad s3cr3t-value")
    except ValueError:
        record = scrub("x", 40, __file__, 1, "got %s", ("s3cr3t-value",), sys.exc_info())
    assert isinstance(record, logging.LogRecord)
    assert "s3cr3t" not in record.getMessage() and "s3cr3t" not in record.exc_text


def test_no_secret_in_any_output(tmp_path, raw_server):
    proxy = raw_server()  # answers every proxied request with a page
    home = tmp_path / "home"
    port = proxy.url.rsplit(":", 1)[1].rstrip("/")
    env = {
        **os.environ,
        "ARCHIVER_HOME": str(home),
        "http_proxy": f"http://alice:{PROXY_PASSWORD}@127.0.0.1:{port}",
        "AWS_SECRET_ACCESS_KEY": AWS_ENV,
    }
    host = "archive-target.example"
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--profile", "test", "--job", "s",
         "http://archive-target.example/page", "-s", 'DEFAULT_REQUEST_HEADERS={"Accept": "*/*"}',
         "--header-for", host, f"Authorization: Bearer {AUTH_TOKEN}",
         "--header-for", host, f"X-Api-Key: {API_KEY}",
         "-s", f"AWS_SECRET_ACCESS_KEY={AWS_SETTING}", "-s", "LOG_LEVEL=DEBUG"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    # The secrets did their job on the wire (the proxy saw them) ...
    sent = b"".join(proxy.received)
    proxy_basic = base64.b64encode(f"alice:{PROXY_PASSWORD}".encode())
    assert proxy_basic in sent and AUTH_TOKEN.encode() in sent
    # ... and appear nowhere archiver writes.
    secrets = [PROXY_PASSWORD, AUTH_TOKEN, AWS_ENV, AWS_SETTING, API_KEY, proxy_basic.decode()]
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".warc.gz"):
                data = gzip.decompress(data)
            outputs[str(path)] = data.decode("latin-1")
    conn = sqlite3.connect(home / "catalog.sqlite")
    outputs["catalog dump"] = "\n".join(conn.iterdump())
    conn.close()
    leaks = [(where, s) for where, text in outputs.items() for s in secrets if s in text]
    assert leaks == []
    [warc] = warc_files(home)
    records = read_warc(warc)
    page = "http://archive-target.example/page"
    [request] = [r for r in records if r.type == "request" and r.headers["WARC-Target-URI"] == page]
    assert b"Authorization: [redacted by archiver]" in request.raw_block
    assert b"Proxy-Authorization: [redacted by archiver]" in request.raw_block
    [metadata] = [
        r for r in records if r.type == "metadata" and r.headers["WARC-Target-URI"] == page
    ]
    assert b"X-Api-Key: [redacted by archiver]" in request.raw_block
    assert b"redactedRequestHeaders: Proxy-Authorization, Authorization, X-Api-Key" in (
        metadata.content
    )
