from __future__ import annotations

import pytest

from archiver.errors import ArchiverError, InvalidURL
from archiver.urls import normalize_url, surt_key, url_host


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://Bücher.Example/a", "http://xn--bcher-kva.example/a"),
        ("http://☃.net/", "http://xn--n3h.net/"),  # idna rejects, built-in codec accepts
        ("HTTP://Example.ORG:80/a#frag", "http://example.org/a"),
        ("https://example.org:443", "https://example.org/"),
        ("http://example.org:443/", "http://example.org:443/"),
        ("http://example.org:8080/x", "http://example.org:8080/x"),
        ("https://example.org:08080/", "https://example.org:8080/"),
        ("http://example.org:/a", "http://example.org/a"),
        ("  https://example.org/page \n", "https://example.org/page"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org?q=1", "https://example.org/?q=1"),
        ("https://example.org/a?", "https://example.org/a"),
        ("https://example.org/a?b=2&a=1&a=0", "https://example.org/a?b=2&a=1&a=0"),
        ("https://example.org/a b/ü", "https://example.org/a%20b/%C3%BC"),
        ("https://example.org/?q=ä b", "https://example.org/?q=%C3%A4%20b"),
        ("https://example.org/a%2Fb?x=%2f", "https://example.org/a%2Fb?x=%2f"),
        ("https://example.org/100%", "https://example.org/100%25"),
        ("https://example.org/a/./b/../c", "https://example.org/a/c"),
        ("https://example.org/../../a/..", "https://example.org/"),
        ("https://example.org/?p=../x", "https://example.org/?p=../x"),
        ("https://example.org/?a='1'&b[]=2", "https://example.org/?a=%271%27&b%5B%5D=2"),
        ("http://192.0.2.1:8000/", "http://192.0.2.1:8000/"),
        ("http://[2001:DB8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("http://[::1]/", "http://[::1]/"),
        ("http://a_b.example/", "http://a_b.example/"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


IDEMPOTENCE_INPUTS = [
    "http://bücher.example/ä ö?x=ü#f",
    "HTTP://Example.ORG:80/a/../b/./c/",
    "https://example.org/%7Euser/a%2Fb?q=%zz&r=%41",
    "https://example.org//double//slash/..",
    "https://example.org/a|b^c{d}`e\\f",
    "https://example.org/?a='x'&b=\"y\"&c=<z>",
    "http://[2001:DB8::1]/",
    "https://FAß.de/straße",
    "https://example.org/\t tab",
    "https://example.org:8443/?",
]


@pytest.mark.parametrize("raw", IDEMPOTENCE_INPUTS)
def test_idempotent(raw: str) -> None:
    once = normalize_url(raw)
    assert normalize_url(once) == once


@pytest.mark.parametrize("raw", IDEMPOTENCE_INPUTS)
def test_stable_under_w3lib(raw: str) -> None:
    # The crawler requests URLs through w3lib.safe_url_string; it must not change them.
    w3lib_url = pytest.importorskip("w3lib.url")
    once = normalize_url(raw)
    assert w3lib_url.safe_url_string(once) == once


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "empty URL"),
        ("   ", "empty URL"),
        ("ftp://example.org/file", "only http and https URLs can be archived"),
        ("javascript:alert(1)", "only http and https URLs can be archived"),
        ("mailto:someone@example.org", "only http and https URLs can be archived"),
        ("file:///etc/passwd", "only http and https URLs can be archived"),
        ("https://user:pass@example.org/", "user:pass@"),
        ("https://user@example.org/", "credentials must not be stored"),
        ("https://example.org:99999/", "invalid port '99999'"),
        ("https://example.org:0/", "invalid port '0'"),
        ("https://example.org:http/", "invalid port 'http'"),
        ("https:///path", "has no host name"),
        ("https://:8080/", "has no host name"),
        ("https://exa mple.org/", "invalid host name"),
        ("https://exa<mple.org/", "invalid host name"),
        ("https://example..org/", "invalid host name"),
        ("https://999.1.1.1/", "invalid IPv4 address"),
        ("https://[::zz]/", "invalid IPv6 address"),
        ("https://::1/", "put IPv6 addresses in brackets"),
        ("https:example.org", "missing '//'"),
    ],
)
def test_rejects(raw: str, fragment: str) -> None:
    with pytest.raises(InvalidURL) as info:
        normalize_url(raw)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert isinstance(info.value, ArchiverError)


def test_message_quotes_offending_value() -> None:
    with pytest.raises(InvalidURL, match=r"'ftp://example\.org/file'"):
        normalize_url("ftp://example.org/file")


def test_message_truncates_long_value() -> None:
    raw = "ftp://example.org/" + "a" * 1000
    with pytest.raises(InvalidURL) as info:
        normalize_url(raw)
    assert len(str(info.value)) < 400
    assert "..." in str(info.value)


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ("example.org/page", "'https://example.org/page'"),
        ("www.Example.org", "'https://www.example.org/'"),
        ("localhost:8080/x", "'https://localhost:8080/x'"),
        ("//example.org/a", "'https://example.org/a'"),
        ("http//example.org/a", "'http://example.org/a'"),
    ],
)
def test_missing_scheme_suggests_fix(raw: str, suggestion: str) -> None:
    with pytest.raises(InvalidURL, match="has no scheme") as info:
        normalize_url(raw)
    assert f"write it as {suggestion}" in str(info.value)


def test_missing_scheme_without_plausible_host() -> None:
    with pytest.raises(InvalidURL, match=r"https://example\.org/page"):
        normalize_url("hello world")


def test_non_string_rejected() -> None:
    with pytest.raises(InvalidURL, match="must be text"):
        normalize_url(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.org/a", "example.org"),
        ("http://example.org:8080/a?b", "example.org"),
        ("http://xn--bcher-kva.example/", "xn--bcher-kva.example"),
        ("http://[2001:db8::1]:8080/", "[2001:db8::1]"),
        ("http://192.0.2.1/", "192.0.2.1"),
    ],
)
def test_url_host(url: str, host: str) -> None:
    assert url_host(url) == host


def test_url_host_needs_absolute_url() -> None:
    with pytest.raises(InvalidURL):
        url_host("example.org/a")


def test_surt_key() -> None:
    assert surt_key("http://example.org/") == "org,example)/"
    assert surt_key("https://www.Example.org/a?b=1&a=2") == "org,example)/a?a=2&b=1"
    assert surt_key(normalize_url("http://example.org:8080/x")) == "org,example:8080)/x"


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("https://xn--fiqs8s.xn--fiqz9s/%E4%B8%AD%E6%96%87/?q=%E5%A4%A7#%E4%BA%BA",
         "https://中国.中國/中文/?q=大#人"),
        ("https://xn--bcher-kva.example:8443/a%C3%A9", "https://bücher.example:8443/aé"),
        # Escaped ASCII stays escaped: %2F is not a path separator, %20 not a space.
        ("https://example.org/a%2Fb%20c?x=%26", "https://example.org/a%2Fb%20c?x=%26"),
        # Right-to-left, invisible and invalid UTF-8 stay escaped (RFC 3987 3.2, 4.1).
        ("https://example.org/%D7%A9%E2%80%8B/%E4%B8/%FF", "https://example.org/%D7%A9%E2%80%8B/%E4%B8/%FF"),
        ("http://[::1]:8080/%F0%9F%98%80", "http://[::1]:8080/😀"),
        ("https://xn--zz.example/", "https://xn--zz.example/"),  # not valid IDNA: as it is
    ],
)  # fmt: skip
def test_display_iri(uri, shown):
    from archiver.urls import display_iri

    assert display_iri(uri) == shown
    assert normalize_url(shown) == normalize_url(uri)  # the IRI leads back to the same URI
