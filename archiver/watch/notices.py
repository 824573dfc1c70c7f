"""Where a removal notice counts: in the place a platform puts one, not in a post quoting it.

A post that says "my friend's account: Account suspended" contains the words of X's
notice, so matching the whole page would confirm a removal that did not happen; and
Facebook, or X serving a crawler, put the post's own text in the ``<title>``, so even the
title can quote a notice. A notice counts only where such a notice stands, with the seed's
own content missing as well:

- when the title of the seed's last present capture is known, the notice counts (in the
  title or anywhere in the visible text) only if that title is nowhere on the page: not
  in the ``<title>``, the visible text, or the ``og:title`` (the catalog's title when a
  page has none). A platform's notice page has its own title; a post keeps the post's;
- when it is not (a first capture), the notice counts in the page's ``<title>`` or on a
  short page: at most ``quality.SHORT`` characters of visible text (the bound the
  browser quality check uses for placeholders): a notice page is a sentence and some
  chrome, a post page with its comments and menus is longer.

Visible text is the page without its title, scripts, styles, templates, comments and tags,
entities decoded and whitespace collapsed: words in a script's data or an attribute
are not shown to a reader, and a JavaScript shell carries the post's text there.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from archiver.browser.quality import SHORT
from archiver.watch.patterns import RemovalPatterns

MIN_DISTINCT_TITLE = 4  # characters: a shorter previous title proves nothing, there or not

# Elements whose content a reader never sees as text. An unclosed one runs to the end of
# the page, as in a browser; each search starts where the last one ended, so a hostile
# page of unclosed tags costs one pass, not one pass per tag.
_HIDDEN_OPEN = re.compile(rb"<!--|<(script|style|template|title)\b", re.IGNORECASE)
_HIDDEN_CLOSE = {
    name: re.compile(rb"</" + name + rb"\s*>", re.IGNORECASE)
    for name in (b"script", b"style", b"template", b"title")
}
_COMMENT_CLOSE = re.compile(rb"-->")
_TITLE_OPEN = re.compile(rb"<title\b[^>]*>", re.IGNORECASE)
# A tag, or an unclosed one running to the end (matched once, not retried at every "<").
_TAG = re.compile(rb"<[a-zA-Z/!?][^>]*(?:>|\Z)")
_META = re.compile(rb"<meta\b[^>]*(?:>|\Z)", re.IGNORECASE)
_OG_TITLE = re.compile(rb"""\b(?:property|name)\s*=\s*["']?og:title["'\s/>]""", re.IGNORECASE)
_CONTENT = re.compile(rb"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class PageText:
    title: str
    text: str  # visible text, whitespace collapsed
    og_title: str = ""  # the first <meta property="og:title"> content, as the catalog reads it

    @classmethod
    def of(cls, page: str) -> PageText:
        raw = page.encode("utf-8", "replace")
        title = ""
        opened = _TITLE_OPEN.search(raw)
        if opened:
            closed = _HIDDEN_CLOSE[b"title"].search(raw, opened.end())
            if closed:
                title = _collapse(raw[opened.end() : closed.start()])
        return cls(title, _collapse(_TAG.sub(b" ", _shown(raw))), _og_title(raw))

    def names(self, title: str) -> bool:
        """Whether ``title`` (whitespace collapsed) is still on the page."""
        return title in self.title or title in self.text or title in self.og_title


def _og_title(raw: bytes) -> str:
    for tag in _META.finditer(raw):
        if b"og:title" in tag.group(0).lower() and _OG_TITLE.search(tag.group(0)):
            content = _CONTENT.search(tag.group(0))
            return _collapse(content.group(content.lastindex or 1)) if content else ""
    return ""


def _shown(raw: bytes) -> bytes:
    parts, pos = [], 0
    while (opened := _HIDDEN_OPEN.search(raw, pos)) is not None:
        parts.append(raw[pos : opened.start()])
        name = opened.group(1)
        close = _COMMENT_CLOSE if name is None else _HIDDEN_CLOSE[name.lower()]
        closed = close.search(raw, opened.end())
        if closed is None:
            return b" ".join(parts)
        pos = closed.end()
    parts.append(raw[pos:])
    return b" ".join(parts)


def _collapse(raw: bytes) -> str:
    return " ".join(html.unescape(raw.decode("utf-8", "replace")).split())


def find_notice(
    patterns: RemovalPatterns, host: str, page: str, previous_title: str | None = None
) -> str | None:
    """Why ``page`` (as served, decoded) is a removal notice for ``host``, or None.

    ``previous_title`` is the title of the seed's last present capture, if any."""
    shown = PageText.of(page)
    in_title = patterns.match(host, shown.title) if shown.title else None
    notice = in_title or (patterns.match(host, shown.text) if shown.text else None)
    if not notice:
        return None
    before = " ".join((previous_title or "").split())
    if len(before) >= MIN_DISTINCT_TITLE:  # the seed's own content must be missing too
        if shown.names(before):
            return None
        where = " in the title" if in_title else ""
        return f"removal notice{where}: {notice} (and the post's title {before!r} is gone)"
    if in_title:
        return f"removal notice in the title: {notice}"
    if len(shown.text) <= SHORT:
        return f"removal notice: {notice} (a page of {len(shown.text)} characters)"
    return None
