"""The web view in a real browser: Debian's chromium driven by Playwright, on loopback,
over an archive of a Chinese post and an English page captured three times (an edit, a
removal notice, a deletion). No request may leave 127.0.0.1. A full-page screenshot of
each page is kept under the test's temporary folder (``shots/``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from pgserver import module_catalog
from serve_archive import NEWS, POST, build
from servehelp import own_database, serving
from test_export import wacz_validate
from warcs import archiver

CHROMIUM = shutil.which("chromium")
# ReplayWeb.page's ui.js and sw.js, unpacked there by .ci/run (from the npm registry).
RWP = Path(__file__).resolve().parent / ".npm" / "replaywebpage"
pytestmark = [
    pytest.mark.xdist_group("serve"),
    pytest.mark.own_catalog,
    pytest.mark.skipif(
        CHROMIUM is None and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (.ci/run installs it)",
    ),
]
FORMATS = ["text", "apa", "chicago", "bluebook", "bibtex", "csl-json", "ris", "robust-link"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("serve-browser")
    with module_catalog():  # a PostgreSQL catalog of its own in a PostgreSQL run
        home, site_url = build(root)
        shots = root / "shots"
        shots.mkdir()
        with serving(home, env={"ARCHIVER_REPLAYWEB_DIR": str(RWP)}) as base:
            yield home, site_url, base, shots


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    # So that context.route sees the requests of ReplayWeb.page's service worker too.
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield launched
        launched.close()


@contextmanager
def checked_page(browser):  # type: ignore[no-untyped-def]
    """A page whose every request is checked: loopback ones go on, others are refused
    and remembered (the test fails on them)."""
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], accept_downloads=True
    )
    off_loopback: list[str] = []

    def route(route):  # type: ignore[no-untyped-def]
        from urllib.parse import urlsplit

        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            off_loopback.append(url)
            route.abort()

    context.route("**", route)
    opened = context.new_page()
    refused: list[str] = []  # what the pages' Content-Security-Policy blocked
    opened.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    yield opened
    context.close()
    assert off_loopback == [], f"requests left 127.0.0.1: {off_loopback}"
    assert refused == [], refused


@pytest.fixture
def page(browser, site):  # type: ignore[no-untyped-def]
    with checked_page(browser) as opened:
        yield opened


def shoot(page, shots: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def captures_of(home: Path, url: str) -> list[dict]:
    listed = archiver(home, "captures", "--url", url, "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_a_two_character_chinese_query_finds_the_post(site, page):
    home, site_url, base, shots = site
    page.goto(base + "/")
    shoot(page, shots, "captures")
    page.fill("input[name=q]", "删除")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search?q=*")
    shoot(page, shots, "search-chinese")
    hits = page.locator("ol.hits li")
    assert hits.count() >= 1
    assert all(site_url + POST[1:] in hits.nth(i).inner_text() for i in range(hits.count()))
    assert page.locator("ol.hits mark").first.inner_text() == "删除"
    # The earlier text, two characters from the middle of a sentence.
    page.goto(base + "/search?q=强拆")
    texts = page.locator("ol.hits li").all_inner_texts()
    assert texts and all("强拆" in text for text in texts)
    page.goto(base + "/search?q=除删")  # the characters, but not side by side
    assert page.locator("ol.hits li").count() == 0
    # A URL prefix lists what is under it.
    page.goto(base + "/search?q=" + site_url + "news/")
    shoot(page, shots, "search-prefix")
    assert len(page.locator("tbody tr").all()) == len(captures_of(home, site_url + NEWS[1:]))


def test_the_copied_citation_equals_archiver_cite(site, page):
    home, site_url, base, shots = site
    edited = captures_of(home, site_url + POST[1:])[1]["capture_id"]
    page.goto(f"{base}/c/{edited}")
    shoot(page, shots, "capture")
    for fmt in FORMATS:
        page.locator("summary", has_text=fmt).first.click() if fmt != "text" else None
        page.click(f"button[data-copy=cite-{fmt}]")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        cited = archiver(home, "cite", edited, "--format", fmt)
        assert cited.returncode == 0, cited.stderr
        assert copied == cited.stdout.removesuffix("\n"), fmt
    # Zotero's connector reads these; the provenance names the seed and the digests.
    assert page.locator('meta[name="citation_title"]').get_attribute("content") == "律师声明"
    assert page.locator("span.Z3988").count() == 1
    facts = page.locator("dl.facts").inner_text()
    assert "nominated by tester" in facts and "note: at risk" in facts and "weibo" in facts
    assert "no trusted timestamp" in facts
    assert "现场有三十人" in page.locator("#text").inner_text()
    ids = [c["capture_id"] for c in captures_of(home, site_url + POST[1:])]
    assert page.locator("a[rel=prev]").get_attribute("href") == f"/c/{ids[0]}"
    assert page.locator("a[rel=next]").get_attribute("href") == f"/c/{ids[2]}"


def test_fixity_check_and_downloads(site, page, tmp_path):
    home, site_url, base, shots = site
    first = captures_of(home, site_url + POST[1:])[0]["capture_id"]
    page.goto(f"{base}/c/{first}")
    with page.expect_download() as got:
        page.click(f"a[href='/c/{first}/records.warc.gz']")
    got.value.save_as(tmp_path / "records.warc.gz")
    assert archiver(home, "get", first, "-o", str(tmp_path / "cli.warc.gz")).returncode == 0
    assert (tmp_path / "records.warc.gz").read_bytes() == (tmp_path / "cli.warc.gz").read_bytes()
    with page.expect_download() as got:
        page.click("text=WACZ of this capture")
    got.value.save_as(tmp_path / "capture.wacz")
    checked = wacz_validate(tmp_path / "capture.wacz", tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    page.click("text=Check fixity now")
    shoot(page, shots, "fixity")
    assert "OK: the records were read again" in page.locator("main").inner_text()


def test_the_calendar_shows_the_states_and_the_event_day(site, page):
    home, site_url, base, shots = site
    page.goto(f"{base}/timeline?url={site_url}statuses/8841")
    shoot(page, shots, "timeline")
    [day] = page.locator("td[data-day]").all()
    assert day.get_attribute("data-state") == "removed"
    assert day.get_attribute("data-event") == "removed"
    assert "★" in day.inner_text() and "⊘" in day.inner_text()
    legend = page.locator(".legend").inner_text()
    for word in ("removed", "gone", "blocked", "unchanged", "captured or changed", "event"):
        assert word in legend
    day.locator("a").click()
    shoot(page, shots, "timeline-day")
    listed = page.locator("ul.day-captures li").all_inner_texts()
    assert len(listed) == len(captures_of(home, site_url + POST[1:]))
    assert any("event: removed" in line for line in listed)


def test_the_calendar_month_by_month(browser, tmp_path, monkeypatch):
    """Year, then month, then day, with the states, the events and the links between."""
    import calendar_archive

    from archiver.web.calendar import STATES

    shots = tmp_path / "shots"
    shots.mkdir()
    with own_database(monkeypatch):
        home, url, _ = calendar_archive.build(tmp_path)
        with serving(home) as base, checked_page(browser) as page:
            page.goto(f"{base}/timeline?url={url}&year=2026")
            shoot(page, shots, "timeline-year")
            page.get_by_role("link", name="January").click()
            page.wait_for_url("**month=2026-01")
            shoot(page, shots, "timeline-month")
            cells = page.locator("table.month td[data-day]")
            assert [cells.nth(i).get_attribute("data-state") for i in range(cells.count())] == (
                calendar_archive.STATES[1:5]
            )
            gone = page.locator("td[data-day='2026-01-19']")
            assert gone.get_attribute("data-event") == "gone" and "★ gone" in gone.inner_text()
            # Colour is not the only sign: each day shows its mark and its state in
            # words, and the legend pairs each colour with its mark.
            for i in range(cells.count()):
                state = cells.nth(i).get_attribute("data-state")
                assert f"{STATES[state][0]}" in cells.nth(i).inner_text()
                assert state in cells.nth(i).inner_text()
            legend = page.locator(".legend").inner_text()
            for mark, word in [("○", "unchanged"), ("●", "captured or changed"),
                               ("✕", "gone"), ("■", "blocked"), ("?", "suspect"),
                               ("⊘", "removed"), ("★", "an event began")]:  # fmt: skip
                assert f"{mark} {word}" in legend
            page.get_by_role("link", name="2026-02 →").click()
            page.wait_for_url("**month=2026-02")
            removed = page.locator("td[data-day='2026-02-09']")
            assert removed.get_attribute("data-state") == "removed"
            removed.locator("a").click()
            page.wait_for_url("**day=2026-02-09")
            shoot(page, shots, "timeline-day")
            assert page.locator("ul.day-captures li").count() == 1
            assert "event: removed" in page.locator("ul.day-captures").inner_text()
            page.get_by_role("link", name="← 2026-02-02").click()
            page.wait_for_url("**day=2026-02-02")
            assert page.locator("a[aria-current=date]").inner_text().startswith("2")
            page.get_by_role("link", name="↑ 2026").click()
            page.wait_for_url("**year=2026")
            page.get_by_role("link", name="← 2025").click()
            page.wait_for_url("**year=2025")
            assert page.locator("td[data-day]").all_inner_texts() == ["20 ●"]


def test_the_diff_shows_the_edit(site, page):
    home, site_url, base, shots = site
    edited = captures_of(home, site_url + POST[1:])[1]["capture_id"]
    page.goto(f"{base}/diff?b={edited}")
    shoot(page, shots, "diff")
    # Marked by a sign and a word (read by screen readers), not by colour alone.
    assert page.locator("ol.diff ins").all_text_contents() == ["+ [added] 现场有三十人。"]
    assert page.locator("ol.diff del").count() == 0
    news = captures_of(home, site_url + NEWS[1:])[1]["capture_id"]
    page.goto(f"{base}/diff?b={news}")
    assert page.locator("ol.diff del").all_text_contents() == [
        "− [removed] The vote was postponed."
    ]
    assert page.locator("ol.diff ins").all_text_contents() == ["+ [added] The vote passed 7 to 2."]


def test_the_events_page_links_the_right_captures_and_exports_the_pack(site, page, tmp_path):
    home, site_url, base, shots = site
    listed = archiver(home, "events", "--json")
    events = json.loads(listed.stdout)
    page.goto(base + "/events")
    shoot(page, shots, "events")
    for event in events:
        section = page.locator(f"#event-{event['event_id']}")
        assert section.locator(".last-present").inner_text() == event["last_present"]
        assert section.locator(".first-absent").inner_text() == event["first_absent"]
    removed = next(e for e in events if e["kind"] == "removed")
    section = page.locator(f"#event-{removed['event_id']}")
    assert "此微博已被作者删除" in section.locator("ol.diff").inner_text()
    with page.expect_download() as got:
        section.locator("text=Export the evidence pack").click()
    pack = tmp_path / got.value.suggested_filename
    got.value.save_as(pack)
    checked = wacz_validate(pack, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    if (RWP / "sw.js").is_file() or os.environ.get("CI"):
        # The pack opens in ReplayWeb.page, served as a static site: the newest capture
        # in it is the removal notice.
        assert "此微博已被作者删除" in in_replayweb(page, pack, site_url + POST[1:], shots)


def in_replayweb(page, pack: Path, url: str, shots: Path) -> str:  # type: ignore[no-untyped-def]
    """The text ReplayWeb.page shows of ``url`` from the package (polled in every frame)."""
    from test_wacz_replay import EMBED, _serve

    served = pack.parent / "served"
    (served / "replay").mkdir(parents=True)
    for name in ("ui.js", "sw.js", "index.html"):
        shutil.copy(RWP / name, served / "replay" / name)
    shutil.copy(pack, served / "pack.wacz")
    (served / "index.html").write_text(EMBED.format(source="pack.wacz", url=url))
    with _serve(served) as base:
        page.goto(base + "index.html")
        for _ in range(360):  # 90 s at most
            for frame in page.frames:
                try:
                    text = frame.evaluate("() => document.body ? document.body.innerText : ''")
                except Exception:
                    continue  # a frame navigating or gone
                if "此微博" in text:
                    shoot(page, shots, "evidence-pack-replay")
                    return text
            page.wait_for_timeout(250)
    shoot(page, shots, "evidence-pack-replay-failed")
    return "the package never replayed: " + ", ".join(f.url for f in page.frames)


def test_a_seed_is_added_through_the_form(site, page):
    home, site_url, base, shots = site
    page.goto(base + "/seeds")
    page.fill("input[name=url]", "https://example.org/nominated")
    page.fill("input[name=tags]", "ngo, report")
    page.fill("input[name=note]", "from the form")
    page.select_option("select[name=risk]", "high")
    page.click("fieldset button")
    shoot(page, shots, "seeds")
    assert "added" in page.locator("main p.warning").inner_text()
    shown = archiver(home, "seeds", "show", "https://example.org/nominated", "--json")
    seed = json.loads(shown.stdout)
    wanted = (["ngo", "report"], "from the form", "high")
    assert (seed["tags"], seed["note"], seed["risk"]) == wanted


@pytest.mark.skipif(
    not (RWP / "sw.js").is_file() and not os.environ.get("CI"),
    reason=f"ReplayWeb.page is not unpacked in {RWP} (.ci/run fetches it with npm)",
)
def test_the_capture_replays_in_a_frame_that_cannot_reach_the_app(site, page):
    home, site_url, base, shots = site
    edited = captures_of(home, site_url + POST[1:])[1]["capture_id"]
    page.goto(f"{base}/c/{edited}")
    replay_origin = page.locator("iframe#replay").get_attribute("src").rsplit("/embed/", 1)[0]
    assert replay_origin != base and replay_origin.startswith("http://127.0.0.1:")
    shown = None
    for _ in range(360):  # until ReplayWeb.page shows the archived text (90 s at most)
        for frame in page.frames:
            try:
                text = frame.evaluate("() => document.body ? document.body.innerText : ''")
            except Exception:
                continue  # a frame navigating or gone
            if "现场有三十人" in text and frame.url.startswith(replay_origin):
                shown = frame
        if shown is not None:
            break
        page.wait_for_timeout(250)
    if shown is None:
        shoot(page, shots, "capture-replay-failed")
    assert shown is not None, "the archived text never appeared in the replay frame: " + ", ".join(
        f.url for f in page.frames
    )
    page.locator("iframe#replay").scroll_into_view_if_needed()
    shoot(page, shots, "capture-replay")
    reach = """() => { try { return parent.document.title; } catch (e) { return e.name; } }"""
    outer = next(f for f in page.frames if f.url.startswith(replay_origin + "/embed/"))
    assert outer.evaluate(reach) == "SecurityError"
    top = "() => { try { return top.document.title; } catch (e) { return e.name; } }"
    assert shown.evaluate(top) == "SecurityError"
    # Nor can it read the app's pages, or use its actions.
    read = """async (url) => { try { return await (await fetch(url)).text(); }
                               catch (e) { return e.name; } }"""
    assert outer.evaluate(read, f"{base}/captures") == "TypeError"  # no CORS: unreadable
    post = """async (url) => { const body = new URLSearchParams({url: 'https://example.org/x'});
        try { await fetch(url, {method: 'POST', body, mode: 'no-cors'}); return 'sent'; }
        catch (e) { return e.name; } }"""
    outer.evaluate(post, f"{base}/seeds")
    assert "https://example.org/x" not in archiver(home, "seeds", "list").stdout


def test_a_cjk_font_is_installed_for_the_screenshots():
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    if not fonts.strip() and not os.environ.get("CI"):
        pytest.skip("no CJK font (.ci/run installs fonts-wqy-microhei)")
    assert fonts.strip(), "no CJK font: Chinese shows as boxes in the screenshots"


def test_browser_captures_show_their_screenshots_side_by_side(tmp_path, browser, monkeypatch):
    from mutablesite import MutableSite, Reply
    from mutablesite import page as html_page

    home = tmp_path / "home"
    with own_database(monkeypatch), MutableSite() as running:
        running.set("/post", Reply(body=html_page("帖子", "第一版的文字。")))
        added = archiver(home, "seeds", "add", running.url + "post", "--browser")
        assert added.returncode == 0, added.stderr
        for text in ("第一版的文字。", "第二版的文字，改过了。"):
            running.set("/post", Reply(body=html_page("帖子", text)))
            crawled = archiver(home, "crawl", "--profile", "test", timeout=300)
            assert crawled.returncode == 0, crawled.stdout + crawled.stderr
        first, second = (c["capture_id"] for c in captures_of(home, running.url + "post"))
        with serving(home) as base:
            context = browser.new_context()
            shown = context.new_page()
            shown.goto(f"{base}/diff?b={second}")
            shots = tmp_path / "shots"
            shots.mkdir()
            shoot(shown, shots, "diff-browser")
            images = shown.locator(".cols img")
            assert images.count() == 2
            widths = [images.nth(i).evaluate("i => i.naturalWidth") for i in range(2)]
            assert all(width > 0 for width in widths)  # PNGs the browser decoded
            assert shown.locator("ol.diff ins").all_text_contents() == [
                "+ [added] 第二版的文字，改过了。"
            ]
            shown.goto(f"{base}/c/{first}")
            assert shown.locator("img.shot").evaluate("i => i.naturalWidth") > 0
            context.close()
