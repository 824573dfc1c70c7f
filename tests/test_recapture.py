"""Cheap recapture: revisit records for unchanged payloads and for 304s to conditional
requests, read back with warcio, retrievable, verifiable and exportable."""

from __future__ import annotations

import random

import pytest
from mutablesite import MutableSite, Reply, page
from test_export import members, wacz_validate
from warcs import archiver, captures_json, catalog_rows, read_warc, warc_files

IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def realistic_site(site: MutableSite) -> None:
    """Pages of typical weight (30-60 KB of text) with images (50-150 KB) that carry
    ETags, as a news or NGO site serves them."""
    rng = random.Random(7)
    links = "".join(f"<a href='/post/{i}'>post {i}</a>" for i in range(8))
    for i in range(8):
        imgs = "".join(f"<img src='/img/{i}-{k}.jpg'>" for k in range(3))
        words = " ".join(rng.choice(["censor", "report", "defender", "deleted", "post", "wei"])
                         for _ in range(rng.randint(5000, 10000)))  # fmt: skip
        site.set(f"/post/{i}", Reply(body=page(f"Post {i}", words, imgs + links)))
        for k in range(3):
            image = rng.randbytes(rng.randint(50_000, 150_000))
            site.set(f"/img/{i}-{k}.jpg", Reply(body=image, content_type="image/jpeg", etag=True))


@pytest.fixture
def site():
    with MutableSite() as running:
        realistic_site(running)
        yield running


def crawl(home, job, *extra):  # type: ignore[no-untyped-def]
    result = archiver(home, "crawl", "--profile", "test", "--job", job, "--seed", "1", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.parametrize("conditional", [False, True], ids=["default", "conditional"])
def test_recapture_of_an_unchanged_site_writes_revisits(tmp_path, site, conditional):
    home = tmp_path / "home"
    added = archiver(home, "seeds", "add", site.url + "post/0", "--scope", "host")
    assert added.returncode == 0, added.stderr
    extra = ("-s", "ARCHIVER_CONDITIONAL=1") if conditional else ()
    crawl(home, "first", *extra)
    crawl(home, "second", *extra)
    files = {j: [w for w in warc_files(home) if w.parent.name == j] for j in ("first", "second")}
    first_bytes = sum(w.stat().st_size for w in files["first"])
    second_bytes = sum(w.stat().st_size for w in files["second"])
    print(f"first capture {first_bytes} B, recapture {second_bytes} B "
          f"({100 * second_bytes / first_bytes:.1f}%)")  # fmt: skip
    assert second_bytes <= 0.05 * first_bytes

    first = {r["url"]: r for r in captures_json(home, "--job", "first") if r["kind"] != "robots"}
    second = {r["url"]: r for r in captures_json(home, "--job", "second") if r["kind"] != "robots"}
    assert set(first) == set(second) and len(first) == 8 + 24
    records = {}
    for w in files["second"]:
        for rec in read_warc(w):
            if rec.type in ("response", "revisit"):
                records[rec.headers["WARC-Target-URI"]] = rec
    for url, row in second.items():
        rec = records[url]
        assert rec.type == "revisit", url
        original = first[url]
        assert rec.headers["WARC-Refers-To"] == original["record_id"]
        assert rec.headers["WARC-Refers-To-Target-URI"] == url
        assert rec.headers["WARC-Refers-To-Date"] == original["captured_at"]
        if "/img/" in url and conditional:  # asked conditionally: the server said 304
            assert rec.headers["WARC-Profile"] == NOT_MODIFIED
            assert rec.status_line.startswith("HTTP/1.1 304") or " 304 " in rec.status_line
            assert row["http_status"] == 304 and row["payload_digest"] is None
        else:  # pages are fetched whole; same payload, so not stored again
            assert rec.headers["WARC-Profile"] == IDENTICAL
            assert rec.headers["WARC-Payload-Digest"] == original["payload_digest"]
            assert rec.content == b""
    # The conditional request went out with the validator of the first capture.
    asked = [h for p, h in site.requests if p.startswith("/img/") and "If-None-Match" in h]
    assert len(asked) == (24 if conditional else 0)


def test_revisits_are_retrievable_verifiable_and_exported_with_their_originals(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "post/1", "--scope", "page").returncode == 0
    crawl(home, "first")
    crawl(home, "second")
    [revisit] = [r for r in captures_json(home, "--job", "second") if r["kind"] == "seed"]
    got = archiver(home, "get", revisit["id"], "-o", str(tmp_path / "r.warc.gz"))
    assert got.returncode == 0, got.stderr
    assert archiver(home, "verify", "--all").returncode == 0
    out = tmp_path / "second.wacz"
    exported = archiver(home, "export", "--job", "second", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert wacz_validate(out).returncode == 0
    packaged = members(out)
    firsts = {r["warc_file"] for r in captures_json(home, "--job", "first")}
    assert {f"archive/{name}" for name in firsts} <= set(packaged)  # the originals came too


def test_a_changed_page_is_stored_whole(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "post/2", "--scope", "page").returncode == 0
    crawl(home, "first")
    site.set("/post/2", Reply(body=page("Post 2", "edited: a sentence was removed")))
    crawl(home, "second")
    [row] = [r for r in captures_json(home, "--job", "second") if r["kind"] == "seed"]
    [w] = [w for w in warc_files(home) if w.name == row["warc_file"]]
    [rec] = [r for r in read_warc(w) if r.headers.get("WARC-Target-URI") == row["url"]
             and r.type in ("response", "revisit")]  # fmt: skip
    assert rec.type == "response" and b"edited" in rec.content


def test_revisits_can_be_turned_off(tmp_path, site):
    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "post/3", "--scope", "page").returncode == 0
    crawl(home, "first")
    # Without revisits, no conditional request either: a 304 would hold no payload.
    crawl(home, "second", "-s", "ARCHIVER_REVISITS=0", "-s", "ARCHIVER_CONDITIONAL=1")
    assert not [h for p, h in site.requests if "If-None-Match" in h]
    rows = catalog_rows(home, "SELECT record_type FROM captures c JOIN jobs j ON j.id = c.job_id"
                        " WHERE j.name = 'second'")  # fmt: skip
    assert {r["record_type"] for r in rows} == {"response"}


def test_pywb_replays_a_revisit_with_the_original_payload(tmp_path, site):
    """The recapture's revisit records resolve, in pywb, to the first capture's bytes."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from test_crawl_e2e import PYWB_REPLAY

    home = tmp_path / "home"
    assert archiver(home, "seeds", "add", site.url + "post/4", "--scope", "page").returncode == 0
    crawl(home, "first")
    crawl(home, "second")
    work = tmp_path / "pywb"
    work.mkdir()
    manager = Path(sys.executable).parent / "wb-manager"
    run = {"cwd": work, "capture_output": True, "text": True, "timeout": 120}
    assert subprocess.run([manager, "init", "c"], **run).returncode == 0
    added = subprocess.run([manager, "add", "c", *map(str, warc_files(home))], **run)
    assert added.returncode == 0, added.stderr
    urls = [site.url + "post/4", site.url + "img/4-0.jpg"]
    replay = subprocess.run([sys.executable, "-c", PYWB_REPLAY, json.dumps(urls), "c"], **run)
    assert replay.returncode == 0, replay.stderr
    served = json.loads(replay.stdout.strip().splitlines()[-1])
    second = {r["url"]: r for r in captures_json(home, "--job", "second")}
    assert second[urls[0]]["record_type"] == "revisit"  # 2030: the latest capture, a revisit
    for url in urls:
        status, body = served[url]
        assert status == 200, url
        path = url.removeprefix(site.url.rstrip("/"))
        assert bytes.fromhex(body) == site.routes[path][0].body, url
