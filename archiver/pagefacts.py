"""What a captured page says about itself, for citing it: title, site, publication date.

Read from the page's own HTML (``<title>``/``og:title``, ``og:site_name``,
``article:published_time`` and kin) by the spider, kept in the catalog row, never
guessed: a fact the page did not state stays empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_DATE_ONLY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class PageFacts:
    title: str | None = None
    site_name: str | None = None
    published: str | None = None  # ISO 8601: a date, or a date and time with its offset


NO_FACTS = PageFacts()


def normalize_published(text: str | None, not_after: datetime | None = None) -> str | None:
    """A page's stated publication date as ISO 8601: ``2020``, ``2020-02``, ``2020-02-12``,
    or ``2020-02-12T14:00:00+08:00`` when it gave a time. None when it does not parse,
    leaves a part to guess (``Tuesday``, ``Feb 12`` without a year, ``02/03/2020``, day or
    month first?), or lies after ``not_after`` (the capture time): never a made-up date."""
    if not text:
        return None
    text = text.strip()[:100]
    from dateutil import parser

    try:
        moment = parser.isoparse(text)
        precision = text if _DATE_ONLY.match(text) else moment.isoformat()
    except (ValueError, OverflowError):
        moment, precision = _parse_free_text(text)
        if moment is None:
            return None
    if not 1900 <= moment.year <= 2200:
        return None
    if not_after is not None and _later_than(moment, not_after):
        return None
    return precision


def _parse_free_text(text: str) -> tuple[datetime | None, str | None]:
    """Free text, parsed with two sets of defaults and both day orders: a part that
    differs between the readings was not in the text, or was ambiguous."""
    from dateutil import parser

    readings = []
    for default in (datetime(2000, 1, 1, 0, 0, 0), datetime(2001, 2, 2, 1, 1, 1)):
        for dayfirst in (False, True):
            try:
                readings.append(parser.parse(text, default=default, dayfirst=dayfirst))
            except (ValueError, OverflowError, parser.ParserError):
                return None, None
    first, first_dayfirst, second, _ = readings
    if first.year != second.year:
        return None, None  # no year: "Feb 12", "Tuesday"
    if first.month != second.month:
        return first, f"{first.year:04d}"
    if first.day != second.day:
        return first, f"{first.year:04d}-{first.month:02d}"  # "March 2020"
    year_first = re.match(r"\s*\d{4}\D", text) is not None  # 2020/02/12: always Y/M/D
    if first.date() != first_dayfirst.date() and not year_first:
        return None, None  # "02/03/2020": which is the month?
    if first.time() != second.time():
        return first, first.date().isoformat()  # a date without a time
    return first, first.isoformat()


def _later_than(moment: datetime, limit: datetime) -> bool:
    if moment.tzinfo is None:  # a local date: allow the day ahead of UTC it may be
        return moment.date() > (limit + timedelta(days=1)).date()
    return moment > limit + timedelta(minutes=5)
