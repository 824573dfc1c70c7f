"""Reading a date or time as a researcher types it, into an aware UTC datetime.

Accepted: what python-dateutil reads (``2020-02-12``, ``12 Feb 2020 14:00 +0800``,
``2020-02-12T06:00Z``), an IANA zone name after the time (``2026-11-29 14:00
Asia/Shanghai``), ``now``, Wayback timestamps (``20260312093000``, or a prefix of one:
``2026``, ``202603``), and Chinese dates (``2026年11月29日``, ``2026年11月29日 下午3点``,
``北京时间`` for UTC+8). A time without a zone is UTC; a day without a time is midnight;
a missing day or month is the first (``Feb 2020`` is 1 February).

Refused rather than guessed: a zone abbreviation that names several zones (``CST``:
China, or US Central?), and a numeric date that reads both ways (``03/04/2026``: 3 April
or 4 March?), or with a two-digit year.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateparser
from dateutil.relativedelta import relativedelta

from archiver.errors import ArchiverError

_HOW = "write it like 2020-02-12, '12 Feb 2020 14:00 +0800' or '2020-02-12 14:00 Asia/Shanghai'"
_WAYBACK = re.compile(r"\d{4}(?:\d{2}){0,5}")
_WAYBACK_START = "00000101000000"  # what a shorter timestamp is padded with
_WAYBACK_STEPS = {
    4: relativedelta(years=1), 6: relativedelta(months=1), 8: timedelta(days=1),
    10: timedelta(hours=1), 12: timedelta(minutes=1), 14: timedelta(seconds=1),
}  # fmt: skip
# Zone abbreviations name several zones (CST: China, Cuba or US Central), and dateutil
# reads the machine's own as local time: only these are taken as zones.
_ABBREVIATION = re.compile(r"(?<![A-Za-z])([A-Z]{2,5})(?![A-Za-z])")
_NOT_ZONES = frozenset((
    "UTC", "GMT", "UT", "Z", "AM", "PM", "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
    "AUG", "SEP", "SEPT", "OCT", "NOV", "DEC", "MON", "TUE", "TUES", "WED", "THU", "THUR",
    "THURS", "FRI", "SAT", "SUN",
))  # fmt: skip
_IANA_ZONE = re.compile(r"(?<![\w/])([A-Za-z_]+(?:/[A-Za-z][A-Za-z0-9_+-]*)+)(?![\w/])")
_NUMERIC_DATE = re.compile(
    r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])"
)  # fmt: skip
_CJK_DATE = re.compile(r"(\d{4})\s*年(?:\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*[日号號])?)?")
_CJK_TIME = re.compile(
    r"(上午|早上|凌晨|中午|下午|晚上)?\s*(\d{1,2})\s*[时時点點:]\s*(?:(\d{1,2})\s*分?)?"
    r"\s*(?:(\d{1,2})\s*秒)?"
)
_CJK_ZONES = {"北京时间": "+08:00", "北京時間": "+08:00", "台北时间": "+08:00",
              "台北時間": "+08:00", "香港时间": "+08:00", "香港時間": "+08:00"}  # fmt: skip
_AFTERNOON = ("中午", "下午", "晚上")


def parse_when(text: str, *, end: bool = False) -> datetime:
    """An aware UTC datetime from what a person typed. With ``end``, the last
    millisecond of the period the text names: the whole day for ``2020-02-12``, the
    month for ``Feb 2020``, the year for ``2020`` (an inclusive "until")."""
    typed = text
    text = unicodedata.normalize("NFKC", text).strip()  # full-width digits and colons
    if text.lower() == "now":
        return datetime.now(UTC)
    if _WAYBACK.fullmatch(text):
        return _wayback(text, typed, end)
    if re.search(r"[\u3000-\u9fff]", text):
        text = _cjk(text)
    text, zone = _zone_name(text, typed)
    _refuse_ambiguous(text, typed)
    year = datetime.now(UTC).year
    start = _dateutil(text, typed, datetime(year, 1, 1))
    if zone is not None:
        if start.tzinfo is not None:
            raise ArchiverError(f"{typed!r} gives two time zones: keep one")
        start = start.replace(tzinfo=zone)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end:
        latest = _dateutil(text, typed, datetime(year, 12, 28, 23, 59, 59))
        start = start + _period(start, latest) - timedelta(milliseconds=1)
    return start.astimezone(UTC)


def _wayback(digits: str, typed: str, end: bool) -> datetime:
    """A Wayback Machine timestamp, or a prefix of one (``2026``, ``202603``), in UTC."""
    try:
        moment = datetime.strptime(digits + _WAYBACK_START[len(digits) :], "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise ArchiverError(
            f"cannot read the date {typed!r}: as a timestamp (YYYYMMDDhhmmss) it names no"
            f" real time; {_HOW}"
        ) from exc
    if end:
        moment = moment + _WAYBACK_STEPS[len(digits)] - timedelta(milliseconds=1)
    return moment.replace(tzinfo=UTC)


def _zone_name(text: str, typed: str) -> tuple[str, tzinfo | None]:
    """The text without an IANA zone name (``Asia/Shanghai``), and that zone."""
    for name, offset in _CJK_ZONES.items():
        if name in text:
            return f"{text.replace(name, ' ')} {offset}", None
    match = _IANA_ZONE.search(text)
    if match is None:
        return text, None
    try:
        zone = ZoneInfo(match.group(1))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ArchiverError(
            f"unknown time zone {match.group(1)!r} in {typed!r}: write an IANA name such as"
            " Asia/Shanghai or Europe/Berlin, or an offset such as +0800"
        ) from exc
    return (text[: match.start()] + text[match.end() :]).strip(), zone


def _cjk(text: str) -> str:
    """Chinese (and Japanese) date and time words as dateutil reads them."""

    def date(match: re.Match[str]) -> str:
        year, month, day = match.group(1), match.group(2) or "1", match.group(3) or "1"
        return f" {year}-{int(month):02d}-{int(day):02d} "

    def time(match: re.Match[str]) -> str:
        part, hour = match.group(1), int(match.group(2))
        if part in _AFTERNOON and hour < 12:
            hour += 12
        elif part in ("上午", "早上", "凌晨") and hour == 12:
            hour = 0
        minute, second = int(match.group(3) or 0), int(match.group(4) or 0)
        return f" {hour:02d}:{minute:02d}:{second:02d} "

    text = _CJK_DATE.sub(date, text)
    return _CJK_TIME.sub(time, text).strip()


def _refuse_ambiguous(text: str, typed: str) -> None:
    match = _NUMERIC_DATE.search(text)
    if match is None:
        return
    first, _, second, year = match.groups()
    if len(year) == 2:
        raise ArchiverError(
            f"the date {typed!r} is ambiguous (which part is the year?): write the year in"
            f" full, as in 2026-04-03"
        )
    a, b = int(first), int(second)
    if a != b and a <= 12 and b <= 12:
        day_first = datetime(int(year), b, a)
        month_first = datetime(int(year), a, b)
        raise ArchiverError(
            f"the date {typed!r} is ambiguous (day or month first?): write it as"
            f" {day_first:%Y-%m-%d} ({a} {day_first:%B}) or {month_first:%Y-%m-%d}"
            f" ({month_first:%B} {b})"
        )


def _zone_error(typed: str) -> ArchiverError:
    return ArchiverError(
        f"the time zone in {typed!r} is unknown or ambiguous: write an offset instead,"
        " e.g. '12 Feb 2020 14:00 +0800', or a zone name such as Asia/Shanghai"
    )


def _dateutil(text: str, typed: str, default: datetime) -> datetime:
    if any(word not in _NOT_ZONES for word in _ABBREVIATION.findall(text)):
        raise _zone_error(typed)
    try:
        with warnings.catch_warnings():
            # A zone name dateutil cannot place ("JST", "CST") would silently become UTC.
            warnings.simplefilter("error", dateparser.UnknownTimezoneWarning)
            return dateparser.parse(text, default=default)
    except dateparser.UnknownTimezoneWarning as exc:
        raise _zone_error(typed) from exc
    except (ValueError, OverflowError) as exc:
        raise ArchiverError(f"cannot read the date {typed!r}: {_HOW}") from exc


def _period(earliest: datetime, latest: datetime) -> relativedelta | timedelta:
    """How long the typed period lasts, from the fields the text left to the default
    (the two parses, with defaults at both ends of a year, differ there)."""
    if earliest.month != latest.month:
        return relativedelta(years=1)
    if earliest.day != latest.day:
        return relativedelta(months=1)
    if earliest.hour != latest.hour:
        return timedelta(days=1)
    if earliest.minute != latest.minute:
        return timedelta(hours=1)
    if earliest.second != latest.second:
        return timedelta(minutes=1)
    return timedelta(seconds=1)
