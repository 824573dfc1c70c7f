"""Finding links and page requisites in HTML and CSS with one regex pass each.

Like Heritrix's ExtractorHTML, this reads tags and attributes with regular
expressions rather than building a DOM: per-link Python work is where a crawl's
time goes (PERF.md), so hrefs are de-duplicated before they are joined.
"""

from __future__ import annotations

import contextlib
import html
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

_TAG = re.compile(
    rb"<(a|area|link|img|script|iframe|frame|embed|source|video|audio|track|input|object|"
    rb"body|table|td|th|image|use|base|meta|style)\b"
    # Attributes up to the closing ">", which may sit inside a quoted value; possessive,
    # so a page of stray quotes cannot make the match backtrack.
    rb"""((?:"[^"<]*"|'[^'<]*'|[^>])*+)>""",
    re.IGNORECASE,
)
_ATTR = re.compile(rb"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_STYLE_BLOCK = re.compile(rb"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)
# url(...) in any quoting, or @import with a bare string, in document order.
_CSS_REF = re.compile(
    rb"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
_IMAGE_SET = re.compile(rb"image-set\(([^)]*)\)", re.IGNORECASE)
_CSS_STRING = re.compile(rb"""["']([^"']+)["']""")
# <meta http-equiv=refresh content="5; url='/next'">: the URL after the delay.
_REFRESH_URL = re.compile(
    rb"""^\s*\d*\.?\d*\s*[;,]?\s*(?:url\s*=\s*)?["']?([^"']+)""", re.IGNORECASE
)
_TITLE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SKIP = (b"javascript:", b"data:", b"mailto:", b"tel:", b"about:", b"blob:", b"#")

# Attributes that load something the page needs to display (requisites), per tag.
_EMBED_ATTRS: dict[bytes, tuple[bytes, ...]] = {
    b"img": (b"src", b"srcset", b"data-src", b"data-srcset"),
    b"script": (b"src",),
    b"iframe": (b"src",),
    b"frame": (b"src",),
    b"embed": (b"src",),
    b"source": (b"src", b"srcset"),
    b"video": (b"src", b"poster"),
    b"audio": (b"src",),
    b"track": (b"src",),
    b"object": (b"data",),
    b"body": (b"background",),
    b"table": (b"background",),
    b"td": (b"background",),
    b"th": (b"background",),
    b"image": (b"href", b"xlink:href"),
    b"use": (b"href", b"xlink:href"),
}
_REQUISITE_RELS = {
    b"stylesheet",
    b"icon",
    b"shortcut",
    b"apple-touch-icon",
    b"preload",
    b"modulepreload",
    b"prefetch",
    b"manifest",
    b"mask-icon",
}
# Resource hints name an origin to connect to, not a document: neither fetched nor followed.
_HINT_RELS = {b"dns-prefetch", b"preconnect"}
_SRCSET_ATTRS = (b"srcset", b"data-srcset")


# Where pages state their publication date (Open Graph, Highwire/Google Scholar, Dublin
# Core, schema.org microdata): a citation's "issued".
_PUBLISHED_PROPS = frozenset((b"article:published_time", b"og:published_time"))
_PUBLISHED_NAMES = frozenset(
    (b"citation_publication_date", b"citation_date", b"dc.date.issued", b"dcterms.issued",
     b"article:published_time", b"pubdate")
)  # fmt: skip


@dataclass(frozen=True)
class Extracted:
    links: list[str]  # navigation: followed per the seed's scope and depth
    requisites: list[str]  # needed to replay the page: always fetched
    title: str | None = None
    redirects: list[str] = field(default_factory=list)  # <meta http-equiv=refresh>
    site_name: str | None = None  # og:site_name
    published: str | None = None  # article:published_time and kin, as the page gives it
    # Where each URL was found, as Heritrix writes it in outlink lines: "a/@href",
    # "img/@src", "=EMBED_MISC" (CSS); per list: {"L": links, "E": requisites, "R": ...}.
    contexts: dict[str, dict[str, str]] = field(default_factory=dict)


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for match in _ATTR.finditer(raw):
        name = match.group(1).lower()
        if name not in out:
            out[name] = match.group(2) or match.group(3) or match.group(4) or b""
    return out


def _srcset(value: bytes) -> list[bytes]:
    """Candidate URLs of a srcset, as the HTML standard splits it: a URL runs to the next
    whitespace (commas inside it are kept), descriptors run to the next comma."""
    urls = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and value[pos : pos + 1] in b" \t\r\n\f,":
            pos += 1
        start = pos
        while pos < end and value[pos : pos + 1] not in b" \t\r\n\f":
            pos += 1
        url = value[start:pos]
        if url.endswith(b","):
            url = url.rstrip(b",")
        else:
            depth = 0  # skip descriptors, up to a comma outside parentheses
            while pos < end and not (value[pos : pos + 1] == b"," and depth == 0):
                depth += {b"(": 1, b")": -1}.get(value[pos : pos + 1], 0)
                pos += 1
        if url:
            urls.append(url)
    return urls


def _css_refs(css: bytes) -> list[bytes]:
    refs = [next((g for g in m.groups() if g), b"") for m in _CSS_REF.finditer(css)]
    for image_set in _IMAGE_SET.finditer(css):  # image-set("a.png" 1x): strings, not url()
        refs += _CSS_STRING.findall(image_set.group(1))
    return refs


class _Resolver:
    """Joins raw references against a base once each, dropping fragments and non-http."""

    def __init__(self, base: str, encoding: str):
        self.encoding = encoding
        self.tag = ""  # the tag being read, for the context of what it yields
        self.context: dict[int, dict[str, str]] = {}
        # Per target list: a URL both linked and embedded (<a href=x.jpg><img src=x.jpg>)
        # must still be fetched as a requisite.
        self.seen_raw: set[tuple[int, bytes]] = set()
        self.seen: set[tuple[int, str]] = set()
        self.set_base(base)

    def set_base(self, base: str) -> None:
        self.base = base
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def join(self, ref: str) -> str:
        # Fast path for the commonest href, an absolute path with no dot segments:
        # the same answer urljoin gives, without its parsing.
        if ref[:1] == "/" and ref[1:2] != "/" and "/." not in ref:
            return self.origin + ref
        return urljoin(self.base, ref)

    def __call__(self, raw: bytes, into: list[str], attr: str = "href") -> None:
        raw = raw.strip()
        key = (id(into), raw)
        if not raw or key in self.seen_raw:
            return
        self.seen_raw.add(key)
        if raw[:11].lower().startswith(_SKIP):
            return
        text = raw.decode(self.encoding, "replace")
        if "&" in text:
            text = html.unescape(text)
        text = text.split("#", 1)[0]
        if not text:
            return
        try:
            url = self.join(text)
        except ValueError:  # e.g. "http://[object Object]/": skip this one, keep the rest
            return
        if not url.startswith(("http://", "https://")) or (id(into), url) in self.seen:
            return
        self.seen.add((id(into), url))
        into.append(url)
        where = attr if attr.startswith("=") else f"{self.tag}/@{attr}"
        self.context.setdefault(id(into), {})[url] = where

    def contexts(self, **lists: list[str]) -> dict[str, dict[str, str]]:
        return {hop: self.context.get(id(urls), {}) for hop, urls in lists.items()}


def extract_html(body: bytes, base_url: str, encoding: str = "utf-8") -> Extracted:
    links: list[str] = []
    requisites: list[str] = []
    redirects: list[str] = []
    resolve = _Resolver(base_url, encoding)
    title = site_name = published = None
    match = _TITLE.search(body)
    if match:
        title = _clean_title(match.group(1), encoding)
    for tag_match in _TAG.finditer(body):
        tag = tag_match.group(1).lower()
        attrs = _attrs(tag_match.group(2))
        resolve.tag = tag.decode("ascii")
        if tag == b"base":
            if b"href" in attrs:
                with contextlib.suppress(ValueError):
                    href = html.unescape(attrs[b"href"].decode(encoding, "replace"))
                    resolve.set_base(urljoin(base_url, href))
            continue
        if tag == b"meta":
            prop = attrs.get(b"property", b"").lower()
            content = attrs.get(b"content")
            if prop == b"og:title" and not title and content:
                title = _clean_title(content, encoding)
            elif prop == b"og:site_name" and not site_name and content:
                site_name = _clean_title(content, encoding)
            elif (
                content
                and not published
                and (
                    prop in _PUBLISHED_PROPS
                    or attrs.get(b"name", b"").lower() in _PUBLISHED_NAMES
                    or attrs.get(b"itemprop", b"").lower() == b"datepublished"
                )
            ):
                published = _clean_title(content, encoding)
            if attrs.get(b"http-equiv", b"").lower() == b"refresh":
                match = _REFRESH_URL.match(attrs.get(b"content", b""))
                if match:  # a client-side redirect: followed like a 3xx
                    resolve(match.group(1), redirects, "content")
            continue
        if b"style" in attrs:
            for ref in _css_refs(attrs[b"style"]):
                resolve(ref, requisites, "style")
        if tag in (b"a", b"area"):
            if b"href" in attrs:
                resolve(attrs[b"href"], links)
        elif tag == b"link":
            # rel is a space-separated, case-insensitive list: "alternate stylesheet" is a
            # stylesheet, "alternate" alone a feed or translation.
            rels = set(attrs.get(b"rel", b"").lower().split())
            if rels & _REQUISITE_RELS:
                if b"href" in attrs:
                    resolve(attrs[b"href"], requisites)
                for ref in _srcset(attrs.get(b"imagesrcset", b"")):
                    resolve(ref, requisites)
            elif b"href" in attrs and rels.isdisjoint(_HINT_RELS):
                # search, alternate, next/prev, canonical, author, license, ...: an outlink,
                # followed within the seed's scope like an <a> (as wget and Heritrix do).
                resolve(attrs[b"href"], links)
        elif tag == b"input":
            if attrs.get(b"type", b"").lower() == b"image" and b"src" in attrs:
                resolve(attrs[b"src"], requisites, "src")
        else:
            for name in _EMBED_ATTRS.get(tag, ()):
                value = attrs.get(name)
                if not value:
                    continue
                attr = name.decode("ascii")
                if name in _SRCSET_ATTRS:
                    for ref in _srcset(value):
                        resolve(ref, requisites, attr)
                else:
                    resolve(value, requisites, attr)
    for block in _STYLE_BLOCK.finditer(body):
        for ref in _css_refs(block.group(1)):
            resolve(ref, requisites, "=EMBED_MISC")
    return Extracted(
        links, requisites, title, redirects, site_name, published,
        resolve.contexts(L=links, E=requisites, R=redirects),
    )  # fmt: skip


def extract_css(body: bytes, base_url: str, encoding: str = "utf-8") -> Extracted:
    requisites: list[str] = []
    resolve = _Resolver(base_url, encoding)
    for ref in _css_refs(body):
        resolve(ref, requisites, "=EMBED_MISC")
    return Extracted([], requisites, contexts=resolve.contexts(E=requisites))


def _clean_title(raw: bytes, encoding: str) -> str | None:
    text = html.unescape(raw.decode(encoding, "replace"))
    text = " ".join(text.split())
    return text[:500] or None
