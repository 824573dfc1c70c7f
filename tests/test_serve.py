"""``archiver serve`` without a browser: where it may listen, who it answers, that its
actions need a CSRF token and an Origin of its own, that the catalog is read-only to its
pages, and that the CLI starts without Flask."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from pgserver import module_catalog
from serve_archive import build
from servehelp import own_database, serving
from warcs import archiver

pytestmark = [pytest.mark.xdist_group("serve"), pytest.mark.own_catalog]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[Path]:
    with module_catalog():  # a PostgreSQL catalog of its own in a PostgreSQL run
        home, _ = build(tmp_path_factory.mktemp("serve"))
        yield home


def in_process(home: Path, path: str, args: dict[str, str]) -> tuple[int, str]:
    """A page of the web app run in this process (Flask's test client)."""
    from archiver.home import ArchiveHome
    from archiver.web.app import create_app

    app = create_app(ArchiveHome(home), allowed_hosts={"localhost"})
    answer = app.test_client().get(path, query_string=args)
    return answer.status_code, answer.get_data(as_text=True)


def request(base: str, method: str, path: str, *, host: str | None = None,
            headers: dict[str, str] | None = None, body: str | None = None):  # fmt: skip
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    sent = {"Host": host or parts.netloc, **(headers or {})}
    if body is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=sent)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    conn.close()
    return response.status, text, response


def csrf_of(base: str) -> str:
    status, page, _ = request(base, "GET", "/seeds")
    assert status == 200
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_the_cli_starts_without_flask():
    code = (
        "import sys; from click.testing import CliRunner; from archiver.cli import cli;"
        " CliRunner().invoke(cli, ['captures', '--help']); print('flask' in sys.modules)"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.stdout.strip() == "False", ran.stderr


def test_off_loopback_needs_public_and_a_token(archive):
    refused = archiver(archive, "serve", "--bind", "0.0.0.0")
    assert refused.returncode == 1
    assert "Error: --bind 0.0.0.0 is not a loopback address" in refused.stderr
    assert "Add --public and set ARCHIVER_SERVE_TOKEN" in refused.stderr
    no_token = archiver(archive, "serve", "--bind", "0.0.0.0", "--public")
    assert no_token.returncode == 1
    assert "Error: --public needs a token of at least 16 characters in ARCHIVER_SERVE_TOKEN" in (
        no_token.stderr
    )


def test_a_foreign_host_is_refused(archive):
    with serving(archive) as base:
        assert request(base, "GET", "/")[0] == 200
        assert request(base, "GET", "/", host="localhost")[0] == 200
        status, page, _ = request(base, "GET", "/", host="evil.example:8080")
        assert status == 400
        assert page == "this server does not answer for the host 'evil.example:8080'\n"
        # A loopback address followed by something that is no port: refused the same way
        # (it was an error inside the error page, 500).
        status, page, _ = request(base, "GET", "/", host="127.0.0.1:evil.example")
        assert (status, page) == (
            400, "this server does not answer for the host '127.0.0.1:evil.example'\n"
        )  # fmt: skip


def test_actions_need_the_csrf_token_and_their_own_origin(archive):
    with serving(archive) as base:
        form = {"url": "https://example.org/csrf-test"}
        origin = {"Origin": base}
        status, page, _ = request(base, "POST", "/seeds", headers=origin, body=urlencode(form))
        assert status == 403 and "this form is stale" in page
        token = csrf_of(base)
        signed = urlencode({**form, "csrf": token})
        foreign = {"Origin": "http://evil.example"}
        assert request(base, "POST", "/seeds", headers=foreign, body=signed)[0] == 403
        assert request(base, "POST", "/seeds", body=signed)[0] == 403  # no Origin nor Referer
        for action in ("/c/YWX6-TDMT/verify", "/c/YWX6-TDMT/export", "/events/1/evidence"):
            assert request(base, "POST", action, headers=origin, body="csrf=x")[0] == 403
        lookalike = {"Origin": base.replace("127.0.0.1", "127.0.0.1.evil.example")}
        assert request(base, "POST", "/seeds", headers=lookalike, body=signed)[0] == 403
        # Behind a reverse proxy that ends TLS the browser's origin is https: the same host.
        behind_tls = {"Origin": base.replace("http://", "https://")}
        status, _, answer = request(base, "POST", "/seeds", headers=behind_tls, body=signed)
        assert status == 303, page
        listed = archiver(archive, "seeds", "list")
        assert "https://example.org/csrf-test" in listed.stdout
        assert archiver(archive, "seeds", "remove", "https://example.org/csrf-test").returncode == 0


def test_public_requests_need_the_token(archive):
    token = "t0ken-of-the-tests-0123456789"
    env = {"ARCHIVER_SERVE_TOKEN": token}
    alone = archiver(archive, "serve", "--host-name", "archive.example.org")
    assert alone.returncode == 1 and "Error: --host-name is for --public" in alone.stderr
    named = ("--public", "--host-name", "archive.example.org")
    with serving(archive, *named, env=env) as base:
        status, page, _ = request(base, "GET", "/")
        assert status == 401 and "give the token" in page
        assert request(base, "GET", "/", headers={"Authorization": "Bearer wrong"})[0] == 401
        bearer = {"Authorization": f"Bearer {token}"}
        assert request(base, "GET", "/captures", headers=bearer)[0] == 200
        named_host = request(base, "GET", "/", host="archive.example.org", headers=bearer)
        assert named_host[0] == 200
        assert request(base, "GET", "/", host="other.example.org", headers=bearer)[0] == 400
        status, _, answer = request(base, "GET", f"/?token={token}")
        assert status == 302 and "archiver_token=" in answer.getheader("Set-Cookie")


def test_pages_cannot_write_the_catalog(tmp_path):
    from archiver.catalog import open_catalog
    from archiver.catalog.browse import make_read_only
    from archiver.catalog.seeds import add_seeds
    from archiver.seedspec import SeedSpec

    catalog = open_catalog(tmp_path / "catalog.sqlite")
    make_read_only(catalog)
    with pytest.raises(Exception, match=r"readonly|read-only"):
        add_seeds(catalog, [SeedSpec.build("https://example.org/")])


def test_index_search_rebuilds_the_index(archive):
    rebuilt = archiver(archive, "index", "--search")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert re.fullmatch(
        r"search index rebuilt: 11 capture\(s\) in .*search\.sqlite\n", rebuilt.stdout
    )
    with_job = archiver(archive, "index", "--search", "--job", "x")
    assert with_job.returncode == 2 and "--search indexes every capture" in with_job.stderr


def test_keyset_pages_walk_every_capture_once(archive):
    from archiver.catalog import open_catalog
    from archiver.catalog.browse import Filters, page_of_captures
    from archiver.home import ArchiveHome

    catalog = open_catalog(ArchiveHome(archive).catalog_location, create=False)
    everything = page_of_captures(catalog, Filters(), after=None, size=1000)
    walked, after = [], None
    while True:
        page = page_of_captures(catalog, Filters(), after=after, size=3)
        if not page:
            break
        walked += page
        after = (page[-1].captured_at, page[-1].id)
    assert [c.id for c in walked] == [c.id for c in everything] and len(everything) >= 11
    assert [c.captured_at for c in walked] == sorted((c.captured_at for c in walked), reverse=True)
    tagged = page_of_captures(catalog, Filters(tag="news"), after=None, size=1000)
    assert tagged and all(c.url.endswith("/news/1") for c in tagged)
    catalog.close()


def test_the_calendar_marks_each_day_by_what_it_saw():
    from archiver.catalog.browse import Observed
    from archiver.web.calendar import by_day

    def seen(day, digest, status=200, observation=None, event=None):  # type: ignore[no-untyped-def]
        return Observed(f"ID{day}{digest}", f"2026-03-{day:02d}T10:00:00.000Z", "ok", status,
                        digest, None, observation, event)  # fmt: skip

    days = by_day([
        seen(1, "a"), seen(2, "a"), seen(3, "b"), seen(3, "b"),
        seen(4, "x", 404, "gone", "gone"), seen(5, "y", 403), seen(6, "z", 200, "removed"),
    ])  # fmt: skip
    states = {key[8:]: (day.state, day.events) for key, day in days.items()}
    assert states == {
        "01": ("captured", []), "02": ("unchanged", []), "03": ("changed", []),
        "04": ("gone", ["gone"]), "05": ("blocked", []), "06": ("removed", []),
    }  # fmt: skip
    from archiver.web.calendar import neighbours

    keys = sorted(days)
    assert neighbours(keys, "2026-03-04") == ("2026-03-03", "2026-03-05")
    assert neighbours(keys, "2026-03-01") == (None, "2026-03-02")
    # The capture before the first shown: a first capture with its payload is unchanged.
    assert by_day([seen(7, "z")], previous="z")["2026-03-07"].state == "unchanged"
    assert neighbours(["2025-11", "2026-03"], "2026-01") == ("2025-11", "2026-03")


def test_the_calendar_goes_from_year_to_month_to_day(tmp_path, monkeypatch):
    import calendar_archive
    from lxml import html as lxml_html

    with own_database(monkeypatch):
        home, url, today = calendar_archive.build(tmp_path)

        def get(**args: str):  # type: ignore[no-untyped-def]
            status, page_ = in_process(home, "/timeline", {"url": url, **args})
            return status, lxml_html.fromstring(page_), page_

        status, year, _ = get(year="2026")
        assert status == 200
        linked = year.xpath("//table[contains(@class, 'cal')]/caption/a/text()")
        assert linked == ["January", "February", "November"]  # months with captures
        assert len(year.xpath("//table[contains(@class, 'cal')]")) == 12
        assert year.xpath("//nav[@aria-label='Year']/a[@rel='prev']/text()") == ["← 2025"]
        status, month, _ = get(month="2026-01")
        states = {td.get("data-day"): td.get("data-state") for td in month.xpath("//td[@data-day]")}
        assert states == {
            "2026-01-05": "unchanged", "2026-01-12": "changed", "2026-01-19": "gone",
            "2026-01-26": "blocked",
        }  # fmt: skip
        [gone] = month.xpath("//td[@data-day='2026-01-19']")
        assert gone.get("data-event") == "gone"
        # Each day says its state in words and marks, not in colour alone.
        assert " ".join(gone.text_content().split()) == "19 ✕★ gone 1 capture ★ gone"
        pager = month.xpath("//nav[@aria-label='Month']/a")
        assert [(a.get("rel"), a.text) for a in pager] == [
            ("prev", "← 2025-11"),
            ("up", "↑ 2026"),
            ("next", "2026-02 →"),
        ]  # fmt: skip (December has none: it is skipped)
        status, day, _ = get(day="2026-02-09")
        assert day.xpath("//td[@aria-current]") == [] and day.xpath("//a[@aria-current='date']")
        assert day.xpath("//td[@data-day='2026-02-09']")[0].get("data-state") == "removed"
        listed = [" ".join(li.text_content().split()) for li in day.xpath("//ul/li")]
        assert len(listed) == 1 and "403" not in listed[0] and "event: removed" in listed[0]
        around = day.xpath("//nav[@aria-label='Day']/a/text()")
        assert around == ["← 2026-02-02", f"{today} →"]  # the real capture, made today
        status, _, page_ = get(month="2026-13")
        assert status == 400
        assert "month=&#39;2026-13&#39; is not a month: write it as 2024-03" in page_


def test_the_captures_list_filters(archive):
    with serving(archive) as base:
        status, page, _ = request(base, "GET", "/captures?tag=news&status=4xx")
        rows = re.findall(r"<tr>\s*<td><a href=\"/c/([^\"]+)\">", page)
        assert status == 200 and len(rows) == 2  # the deletion and its confirmation
        assert page.count("/news/1</a>") == 2 and "/statuses/" not in page.split("<tbody>")[1]
        status, page, _ = request(base, "GET", "/captures?status=teapot")
        assert status == 400 and "&#39;teapot&#39; is not an HTTP status" in page
        status, page, _ = request(base, "GET", "/captures?from=03/04/2026")
        assert status == 400 and "as 2026-04-03 (3 April) or 2026-03-04 (March 4)" in page


def test_a_capture_made_while_serving_is_found(tmp_path, monkeypatch):
    from mutablesite import MutableSite, Reply, page

    home = tmp_path / "home"
    with own_database(monkeypatch), MutableSite() as site:
        site.set("/a", Reply(body=page("第一篇", "村民代表发言。")))
        site.set("/b", Reply(body=page("第二篇", "法院门口有人举牌。")))
        assert archiver(home, "seeds", "add", site.url + "a").returncode == 0
        assert archiver(home, "crawl", "--profile", "test").returncode == 0
        query = "/search?q=%E4%B8%BE%E7%89%8C"  # 举牌
        with serving(home) as base:
            assert "<mark>举牌</mark>" not in request(base, "GET", query)[1]
            assert archiver(home, "seeds", "add", site.url + "b").returncode == 0
            assert archiver(home, "crawl", "--profile", "test", "--seed", "2").returncode == 0
            status, found, _ = request(base, "GET", query)
            assert status == 200 and "法院门口有人<mark>举牌</mark>。" in found


def search_in_process(home: Path, query: str) -> tuple[int, str]:
    """A search answered by the web app in this process: nothing catches the index up
    first (that is serve's work when it starts), so it finds what crawls put there."""
    return in_process(home, "/search", {"q": query})


def test_a_crawl_brings_the_search_index_up_to_date(tmp_path, monkeypatch):
    from mutablesite import MutableSite, Reply, page

    home = tmp_path / "home"
    with own_database(monkeypatch), MutableSite() as site:
        site.set("/a", Reply(body=page("第一篇", "村民代表在会上发言。")))
        site.set("/b", Reply(body=page("第二篇", "法院门口有人举牌。")))
        assert archiver(home, "seeds", "add", site.url + "a").returncode == 0
        crawled = archiver(home, "crawl", "--profile", "test")
        assert crawled.returncode == 0, crawled.stderr
        # No index yet: a crawl does not make one (only serve and 'index --search' do).
        assert not (home / "search.sqlite").exists()
        status, page_ = search_in_process(home, "发言")
        assert status == 400
        assert "there is no search index" in page_ and "archiver index --search" in page_
        made = archiver(home, "index", "--search")
        assert made.returncode == 0, made.stderr
        assert "rebuilt: 2 capture(s)" in made.stdout  # the page and robots.txt
        assert "<mark>发言</mark>" in search_in_process(home, "发言")[1]
        assert archiver(home, "seeds", "add", site.url + "b").returncode == 0
        crawled = archiver(home, "crawl", "--profile", "test", "--seed", "2")
        assert crawled.returncode == 0, crawled.stderr
        status, found = search_in_process(home, "举牌")
        assert status == 200 and "法院门口有人<mark>举牌</mark>。" in found
        # The index is rebuildable: one that cannot be updated never fails a crawl.
        (home / "search.sqlite").write_bytes(b"not a database" * 100)
        again = archiver(home, "crawl", "--profile", "test", "--seed", "1", "--job", "broken")
        assert again.returncode == 0, again.stderr
        log = (home / "jobs" / "broken" / "scrapy.log").read_text(encoding="utf-8")
        assert "WARNING: the search index was not updated: the search index " in log
        assert "cannot be read (file is not a database): rebuild it with 'archiver index" in log
        status, page_ = search_in_process(home, "举牌")
        assert status == 400 and "cannot be read (file is not a database): rebuild it with" in page_
        with serving(home) as base:  # serve starts all the same, its search off
            assert request(base, "GET", "/captures")[0] == 200
        rebuilt = archiver(home, "index", "--search")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "search index rebuilt: " in rebuilt.stdout
        assert "法院门口有人<mark>举牌</mark>。" in search_in_process(home, "举牌")[1]


def test_search_ranks_title_then_url_then_text(tmp_path):
    from archiver.catalog.searchindex import SearchIndex
    from archiver.web.segment import segment

    home = tmp_path / "home"
    home.mkdir()
    index = SearchIndex(home / "search.sqlite", writable=True)
    docs = [  # oldest first, as captures are indexed
        ("TITL-0001", "2026-01-01T00:00:00.000Z", "https://a.example/1", "强拆现场", "村民"),
        ("URLS-0002", "2026-01-02T00:00:00.000Z", "https://a.example/强拆", "新闻", "村民"),
        ("TEXT-0003", "2026-01-03T00:00:00.000Z", "https://a.example/3", "新闻", "昨天强拆了"),
        ("NONE-0004", "2026-01-04T00:00:00.000Z", "https://a.example/4", "新闻", "无关"),
    ]
    index.add([(i, t, segment(u), segment(ti), segment(b)) for i, t, u, ti, b in docs], 0, 4)
    index.close()

    def order(**args: str) -> list[str]:
        status, page_ = in_process(home, "/search", {"q": "强拆", **args})
        assert status == 200, page_
        return re.findall(r'href="/c/([A-Z]{4}-\d{4})"', page_)

    assert order() == ["TITL-0001", "URLS-0002", "TEXT-0003"]
    assert order(sort="newest") == ["TEXT-0003", "URLS-0002", "TITL-0001"]
    status, page_ = in_process(home, "/search", {"q": "强拆", "sort": "oldest"})
    assert status == 400
    assert "sort=&#39;oldest&#39; is not an order: write sort=relevance or sort=newest" in page_


@pytest.mark.sqlite_only  # rowids set by hand, as PostgreSQL's late commits leave them
def test_a_capture_committed_after_a_later_one_is_still_indexed(tmp_path):
    """On PostgreSQL a worker's capture may be numbered before another worker's and
    committed after it, once the index has passed its number: it is indexed all the same."""
    import sqlite3

    import calendar_archive

    home, _, _ = calendar_archive.build(tmp_path)
    conn = sqlite3.connect(home / "catalog.sqlite")
    names = [d[0] for d in conn.execute("SELECT * FROM captures LIMIT 0").description]
    late = conn.execute(
        "SELECT rowid, * FROM captures WHERE captured_at LIKE '2026-01-05%'"
    ).fetchone()  # no status or event refers to it
    conn.execute("DELETE FROM captures WHERE rowid = ?", (late[0],))
    conn.commit()
    rebuilt = archiver(home, "index", "--search")
    assert rebuilt.returncode == 0, rebuilt.stderr
    conn.execute(
        f"INSERT INTO captures (rowid, {', '.join(names)}) VALUES (?{', ?' * len(names)})",
        late,
    )  # committed now, under the number it was given before the index passed it
    conn.commit()
    conn.close()
    with serving(home) as base:
        status, page_, _ = request(base, "GET", "/search?sort=newest&q=watched")
    assert status == 200 and f'href="/c/{late[1]}"' in page_


def test_two_processes_catching_up_add_each_capture_once(tmp_path):
    from archiver.catalog.searchindex import SearchIndex

    path = tmp_path / "search.sqlite"
    first, second = SearchIndex(path, writable=True), SearchIndex(path, writable=True)
    doc = ("AAAA-AAAA", "2026-01-01T00:00:00.000Z", "u", "t", "b")
    # Both read the index at 0; the first adds captures 1..5, the second's is refused.
    assert first.add([doc], 0, 5) is True
    assert second.add([doc], 0, 5) is False
    assert second.last_rowid() == 5 and second.count() == 1
    first.close()
    second.close()


RWP = Path(__file__).resolve().parent / ".npm" / "replaywebpage"


@pytest.mark.skipif(
    not (RWP / "sw.js").is_file() and not os.environ.get("CI"),
    reason=f"ReplayWeb.page is not unpacked in {RWP} (.ci/run fetches it with npm)",
)
def test_the_replay_origin_refuses_foreign_hosts_too(archive):
    with serving(archive, env={"ARCHIVER_REPLAYWEB_DIR": str(RWP)}) as base:
        capture = re.search(r"/c/([A-Z0-9]{4}-[A-Z0-9]{4})", request(base, "GET", "/captures")[1])
        page = request(base, "GET", f"/c/{capture.group(1)}")[1]
        frame = re.search(r'<iframe id="replay" src="(http://127\.0\.0\.1:\d+)/embed/', page)
        assert frame and frame.group(1) != base  # an origin of its own
        replay = frame.group(1)
        assert request(replay, "GET", "/replay/ui.js")[0] == 200
        assert request(replay, "GET", "/replay/ui.js", host="evil.example")[0] == 400
        assert request(replay, "GET", "/replay/../catalog.sqlite")[0] == 404
        # Packages are made for ReplayWeb.page on the replay origin, not for another site
        # (nor the app's own pages) that the reader's browser has open.
        wacz = f"/wacz/{capture.group(1)}.wacz"
        for site in ("cross-site", "same-site"):
            assert request(replay, "GET", wacz, headers={"Sec-Fetch-Site": site})[0] == 403
        status, _, answer = request(replay, "GET", wacz, headers={"Sec-Fetch-Site": "same-origin"})
        assert status == 200 and answer.getheader("Content-Type") == "application/wacz"
