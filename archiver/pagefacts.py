"""What a captured page says about itself, for citing it: title, site, publication date.

Read from the page's own HTML (``<title>``/``og:title``, ``og:site_name``,
``article:published_time`` and kin) by the spider, kept in the catalog row, never
guessed: a fact the page did not state stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DATE_ONLY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class PageFacts:
    title: str | None = None
    site_name: str | None = None
    published: str | None = None  # ISO 8601: a date, or a date and time with its offset


NO_FACTS = PageFacts()


def normalize_published(text: str | None) -> str | None:
    """A page's stated publication date as ISO 8601 (``2020-02-12``, or
    ``2020-02-12T14:00:00+08:00`` when it gave a time), or None if it does not parse."""
    if not text:
        return None
    text = text.strip()
    from dateutil import parser

    try:
        moment = parser.isoparse(text)
    except (ValueError, OverflowError):
        try:
            moment = parser.parse(text)
        except (ValueError, OverflowError, parser.ParserError):
            return None
    if not 1900 <= moment.year <= 2200:
        return None
    if _DATE_ONLY.match(text):  # keep the precision the page gave: a year, a month, a day
        return text
    return moment.isoformat()
