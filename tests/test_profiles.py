"""Login profiles: crawling as a signed-in person, recorded, the cookies kept secret.

A loopback site answers on two hosts (127.0.0.1 and 127.0.0.2), logs the Cookie
header of every request, and greets a request carrying the profile's session cookie
by name. The profile is for 127.0.0.1: that host gets its cookies, the other never
does; the capture shows the signed-in page; request records show the cookies'
names with their values redacted; no WARC file, catalog row, log or output holds a
value.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servehelp import serving
from warcs import archiver, catalog_rows, read_warc, warc_files

SESSION = "SESSIONe5b0c9a17d42"  # the signed-in session: HttpOnly, host-only
PREFS = "PREFS3f81aa2c"  # a cookie for the domain and its subdomains, read by scripts
OTHER = "ELSEWHERE9c2d"  # a cookie of another site in the same export
B_SESSION = "BSESSION71d0e6"  # a session on the second host, which the profile is not for
SECRETS = (SESSION, PREFS, OTHER, B_SESSION)


def cookie_file(path: Path, port: int | None = None) -> Path:
    """A cookies.txt as a browser extension exports it: a header, comments, an HttpOnly
    line, and cookies for other sites (the second loopback host among them)."""
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        "# https://curl.se/docs/http-cookies.html\n"
        "\n"
        f"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tsid\t{SESSION}\n"
        f"127.0.0.1\tFALSE\t/\tFALSE\t0\tprefs\t{PREFS}\n"
        f".example.net\tTRUE\t/\tTRUE\t4102444800\tother\t{OTHER}\n"
        f"127.0.0.2\tFALSE\t/\tFALSE\t0\tsid\t{B_SESSION}\n"
    )
    return path


class SignInSite:
    """Two loopback hosts on one port: ``/`` of the first greets the signed-in (by the
    session cookie), links to the other host and loads an image from it; ``log`` holds
    (host, path, Cookie header or None) of every request."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str | None]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                host = self.server.server_address[0]
                cookie = self.headers.get("Cookie")
                site.log.append((host, self.path, cookie))
                status, kind, body = site.answer(host, self.path, cookie or "")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                if self.path == "/":  # kept in the response record as sent
                    self.send_header("Set-Cookie", "visit=first; Path=/")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), Handler)]
        self.port = self.servers[0].server_address[1]
        self.servers.append(ThreadingHTTPServer(("127.0.0.2", self.port), Handler))
        for server in self.servers:
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.a = f"http://127.0.0.1:{self.port}"
        self.b = f"http://127.0.0.2:{self.port}"

    def answer(self, host: str, path: str, cookie: str) -> tuple[int, str, bytes]:
        if path == "/" and host == "127.0.0.2":
            return 200, "text/html", b"<p>the other host</p>"
        if path == "/":
            greeting = "Welcome back, alice" if f"sid={SESSION}" in cookie else "Please sign in"
            html = (
                f"<title>{host}</title><p id=greeting>{greeting}</p>"
                f'<img src="{self.b}/b.png"><a href="{self.b}/">the other host</a>'
                # Scripts read the non-HttpOnly cookies of a signed-in browser.
                "<p id=seen></p><script>document.getElementById('seen').textContent ="
                " document.cookie.includes('prefs=') ? 'prefs cookie seen' : 'no cookie'"
                "</script>"
            )
            return 200, "text/html", html.encode()
        if path == "/b.png":
            return 200, "image/png", b"\x89PNG b"
        return 404, "text/plain", b"not here"

    def cookies_at(self, host: str) -> list[str | None]:
        return [cookie for h, path, cookie in self.log if h == host and path != "/robots.txt"]

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def site() -> Iterator[SignInSite]:
    made = SignInSite()
    yield made
    made.close()


def catalog_text(home: Path) -> str:
    """Every row of every table of the catalog, as text (SQLite or PostgreSQL)."""
    if os.environ.get("ARCHIVER_CATALOG"):
        tables = catalog_rows(
            home,
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = current_schema()",
        )
    else:
        tables = catalog_rows(home, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return "\n".join(
        json.dumps(catalog_rows(home, f"SELECT * FROM {table['name']}"), default=str)
        for table in tables
    )


def everything_written(home: Path, *outputs: str) -> str:
    """The home's files (WARC files decompressed, logs, the catalog) and what was printed."""
    texts = [*outputs, catalog_text(home)]
    for path in home.rglob("*"):
        if not path.is_file() or path.name.endswith(".cookies"):
            continue  # the profile's own cookies, kept by design (mode 0600)
        data = path.read_bytes()
        if path.name.endswith((".warc.gz", ".warc.gz.open")):
            data = gzip.decompress(data)
        texts.append(data.decode("latin-1"))
    return "\n".join(texts)


def ok(result):  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# -- archiver profile add / list / show / remove -------------------------------------------


def test_add_list_show_remove(tmp_path):
    home = tmp_path / "home"
    cookies = cookie_file(tmp_path / "cookies.txt")
    added = ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookies),
                        "--hosts", "127.0.0.1", "--note", "research account"))  # fmt: skip
    assert added.stdout == (
        "added profile alice: 2 cookie(s) for 127.0.0.1 (first expiry 2100-01-01T00:00:00Z)\n"
    )
    kept = home / "profiles" / "alice.cookies"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert (home / "profiles").stat().st_mode & 0o777 == 0o700
    assert SESSION in kept.read_text()
    assert OTHER not in kept.read_text() and B_SESSION not in kept.read_text()  # other sites
    listed = ok(archiver(home, "profile", "list"))
    assert listed.stdout == (
        "alice  127.0.0.1  2 cookie(s), first expiry 2100-01-01T00:00:00Z  research account\n"
    )
    shown = ok(archiver(home, "profile", "show", "alice"))
    assert "  sid  127.0.0.1/  expires 2100-01-01T00:00:00Z, HttpOnly\n" in shown.stdout
    assert "  prefs  127.0.0.1/  session\n" in shown.stdout
    [as_json] = json.loads(ok(archiver(home, "profile", "list", "--json")).stdout)
    assert as_json["profile"] == "alice" and as_json["hosts"] == ["127.0.0.1"]
    assert [c["name"] for c in as_json["cookies"]] == ["sid", "prefs"]
    assert as_json["cookies"][0] == {
        "name": "sid", "domain": "127.0.0.1", "path": "/", "secure": False, "http_only": True,
        "expires": "2100-01-01T00:00:00Z",
    }  # fmt: skip
    shown_json = json.loads(ok(archiver(home, "profile", "show", "alice", "--json")).stdout)
    assert shown_json["seed_ids"] == []
    # The values are in the home's private file only: not in the catalog, not printed.
    printed = listed.stdout + shown.stdout + json.dumps(as_json) + json.dumps(shown_json)
    for secret in SECRETS:
        assert secret not in printed and secret not in catalog_text(home)
    again = archiver(
        home, "profile", "add", "alice", "--cookies", str(cookies), "--hosts", "127.0.0.1"
    )
    assert again.returncode == 1
    assert again.stderr == (
        "Error: a profile named 'alice' already exists: choose another name, or remove it"
        " first with archiver profile remove alice\n"
    )
    assert ok(archiver(home, "profile", "remove", "alice")).stdout == "removed profile alice\n"
    assert not kept.exists()
    assert ok(archiver(home, "profile", "list")).stdout.startswith("no profiles: add one")
    gone = archiver(home, "profile", "show", "alice")
    assert (gone.returncode, gone.stderr) == (
        1,
        "Error: no profile named 'alice': there are none yet: add one with archiver profile"
        " add NAME --cookies cookies.txt --hosts HOST\n",
    )


def _bad(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


@pytest.mark.parametrize(
    ("name", "make", "hosts", "message"),
    [
        ("alice", lambda d: d / "missing.txt", "127.0.0.1",
         "cookie file {file}: no such file; export the cookies of a signed-in browser as a"
         " Netscape cookies.txt (a browser extension such as 'Get cookies.txt LOCALLY', or"
         " yt-dlp --cookies-from-browser firefox --cookies cookies.txt)"),
        ("alice", lambda d: d, "127.0.0.1",
         "cookie file {file} is a folder: give the cookies.txt file in it"),
        ("alice", lambda d: _bad(d, "Cookies", b"SQLite format 3\x00..."), "127.0.0.1",
         "cookie file {file} is a browser's cookie database, not a cookies.txt: export the"
         " cookies of a signed-in browser as a Netscape cookies.txt (a browser extension such"
         " as 'Get cookies.txt LOCALLY', or yt-dlp --cookies-from-browser firefox --cookies"
         " cookies.txt)"),
        ("alice", lambda d: _bad(d, "spaces.txt", f"127.0.0.1 FALSE / FALSE 0 sid {SESSION}\n"),
         "127.0.0.1",
         "cookie file {file}, line 1: not a Netscape cookie line: 1 field(s) instead of 7"
         " (the fields must be separated by tabs, not spaces); each line is DOMAIN,"
         " TRUE|FALSE, PATH, TRUE|FALSE, EXPIRES, NAME, VALUE, separated by tabs"),
        ("alice", lambda d: _bad(d, "flag.txt", f"# c\n127.0.0.1\tyes\t/\tFALSE\t0\ts\t{PREFS}"),
         "127.0.0.1",
         "cookie file {file}, line 2: the include-subdomains field must be TRUE or FALSE"
         " (DOMAIN, TRUE|FALSE, PATH, TRUE|FALSE, EXPIRES, NAME, VALUE, separated by tabs)"),
        ("alice", lambda d: cookie_file(d / "c.txt"), "weibo.com",
         "cookie file {file} has no cookies for weibo.com (its cookies are for 127.0.0.1,"
         " 127.0.0.2, example.net): give --hosts the site you signed in to, or export the"
         " cookies again while signed in to it"),
        ("alice", lambda d: _bad(d, "old.txt", f"127.0.0.1\tFALSE\t/\tFALSE\t1e9\ts\t{PREFS}"),
         "127.0.0.1",
         "the cookies for 127.0.0.1 in {file} have all expired (the last on"
         " 2001-09-09T01:46:40Z): sign in again and export them anew"),
        ("alice", lambda d: cookie_file(d / "c.txt"), "https://weibo.com/",
         "--hosts 'https://weibo.com/' is not a host name: give host names separated by commas,"
         " such as --hosts weibo.com,m.weibo.cn (each covers its subdomains)"),
        ("al ice", lambda d: cookie_file(d / "c.txt"), "127.0.0.1",
         "profile name 'al ice' is not allowed: use letters, digits, '.', '_' and '-' (up to"
         " 64, starting with a letter or digit), such as weibo-alice"),
        ("none", lambda d: cookie_file(d / "c.txt"), "127.0.0.1",
         "profile name 'none' means no profile: choose another name"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_written(tmp_path, name, make, hosts, message):
    home = tmp_path / "home"
    given = tmp_path / "given"
    given.mkdir()
    path = make(given)
    result = archiver(home, "profile", "add", name, "--cookies", str(path), "--hosts", hosts)
    assert (result.returncode, result.stderr) == (1, f"Error: {message.format(file=path)}\n")
    assert PREFS not in result.stdout + result.stderr  # never the line that failed
    assert not home.exists()  # no archive made, no cookies kept


def test_unknown_profiles_are_refused_where_seeds_name_them(tmp_path):
    home = tmp_path / "home"
    first = tmp_path / "first.txt"
    first.write_text("https://example.org/a\n")
    before = archiver(home, "seeds", "import", str(first), "--profile", "alice")
    assert (before.returncode, before.stderr) == (1, (
        f"{first}: line 1: no profile named 'alice': there are none yet: add one with archiver"
        " profile add NAME --cookies cookies.txt --hosts HOST\n"
        f"Error: 1 invalid row(s) in {first}; nothing imported (fix them, or use --skip-invalid"
        " to import the valid rows)\n"
    ))  # fmt: skip
    assert not home.exists()
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    typo = archiver(home, "seeds", "add", "https://example.org/", "--profile", "alcie")
    assert (typo.returncode, typo.stderr) == (
        1,
        "Error: no profile named 'alcie': did you mean 'alice'?\n",
    )
    rows = tmp_path / "seeds.csv"
    rows.write_text("url,profile\nhttps://example.org/a,alice\nhttps://example.org/b,bob\n")
    imported = archiver(home, "seeds", "import", str(rows))
    assert (imported.returncode, imported.stderr) == (1, (
        f"{rows}: line 3: no profile named 'bob': the profiles are alice\n"
        f"Error: 1 invalid row(s) in {rows}; nothing imported (fix them, or use --skip-invalid"
        " to import the valid rows)\n"
    ))  # fmt: skip
    assert ok(archiver(home, "seeds", "list", "--json")).stdout.strip() == "[]"  # none imported
    rows.write_text("url,profile\nhttps://example.org/a,alice\nhttps://example.org/b,\n")
    ok(archiver(home, "seeds", "import", str(rows)))
    seeds = json.loads(ok(archiver(home, "seeds", "list", "--json")).stdout)
    assert [(s["url"], s["profile"]) for s in seeds] == [
        ("https://example.org/a", "alice"), ("https://example.org/b", None),
    ]  # fmt: skip
    edited = ok(archiver(home, "seeds", "edit", "2", "--profile", "alice"))
    assert edited.stdout.startswith("edited 2 https://example.org/b: profile none -> alice")
    cleared = ok(archiver(home, "seeds", "edit", "1", "--profile", "none"))
    assert cleared.stdout.startswith("edited 1 https://example.org/a: profile alice -> none")
    bad = archiver(home, "seeds", "edit", "1", "--profile", "bob")
    assert (bad.returncode, bad.stderr) == (
        1,
        "Error: no profile named 'bob': the profiles are alice\n",
    )


# -- crawling signed in ------------------------------------------------------------------


def test_a_crawl_signed_in_sends_the_cookies_to_the_profiles_host_only(tmp_path, site):
    home = tmp_path / "home"
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    ok(archiver(home, "seeds", "add", site.a + "/", "--profile", "alice", "--scope", "host"))
    ok(archiver(home, "seeds", "add", site.b + "/"))  # the other host, signed out
    crawled = ok(archiver(home, "crawl", "--profile", "test", "--job", "signed-in",
                          "-s", "LOG_LEVEL=DEBUG"))  # fmt: skip
    # 127.0.0.1 got the profile's cookies (its own Set-Cookie joined later ones);
    # 127.0.0.2 never got one: not for its image on the signed-in page, nor its own page.
    a_cookies = site.cookies_at("127.0.0.1")
    assert a_cookies and all(f"sid={SESSION}" in (c or "") for c in a_cookies)
    assert all(f"prefs={PREFS}" in (c or "") for c in a_cookies)
    b_cookies = site.cookies_at("127.0.0.2")  # its own visit=first may come back: no more
    assert len(b_cookies) >= 2 and set(b_cookies) <= {None, "visit=first"}
    # What was captured is the signed-in page.
    records = read_warc(warc_files(home)[0])
    [page] = [
        r for r in records if r.type == "response" and r.headers["WARC-Target-URI"] == site.a + "/"
    ]
    assert b"Welcome back, alice" in page.content
    assert ("Set-Cookie", "visit=first; Path=/") in page.http_headers  # kept as received
    [request] = [
        r for r in records if r.type == "request" and r.headers["WARC-Target-URI"] == site.a + "/"
    ]
    assert (
        b"\r\nCookie: sid=[redacted by archiver]; prefs=[redacted by archiver]\r\n"
        in request.raw_block
    )
    [meta] = [
        r for r in records if r.type == "metadata" and r.headers["WARC-Target-URI"] == site.a + "/"
    ]
    assert b"\r\nprofile: alice\r\n" in meta.content
    assert b"\r\nredactedRequestHeaders: Cookie\r\n" in meta.content
    assert b"\r\nredactedCookies: sid, prefs\r\n" in meta.content
    [b_meta] = [
        r for r in records if r.type == "metadata" and r.headers["WARC-Target-URI"] == site.b + "/"
    ]
    assert b"profile:" not in b_meta.content and b"redacted" not in b_meta.content
    [warcinfo] = [r for r in records if r.type == "warcinfo"]
    assert b"\r\nprofile: per seed (none: seeds 2; alice: seeds 1)\r\n" in warcinfo.content
    # The catalog and captures --json say as whom each capture was made.
    captures = json.loads(ok(archiver(home, "captures", "--json")).stdout)
    made_as = {(c["url"], c["profile"]) for c in captures if not c["url"].endswith("robots.txt")}
    assert made_as == {(site.a + "/", "alice"), (site.b + "/b.png", "alice"), (site.b + "/", None)}
    [signed] = [c["capture_id"] for c in captures if c["url"] == site.a + "/"]
    # Not a value anywhere: WARC files, the catalog, logs, what the commands printed.
    written = everything_written(home, crawled.stdout, crawled.stderr)
    assert "Welcome back, alice" in written  # (the capture is there to be searched)
    assert [s for s in SECRETS if s in written] == []
    # A citation says the page was seen signed in; removing the profile keeps that.
    text = ok(archiver(home, "cite", signed)).stdout
    assert "\n  Signed in as alice.\n" in text
    with serving(home) as base, urllib.request.urlopen(f"{base}/c/{signed}") as shown:
        assert "<dt>Signed in as</dt><dd>alice</dd>" in shown.read().decode()  # the web view
    removed = ok(archiver(home, "profile", "remove", "alice"))
    assert removed.stderr == (
        "archiver: seed(s) 1 name profile alice: they are not crawled until it is added"
        " again, or changed with archiver seeds edit ID --profile none\n"
    )
    csl = json.loads(ok(archiver(home, "cite", signed, "--format", "csl-json")).stdout)
    [item] = csl if isinstance(csl, list) else [csl]
    assert item["note"].endswith("; signed in as alice")
    assert [c["profile"] for c in json.loads(ok(archiver(home, "captures", "--json")).stdout)
            if c["capture_id"] == signed] == ["alice"]  # fmt: skip
    # A seed whose profile is gone is not crawled signed out instead.
    again = archiver(home, "crawl", "--profile", "test", "--seed", "1")
    assert again.returncode == 1
    assert again.stderr == (
        "Error: seed(s) 1 are crawled as profile 'alice', which is gone: add it again with"
        " archiver profile add alice --cookies FILE --hosts HOSTS, or crawl them signed out"
        " after archiver seeds edit ID --profile none. Nothing was crawled\n"
    )


def test_crawl_as_a_profile(tmp_path, site):
    home = tmp_path / "home"
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    unknown = archiver(home, "crawl", "--profile", "test", site.a + "/", "--as", "bob")
    assert (unknown.returncode, unknown.stderr) == (
        1, "Error: no profile named 'bob': the profiles are alice\n"
    )  # fmt: skip
    assert catalog_rows(home, "SELECT id FROM seeds") == []  # the URL was not added
    mistaken = archiver(home, "crawl", site.a + "/", "--profile", "alice")
    assert (mistaken.returncode, mistaken.stderr) == (
        1,
        "Error: --profile chooses the settings profile (local, test); to crawl signed in as"
        " the login profile 'alice', use --as alice\n",
    )
    ok(archiver(home, "crawl", "--profile", "test", site.a + "/", "--as", "alice", "--job", "as"))
    assert site.cookies_at("127.0.0.1") and all(
        SESSION in (c or "") for c in site.cookies_at("127.0.0.1")
    )
    assert set(site.cookies_at("127.0.0.2")) == {None}
    [seed] = catalog_rows(home, "SELECT profile FROM seeds")
    assert seed["profile"] is None  # --as is the crawl's, not the seed's
    [row] = catalog_rows(home, "SELECT profile FROM captures WHERE url = ?", (site.a + "/",))
    assert row["profile"] == "alice"
    shown = json.loads(ok(archiver(home, "jobs", "show", "as", "--json")).stdout)
    assert shown["command"] == f"archiver crawl {site.a}/ --job as --profile test --as alice"


def test_a_crawl_refuses_cookies_others_can_read_or_that_are_missing(tmp_path, site):
    home = tmp_path / "home"
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    ok(archiver(home, "seeds", "add", site.a + "/", "--profile", "alice"))
    kept = home / "profiles" / "alice.cookies"
    kept.chmod(0o644)
    opened = archiver(home, "crawl", "--profile", "test")
    assert (opened.returncode, opened.stderr) == (
        1,
        f"Error: profile cookies {kept} are open to other users (-rw-r--r--) or not yours:"
        f" make them private with 'chmod 600 {kept}'\n",
    )
    kept.unlink()
    missing = archiver(home, "crawl", "--profile", "test")
    assert missing.returncode == 1
    assert missing.stderr.startswith(
        f"Error: profile 'alice' has no cookies in this home ({kept} is missing)"
    )
    assert site.log == []  # never crawled signed out instead
    assert catalog_rows(home, "SELECT id FROM jobs") == []


def test_run_due_crawls_a_seed_as_its_profile(tmp_path, site):
    home = tmp_path / "home"
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    ok(archiver(home, "seeds", "add", site.a + "/", "--profile", "alice"))
    ok(archiver(home, "schedule", "set", "--seed", "1", "--every", "1h"))
    due = ok(archiver(home, "run-due", "--profile", "test", "--json"))
    assert json.loads(due.stdout)["counts"]["captured"] >= 2
    assert [c for h, p, c in site.log if p == "/"] == [f"sid={SESSION}; prefs={PREFS}"]
    assert set(site.cookies_at("127.0.0.2")) == {None}
    [row] = catalog_rows(home, "SELECT profile FROM captures WHERE url = ?", (site.a + "/",))
    assert row["profile"] == "alice"


@pytest.mark.skipif(shutil.which("chromium") is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")  # fmt: skip
def test_a_browser_page_is_seen_signed_in(tmp_path, site):
    """The browser holds the profile's cookies (its scripts read them), and what it
    loads goes through the same downloader, under the same rule."""
    home = tmp_path / "home"
    ok(archiver(home, "profile", "add", "alice", "--cookies", str(cookie_file(tmp_path / "c")),
                "--hosts", "127.0.0.1"))  # fmt: skip
    ok(archiver(home, "seeds", "add", site.a + "/", "--browser", "--profile", "alice"))
    crawled = ok(archiver(home, "crawl", "--profile", "test", "--job", "b", timeout=300))
    assert [path for host, path, _ in site.log if host == "127.0.0.2"] == ["/b.png"]
    assert set(site.cookies_at("127.0.0.2")) == {None}
    page_cookies = [c for h, p, c in site.log if h == "127.0.0.1" and p == "/"]
    assert page_cookies and all(f"sid={SESSION}" in (c or "") for c in page_cookies)
    records = read_warc(warc_files(home)[0])
    [dom] = [
        r
        for r in records
        if r.type == "resource" and r.headers["WARC-Target-URI"].startswith("urn:dom:")
    ]
    assert b"Welcome back, alice" in dom.content and b"prefs cookie seen" in dom.content
    [request] = [
        r for r in records if r.type == "request" and r.headers["WARC-Target-URI"] == site.a + "/"
    ]
    assert b"sid=[redacted by archiver]" in request.raw_block
    [row] = catalog_rows(home, "SELECT profile FROM captures WHERE url = ?", (site.a + "/",))
    assert row["profile"] == "alice"
    written = everything_written(home, crawled.stdout, crawled.stderr)
    assert [s for s in SECRETS if s in written] == []
