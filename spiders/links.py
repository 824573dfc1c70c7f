"""Finding links and page requisites in HTML and CSS.

HTML is parsed in C by libxml2 (lxml, which Scrapy depends on): tags and attributes
come out decoded, character references resolved, and what sits in a comment or in a
script's text is not markup. Per-link work is where a crawl's time goes (PERF.md), so
Python does little per link while the page is read (a dictionary lookup: references are
de-duplicated as given), and the distinct ones are joined to the base when the page is
done (or when a ``<base>`` changes it): in one string operation when all are plain
absolute paths, else each by a fast path that gives urljoin's answer. CSS (``<style>``
text and stylesheets) is read with regular expressions, as is the ``<title>``.
"""

from __future__ import annotations

import codecs
import contextlib
import html
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

# The tags whose attributes load or link something, as libxml2 names them (lower case).
_TAGS = (
    "a", "area", "link", "img", "script", "iframe", "frame", "embed", "source", "video",
    "audio", "track", "input", "object", "body", "table", "td", "th", "image", "use",
    "base", "meta", "style",
)  # fmt: skip
# url(...) in any quoting, or @import with a bare string, in document order.
_CSS_REF = re.compile(
    rb"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.IGNORECASE,
)
_IMAGE_SET = re.compile(rb"image-set\(([^)]*)\)", re.IGNORECASE)
_CSS_STRING = re.compile(rb"""["']([^"']+)["']""")
# <meta http-equiv=refresh content="5; url='/next'">: the URL after the delay.
_REFRESH_URL = re.compile(
    r"""^\s*\d*\.?\d*\s*[;,]?\s*(?:url\s*=\s*)?["']?([^"']+)""", re.IGNORECASE
)
_TITLE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_SKIP = ("javascript:", "data:", "mailto:", "tel:", "about:", "blob:", "#")
_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() strips: ASCII whitespace only
# References urljoin only appends (to the origin, or to the base's folder): no dot, empty
# or parameter (";") segments in a relative path, no scheme, nothing urlsplit removes
# (tab, CR, LF; leading controls), and a query, if any, not empty.
_PATH = r"(?:/(?:[^./?#;\t\n\r][^/?#;\t\n\r]*)?)+"
_QUERY = r"(?:\?[^#\t\n\r]+)?"
_PLAIN_ABSOLUTE = re.compile(r"(?!//)" + _PATH + _QUERY)
_PLAIN_RELATIVE = re.compile(
    r"((?:\.\./)*)(?:[^\x00-\x20./?#;:][^/?#;:\t\n\r]*(?:/[^\x00-\x20./?#;:][^/?#;:\t\n\r]*)*/?"
    + _QUERY
    + ")?"
)
_FRAGMENT = re.compile(r"#.*")

# Attributes that load something the page needs to display (requisites), per tag.
_EMBED_ATTRS: dict[str, tuple[str, ...]] = {
    "img": ("src", "srcset", "data-src", "data-srcset"),
    "script": ("src",),
    "iframe": ("src",),
    "frame": ("src",),
    "embed": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "object": ("data",),
    "body": ("background",),
    "table": ("background",),
    "td": ("background",),
    "th": ("background",),
    "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"),
}
_REQUISITE_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "preload",
    "modulepreload",
    "prefetch",
    "manifest",
    "mask-icon",
}
# Resource hints name an origin to connect to, not a document: neither fetched nor followed.
_HINT_RELS = {"dns-prefetch", "preconnect"}
_SRCSET_ATTRS = ("srcset", "data-srcset")


# Where pages state their publication date (Open Graph, Highwire/Google Scholar, Dublin
# Core, schema.org microdata): a citation's "issued".
_PUBLISHED_PROPS = frozenset(("article:published_time", "og:published_time"))
_PUBLISHED_NAMES = frozenset(
    ("citation_publication_date", "citation_date", "dc.date.issued", "dcterms.issued",
     "article:published_time", "pubdate")
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


def _srcset(value: str) -> list[str]:
    """Candidate URLs of a srcset, as the HTML standard splits it: a URL runs to the next
    whitespace (commas inside it are kept), descriptors run to the next comma."""
    urls = []
    pos, end = 0, len(value)
    while pos < end:
        while pos < end and value[pos] in " \t\r\n\f,":
            pos += 1
        start = pos
        while pos < end and value[pos] not in " \t\r\n\f":
            pos += 1
        url = value[start:pos]
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            depth = 0  # skip descriptors, up to a comma outside parentheses
            while pos < end and not (value[pos] == "," and depth == 0):
                depth += {"(": 1, ")": -1}.get(value[pos], 0)
                pos += 1
        if url:
            urls.append(url)
    return urls


def _css_refs(css: bytes) -> list[bytes]:
    # Most CSS has no reference at all: a search for the words is far quicker than
    # the patterns' scan.
    lower = css.lower()
    refs = []
    if b"url(" in lower or b"@import" in lower:
        refs = [next((g for g in m.groups() if g), b"") for m in _CSS_REF.finditer(css)]
    if b"image-set(" in lower:  # image-set("a.png" 1x): strings, not url()
        for image_set in _IMAGE_SET.finditer(css):
            refs += _CSS_STRING.findall(image_set.group(1))
    return refs


class _Resolver:
    """Collects references per target list, each distinct one once, and joins them
    against the base in a batch, dropping fragments and non-http(s) URLs."""

    def __init__(self, base: str, encoding: str):
        self.encoding = encoding
        # Per target list (links, requisites, redirects): each reference as given, with
        # where it was first found (the context of its outlink line), in document order.
        self.found: tuple[dict[str, str], ...] = ({}, {}, {})
        self.urls: tuple[list[str], ...] = ([], [], [])
        self.where: tuple[dict[str, str], ...] = ({}, {}, {})
        self._joined = [0, 0, 0]  # how many of ``found`` were joined already
        self._refs: tuple[set[str], ...] = (set(), set(), set())  # stripped, joined already
        self.set_base(base)

    def set_base(self, base: str) -> None:
        self.base = base
        parts = urlsplit(base)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        # What urljoin puts before a plain relative path: the base's folder, its dot and
        # empty segments resolved (urljoin's own answer for one, less the one).
        folder = urljoin(base, "a")[:-1]
        self.folder = folder if folder.startswith(("http://", "https://")) else None
        self._parents: dict[int, str] = {}  # the same for "../" (1), "../../" (2), ...

    def rebase(self, base: str) -> None:
        """A ``<base>``: what was found before it is joined against the base it had."""
        self.flush(keep_refs=True)
        self.set_base(base)

    def join(self, ref: str) -> str:
        # Fast paths for the commonest references, an absolute path or a plain relative
        # one, with nothing urljoin would change: the same answer, without its parsing.
        if ref[:1] == "/":
            if _PLAIN_ABSOLUTE.fullmatch(ref):
                return self.origin + ref
        elif ref and self.folder is not None:
            plain = _PLAIN_RELATIVE.fullmatch(ref)
            if plain:
                ups = plain.end(1) // 3  # leading "../"
                if not ups:
                    return self.folder + ref
                folder = self._parents.get(ups)
                if folder is None:
                    folder = self._parents[ups] = urljoin(self.base, "../" * ups + "a")[:-1]
                return folder + ref[plain.end(1) :]
        return urljoin(self.base, ref)

    def add_css(self, raw: bytes, target: int, where: str, encoding: str | None = None) -> None:
        """A reference read from CSS: decoded, character references resolved."""
        text = raw.decode(encoding or self.encoding, "replace")
        if "&" in text:
            text = html.unescape(text)
        self.found[target].setdefault(text, where)

    def flush(self, *, keep_refs: bool = False) -> None:
        """Join what was found since the last flush. ``keep_refs``: a later flush (after a
        ``<base>``) skips the references joined in this one, as given, even if its new
        base would join them elsewhere."""
        for target in range(3):
            found = self.found[target]
            start = self._joined[target]
            if start == len(found):
                continue
            self._joined[target] = len(found)
            raws, contexts = list(found)[start:], list(found.values())[start:]
            joined = None if start else self._join_batch(raws, keep_refs, self._refs[target])
            if joined is None:
                self._join_each(target, raws, contexts)
                continue
            # First context of each URL, and each URL once in document order: dict work in C.
            where = dict(zip(reversed(joined), reversed(contexts), strict=True))
            where.pop("", None)
            order = dict.fromkeys(joined)
            order.pop("", None)
            self.where[target].update(where)
            self.urls[target].extend(order)

    def _join_batch(self, raws: list[str], keep_refs: bool, refs: set[str]) -> list[str] | None:
        """Every reference joined, or "" where it is dropped. When all of them are plain
        absolute paths (a link-dense page of one site), the joins are one string
        operation on the page's references at once. None when a reference holds a line
        break (``_join_each`` takes them then)."""
        stripped = [raw.strip(_SPACE) for raw in raws]
        if keep_refs:
            refs.update(stripped)
        text = "\n".join(stripped)
        if text.count("\n") != len(raws) - 1:
            return None
        if "#" in text:
            text = _FRAGMENT.sub("", text)
            stripped = text.split("\n")
        if self._all_plain_absolute(text):
            origin = self.origin
            return (origin + text.replace("\n", "\n" + origin)).split("\n")
        return [self._join_one(ref) for ref in stripped]

    def _all_plain_absolute(self, text: str) -> bool:
        """Is each line of ``text`` a path that ``join`` only appends to the origin?"""
        return (
            text[:1] == "/"
            and self.origin.startswith(("http://", "https://"))
            and text.count("\n/") == text.count("\n")
            and "//" not in text
            and "/." not in text
            and ";" not in text
            and "\t" not in text
            and "\r" not in text
            and "?\n" not in text
            and text[-1:] != "?"
        )

    def _join_one(self, ref: str) -> str:
        """A stripped reference without its fragment, joined; "" when it is dropped."""
        if not ref or ref[:11].lower().startswith(_SKIP):
            return ""
        try:
            url = self.join(ref)
        except ValueError:  # e.g. "http://[object Object]/": skip this one, keep the rest
            return ""
        return url if url.startswith(("http://", "https://")) else ""

    def _join_each(self, target: int, raws: list[str], contexts: list[str]) -> None:
        refs, urls, where = self._refs[target], self.urls[target], self.where[target]
        for raw, context in zip(raws, contexts, strict=True):
            ref = raw.strip(_SPACE)
            if not ref or ref in refs:
                continue
            refs.add(ref)
            url = self._join_one(ref.split("#", 1)[0])
            if url and url not in where:
                where[url] = context
                urls.append(url)


_LINKS, _REQUISITES, _REDIRECTS = 0, 1, 2
_parsers = threading.local()  # libxml2 parsers are not shared between threads


def _parse(body: bytes, encoding: str) -> etree._Element | None:
    """The page's element tree, the bytes decoded as ``encoding`` (invalid bytes replaced)."""
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.HTMLParser(
            encoding="utf-8", recover=True, no_network=True, huge_tree=True,
            remove_comments=True, remove_pis=True, collect_ids=False,
        )  # fmt: skip
    if codecs.lookup(encoding).name != "utf-8":
        body = body.decode(encoding, "replace").encode("utf-8")
    try:
        root = etree.fromstring(body, parser)
        if body.count(b"<") > _MAX_DEPTH and _too_deep(parser):
            root = etree.fromstring(_flattened(body), parser)
    except etree.LxmlError:  # nothing libxml2 can make a document of (empty, binary)
        return None
    return root


# libxml2 stops reading a page nested deeper than this (unclosed <div>s, say): a page
# that does is read again with its nesting taken out, so nothing after that is missed.
_MAX_DEPTH = 2048
# A tag, its attributes up to the closing ">", which may sit inside a quoted value;
# possessive, so a page of stray quotes cannot make the match backtrack.
_ANY_TAG = re.compile(rb"""<(/?)([a-zA-Z][-a-zA-Z0-9:]*)((?:"[^"<]*"|'[^'<]*'|[^>])*+)>""")


def _too_deep(parser: etree.HTMLParser) -> bool:
    last = parser.error_log.last_error
    return last is not None and last.type == etree.ErrorTypes.ERR_RESOURCE_LIMIT


def _flattened(body: bytes) -> bytes:
    """The page without nesting: each tag read here made empty, every other tag dropped
    (a ``<style>`` is kept whole: its text is read)."""

    def flat(tag: re.Match[bytes]) -> bytes:
        name = tag.group(2).lower()
        if name == b"style":
            return tag.group(0)
        if tag.group(1) or name.decode("ascii") not in _TAGS:
            return b""
        return b"<%s%s></%s>" % (name, tag.group(3), name)

    return _ANY_TAG.sub(flat, body)


def extract_html(body: bytes, base_url: str, encoding: str = "utf-8") -> Extracted:
    resolve = _Resolver(base_url, encoding)
    links, requisites, redirects = resolve.found
    title = site_name = published = None
    match = _TITLE.search(body)
    if match:
        title = _clean_title(html.unescape(match.group(1).decode(encoding, "replace")))
    root = _parse(body, encoding)
    styles: list[str] = []  # <style> blocks, read after the tags
    for element in root.iter(_TAGS) if root is not None else ():
        tag = element.tag
        if tag == "a" or tag == "area":
            # The commonest tag by far: its href goes straight to the links.
            href = element.get("href")
            if href is not None and href not in links:
                links[href] = tag + "/@href"
            style = element.get("style")
            if style:
                for ref in _css_refs(style.encode("utf-8", "replace")):
                    requisites.setdefault(ref.decode("utf-8"), tag + "/@style")
            continue
        attrs = element.attrib
        if tag == "style" and element.text:
            styles.append(element.text)
        if tag == "base":
            href = attrs.get("href")
            if href is not None:
                with contextlib.suppress(ValueError):
                    resolve.rebase(urljoin(base_url, href))
            continue
        if tag == "meta":
            prop = attrs.get("property", "").lower()
            content = attrs.get("content")
            if prop == "og:title" and not title and content:
                title = _clean_title(content)
            elif prop == "og:site_name" and not site_name and content:
                site_name = _clean_title(content)
            elif (
                content
                and not published
                and (
                    prop in _PUBLISHED_PROPS
                    or attrs.get("name", "").lower() in _PUBLISHED_NAMES
                    or attrs.get("itemprop", "").lower() == "datepublished"
                )
            ):
                published = _clean_title(content)
            if attrs.get("http-equiv", "").lower() == "refresh":
                match = _REFRESH_URL.match(attrs.get("content", ""))
                if match:  # a client-side redirect: followed like a 3xx
                    redirects.setdefault(match.group(1), "meta/@content")
            continue
        style = attrs.get("style")
        if style:
            for ref in _css_refs(style.encode("utf-8", "replace")):
                requisites.setdefault(ref.decode("utf-8"), tag + "/@style")
        if tag == "link":
            # rel is a space-separated, case-insensitive list: "alternate stylesheet" is a
            # stylesheet, "alternate" alone a feed or translation.
            rels = set(attrs.get("rel", "").lower().split())
            href = attrs.get("href")
            if rels & _REQUISITE_RELS:
                if href is not None:
                    requisites.setdefault(href, "link/@href")
                for ref in _srcset(attrs.get("imagesrcset", "")):
                    requisites.setdefault(ref, "link/@href")
            elif href is not None and rels.isdisjoint(_HINT_RELS):
                # search, alternate, next/prev, canonical, author, license, ...: an outlink,
                # followed within the seed's scope like an <a> (as wget and Heritrix do).
                links.setdefault(href, "link/@href")
        elif tag == "input":
            src = attrs.get("src")
            if attrs.get("type", "").lower() == "image" and src is not None:
                requisites.setdefault(src, "input/@src")
        else:
            for name in _EMBED_ATTRS.get(tag, ()):
                value = attrs.get(name)
                if not value:
                    continue
                if name in _SRCSET_ATTRS:
                    for ref in _srcset(value):
                        requisites.setdefault(ref, f"{tag}/@{name}")
                else:
                    requisites.setdefault(value, f"{tag}/@{name}")
    for block in styles:
        for ref in _css_refs(block.encode("utf-8", "replace")):
            resolve.add_css(ref, _REQUISITES, "=EMBED_MISC", "utf-8")
    resolve.flush()
    urls, where = resolve.urls, resolve.where
    return Extracted(
        urls[_LINKS], urls[_REQUISITES], title, urls[_REDIRECTS], site_name, published,
        {"L": where[_LINKS], "E": where[_REQUISITES], "R": where[_REDIRECTS]},
    )  # fmt: skip


def extract_css(body: bytes, base_url: str, encoding: str = "utf-8") -> Extracted:
    resolve = _Resolver(base_url, encoding)
    for ref in _css_refs(body):
        resolve.add_css(ref, _REQUISITES, "=EMBED_MISC")
    resolve.flush()
    requisites = resolve.urls[_REQUISITES]
    return Extracted([], requisites, contexts={"E": resolve.where[_REQUISITES]})


def _clean_title(text: str) -> str | None:
    text = " ".join(text.split())
    return text[:500] or None
