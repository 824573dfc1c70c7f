"""The quality check of rendered pages, the browser options and the seed flag."""

from __future__ import annotations

import pytest

from archiver.browser.behaviours import platform_for, weibo, x
from archiver.browser.options import BrowserOptions, find_chromium, parse_hosts
from archiver.browser.quality import PageSignals, assess, text_size
from archiver.errors import ArchiverError, InvalidSeed
from archiver.seedspec import SeedSpec

POST = "Lawyer detained after posting about the anniversary. " * 5


@pytest.mark.parametrize(
    ("signals", "host", "reason"),
    [
        (PageSignals(text=POST, media=1), "example.org", None),
        (PageSignals(text="Log in to see this post  Log in", password_fields=1), "example.org",
         "login wall"),
        # A password field in a page full of text (a login box in a sidebar) is not a wall.
        (PageSignals(text=POST * 40 + " Log in", password_fields=1), "example.org", None),
        # Login words without a password field are not a wall either.
        (PageSignals(text=POST + " Sign in to comment"), "example.org", None),
        (PageSignals(text="Checking your browser before accessing the site"), "example.org",
         "captcha"),
        (PageSignals(text=POST, captcha_frames=1), "example.org", "captcha"),
        (PageSignals(text="Sorry, this content isn't available right now"), "example.org",
         "unavailable placeholder"),
        (PageSignals(text="抱歉，该内容已被删除"), "example.cn", "unavailable placeholder"),
        (PageSignals(text="   "), "example.org", "empty render"),
        # Counted by script: a dozen Chinese characters are a post, not an empty page...
        (PageSignals(text="律师被带走了，家人不知情"), "weibo.com", None),
        (PageSignals(text="ログインしてください"), "example.jp", None),
        # ...but a loading notice, in any script, is still empty.
        (PageSignals(text="加载中..."), "example.cn", "empty render"),
        (PageSignals(text="로그인하세요"), "example.kr", "empty render"),
        (PageSignals(text="Loading..."), "example.org", "empty render"),
        (PageSignals(text="", media=2), "example.org", None),  # a photo post with no caption
        # Per platform: patterns only that platform shows.
        (PageSignals(text=POST, title="Log in to X / X"), "x.com", "login wall"),
        (PageSignals(text=POST, title="Log in to X / X"), "mobile.twitter.com", "login wall"),
        (PageSignals(text=POST, title="Log in to X / X"), "example.org", None),
        # A logged-out post page carries sign-in banners: not a wall.
        (PageSignals(text=POST + " Don't miss what's happening. Log in Sign up",
                     title="user on X: \"...\" / X", media=1), "x.com", None),
        (PageSignals(text=POST, title="微博登录"), "weibo.com", "login wall"),
        (PageSignals(text=POST, media=1), "example.org", None),
        (PageSignals(text="请在微信客户端打开链接"), "mp.weixin.qq.com", "login wall"),
    ],
)  # fmt: skip
def test_assess(signals, host, reason):
    verdict = assess(signals, host)
    assert assess(signals, host, 503).suspect
    if reason is None:
        assert not verdict.suspect, verdict
        assert verdict.quality == "ok"
    else:
        assert verdict.suspect and verdict.reason.startswith(reason), verdict
        assert verdict.quality == "suspect"


def test_text_size_counts_by_script():
    assert text_size("律师被带走了，家人不知情") == 11 * 3 + 1  # 11 Han characters and a comma
    assert text_size("ログイン") == 4 * 2  # katakana
    assert text_size("로그인") == 3 * 2  # Hangul syllables
    assert text_size(" a b\n c ") == 3  # whitespace counts nothing
    assert text_size("𠀀") == 3  # beyond the Basic Multilingual Plane (Extension B)
    verdict = assess(PageSignals(text="加载中"), "example.cn")
    assert verdict.reason == "empty render: 3 characters of text and no media"


def test_an_error_page_is_suspect():
    verdict = assess(PageSignals(text=POST, media=1), "example.org", 404)
    assert verdict.suspect and verdict.reason == "error page: the server answered HTTP 404"


def test_browser_hosts_match_subdomains_only():
    options = BrowserOptions(hosts=parse_hosts("x.com, Weibo.com,www.t.me"))
    assert options.hosts == ("x.com", "weibo.com", "t.me")
    assert options.host_wants_browser("x.com")
    assert options.host_wants_browser("mobile.x.com")
    assert options.host_wants_browser("M.WEIBO.COM")
    assert not options.host_wants_browser("notx.com")
    assert not options.host_wants_browser("x.com.evil.org")
    assert not options.host_wants_browser(None)
    assert parse_hosts("none") == () and parse_hosts("") == ()
    with pytest.raises(ArchiverError, match="not a host name"):
        parse_hosts("https://x.com/")


def test_page_time_limit_has_a_floor():
    with pytest.raises(ArchiverError, match="ARCHIVER_BROWSER_PAGE_SECONDS"):
        BrowserOptions(page_seconds=1)


def test_find_chromium(tmp_path):
    assert find_chromium(str(tmp_path / "missing")) is None
    script = tmp_path / "chromium"
    script.write_text("#!/bin/sh\n")
    assert find_chromium(str(script)) is None  # not executable
    script.chmod(0o755)
    assert find_chromium(str(script)) == str(script)


def test_platform_behaviours():
    assert platform_for("m.weibo.cn") is weibo
    assert platform_for("twitter.com") is x
    assert platform_for("example.org") is None
    for module in (weibo, x):
        assert module.HOSTS and module.__doc__


@pytest.mark.parametrize(
    ("value", "expected"),
    [("yes", True), ("TRUE", True), ("1", True), (True, True), ("no", False), ("", False),
     (None, False), ("0", False)],
)  # fmt: skip
def test_seed_browser_flag(value, expected):
    assert SeedSpec.build("https://example.org/", browser=value).browser is expected


def test_seed_browser_flag_rejects_other_words():
    with pytest.raises(InvalidSeed, match="invalid browser 'maybe'"):
        SeedSpec.build("https://example.org/", browser="maybe")
