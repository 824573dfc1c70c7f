"""A login profile's cookie rules without a crawl: which requests a cookie goes to (its
domain, path and secure flag), the middleware that adds a profile's cookies and takes them
off requests not entitled to them, and the redaction of their values in request records."""

from __future__ import annotations

from scrapy.http import Request

from archiver.crawl.meta import META
from archiver.crawl.profilecookies import ProfileCookiesMiddleware, SignedIn
from archiver.profiles.cookiefile import parse_line
from archiver.profiles.store import Profile
from archiver.secrets import redact_cookies

SESSION = "SESSIONe5b0c9a17d42"


def _cookie(line: str):  # type: ignore[no-untyped-def]
    cookie = parse_line(line, "test")
    assert cookie is not None
    return cookie


def test_cookies_follow_their_domain_path_and_secure_flags():
    cookies = (
        _cookie("#HttpOnly_.weibo.com\tTRUE\t/\tTRUE\t0\tSUB\tsub-value"),  # domain, secure
        _cookie("m.weibo.com\tFALSE\t/api\tFALSE\t0\tm\tm-value"),  # host-only, a path
        _cookie("weibo.com\tFALSE\t/\tFALSE\t1\told\told-value"),  # expired
    )
    profile = Profile("alice", ("m.weibo.com",), cookies)  # the profile: m.weibo.com only
    names = lambda url: [c.name for c in profile.cookies_for(url)]  # noqa: E731
    assert names("https://m.weibo.com/api/x") == ["SUB", "m"]
    assert names("https://m.weibo.com/apix") == ["SUB"]  # /apix is not under /api
    assert names("http://m.weibo.com/api/x") == ["m"]  # SUB is secure: https only
    assert names("https://x.m.weibo.com/api/x") == ["SUB"]  # a subdomain; m is host-only
    assert names("https://weibo.com/") == []  # .weibo.com matches, but it is not a profile host
    assert names("https://evilweibo.com/") == []


def test_the_middleware_takes_profile_cookies_off_requests_not_entitled():
    cookies = (_cookie(f"127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\t{SESSION}"),)
    middleware = ProfileCookiesMiddleware(
        SignedIn({"alice": Profile("alice", ("127.0.0.1",), cookies)})
    )
    signed = Request(
        "http://127.0.0.1/", meta={META: {"profile": "alice"}}, headers={"Cookie": "a=1"}
    )
    middleware.process_request(signed)
    assert signed.headers["Cookie"] == f"a=1; sid={SESSION}".encode()
    # A copy (a redirect to another host, a browser's own jar) loses it; the rest stays.
    elsewhere = signed.replace(url="http://127.0.0.2/")
    middleware.process_request(elsewhere)
    assert elsewhere.headers["Cookie"] == b"a=1"
    signed_out = Request("http://127.0.0.1/", headers={"Cookie": f"sid={SESSION}"})
    middleware.process_request(signed_out)
    assert "Cookie" not in signed_out.headers


def test_profile_cookie_values_are_redacted_names_kept():
    block = b"GET / HTTP/1.1\r\nHost: a\r\nCookie: visit=first; sid=S3CR3T; prefs=P\r\n\r\n"
    clean, names = redact_cookies(block, {"sid": {"S3CR3T"}, "prefs": {"P"}, "visit": {"other"}})
    assert clean == (
        b"GET / HTTP/1.1\r\nHost: a\r\nCookie: visit=first; sid=[redacted by archiver];"
        b" prefs=[redacted by archiver]\r\n\r\n"
    )
    assert names == ["sid", "prefs"]
