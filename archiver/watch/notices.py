"""Where a removal notice counts: in the place a platform puts one, not in a post quoting it.

A post that says "my friend's account: Account suspended" contains the words of X's
notice, so matching the whole page would confirm a removal that did not happen. A
notice counts only where such a notice stands:

- in the page's ``<title>``;
- on a short page: at most ``NOTICE_PAGE_CHARS`` characters of visible text (the bound
  the browser quality check uses for placeholders, ``quality.SHORT``): a notice page
  is a sentence and some chrome, a post page with its comments and menus is longer;
- anywhere in the visible text when the seed's own content is missing as well: the
  title of its last present capture is no longer on the page.

Visible text is the page without its title, scripts, styles, templates, comments and tags,
entities decoded and whitespace collapsed: words in a script's data or an attribute
are not shown to a reader, and a JavaScript shell carries the post's text there.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from archiver.watch.patterns import RemovalPatterns

NOTICE_PAGE_CHARS = 2000  # characters of visible text, whitespace collapsed
MIN_DISTINCT_TITLE = 4  # characters: a shorter previous title proves nothing by its absence

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


@dataclass(frozen=True)
class PageText:
    title: str
    text: str  # visible text, whitespace collapsed

    @classmethod
    def of(cls, page: str) -> PageText:
        raw = page.encode("utf-8", "replace")
        title = ""
        opened = _TITLE_OPEN.search(raw)
        if opened:
            closed = _HIDDEN_CLOSE[b"title"].search(raw, opened.end())
            if closed:
                title = _collapse(raw[opened.end() : closed.start()])
        return cls(title, _collapse(_TAG.sub(b" ", _shown(raw))))


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
    notice = patterns.match(host, shown.title) if shown.title else None
    if notice:
        return f"removal notice in the title: {notice}"
    notice = patterns.match(host, shown.text) if shown.text else None
    if not notice:
        return None
    if len(shown.text) <= NOTICE_PAGE_CHARS:
        return f"removal notice: {notice} (a page of {len(shown.text)} characters)"
    before = " ".join((previous_title or "").split())
    if len(before) >= MIN_DISTINCT_TITLE and before not in shown.title and before not in shown.text:
        return f"removal notice: {notice} (and the post's title {before!r} is gone)"
    return None
