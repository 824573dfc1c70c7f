"""Seed specifications: ``SeedSpec.build`` validates one seed; ``SeedFields.build``
validates some fields of a seed (what ``seeds edit`` changes, what ``seeds import`` gives
every row). Seed-list files are read by :mod:`archiver.seedfiles`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from archiver.errors import InvalidSeed
from archiver.profiles.names import seed_profile
from archiver.urls import normalize_url

CATEGORIES = ("social", "news", "ngo", "other")
SCOPES = ("page", "prefix", "host", "site", "domain")
ROBOTS = ("obey", "ignore")
RISKS = ("low", "medium", "high")
FIELDS = (
    "url", "tags", "category", "scope", "depth", "robots", "risk", "note", "nominated_by",
    "browser", "include", "exclude", "profile", "via",
)  # fmt: skip
MAX_TAG, MAX_NOTE, MAX_NOMINATED_BY = 100, 2000, 200
MAX_PATTERN, MAX_PATTERNS = 1000, 100

# Tags are separated by ',' ';' '|' in files, and by the full-width comma and semicolon
# and the ideographic comma a Chinese or Japanese keyboard types in their place.
_TAG_SEP_RE = re.compile(r"[;,|，、；]")
_OPTION_TAG_SEP_RE = re.compile(r"[;,，、；]")  # on the command line '|' stays an error


def excerpt(value: object, limit: int = 200) -> str:
    """A value as a message quotes it: repr'd, and cut at ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:limit] + "..." if len(text) > limit else text)


def _choice(field: str, value: object, allowed: tuple[str, ...], default: str) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    choice = value.strip().lower() if isinstance(value, str) else None
    if choice not in allowed:
        raise InvalidSeed(f"invalid {field} {excerpt(value)}: choose one of {', '.join(allowed)}")
    return choice


def _tags(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: Iterable[object] = _TAG_SEP_RE.split(value)
    elif isinstance(value, Iterable) and not isinstance(value, Mapping | bytes):
        items = value
    else:
        raise InvalidSeed(f"invalid tags {excerpt(value)}: give a list of tags or 'a;b;c'")
    tags: list[str] = []
    seen: set[str] = set()
    for item in items:
        tag = item.strip() if isinstance(item, str) else None
        if tag is None or _TAG_SEP_RE.search(tag) or not tag.isprintable() or len(tag) > MAX_TAG:
            raise InvalidSeed(
                f"invalid tag {excerpt(item, 60)}: a tag is text of at most {MAX_TAG} printable "
                "characters without ',', ';' or '|' (they separate tags, as do '，', '、' and '；')"
            )
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tuple(tags)


def split_tag_options(values: Iterable[str]) -> list[str]:
    """Tags as given to ``--tag`` (repeatable, and each may hold several)."""
    return [part for value in values for part in _OPTION_TAG_SEP_RE.split(value)]


def compile_pattern(field: str, pattern: str) -> re.Pattern[str]:
    """One URL regex, checked now so a bad one is named before anything is crawled."""
    if not pattern or len(pattern) > MAX_PATTERN or not pattern.isprintable():
        raise InvalidSeed(
            f"invalid {field} regex {excerpt(pattern, 60)}: give a regular expression of 1 to"
            f" {MAX_PATTERN} printable characters"
        )
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidSeed(
            f"invalid {field} regex {excerpt(pattern, 100)}: {exc} (Python regular expression"
            " syntax; escape a literal '.', '?', '+' or '(' with a backslash)"
        ) from None


def patterns(field: str, value: object) -> tuple[str, ...]:
    """URL regexes: a list (each item one regex), or a text holding several separated by
    whitespace (a URL has no spaces; match one with ``\\s`` or ``%20``)."""
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = list(value.split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise InvalidSeed(
            f"invalid {field} {excerpt(value)}: give a list of regexes or several separated by"
            " spaces"
        )
    found: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidSeed(f"invalid {field} regex {excerpt(item, 60)}: must be text")
        pattern = item.strip()
        if not pattern:
            continue
        compile_pattern(field, pattern)
        if pattern not in found:
            found.append(pattern)
    if len(found) > MAX_PATTERNS:
        raise InvalidSeed(f"too many {field} regexes ({len(found)}): at most {MAX_PATTERNS}")
    return tuple(found)


MAX_DEPTH = 10_000  # beyond any real site; keeps values inside SQLite's integer range


def _depth(value: object) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        number = -1
    if number < 0 or number > MAX_DEPTH:
        raise InvalidSeed(
            f"invalid depth {excerpt(value)}: use a whole number from 0 to {MAX_DEPTH}, "
            "or 'none' (or nothing) for the scope's default"
        )
    return number


_TRUE = ("1", "true", "yes", "y", "browser")
_FALSE = ("", "0", "false", "no", "n", "http")


def _flag(field: str, value: object) -> bool:
    """A yes/no column: true/false, yes/no, 1/0 (empty: no)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidSeed(f"invalid {field} {excerpt(value)}: use yes or no (true/false, 1/0)")


def _text(field: str, value: object, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidSeed(f"invalid {field} {excerpt(value)}: must be text")
    text = value.strip()
    if len(text) > limit:
        raise InvalidSeed(
            f"{field} too long ({len(text)} characters, starting {excerpt(text, 40)}): "
            f"keep it to at most {limit} characters"
        )
    return text


_VANTAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DIRECT = "direct"  # a direct connection, as a list of vantage points names it


def _via(value: object) -> str | None:
    """A vantage point's name (whether it exists is the catalog's to say), or several
    separated by commas (``hk-1,cn-1``: captured from each, and compared); empty or
    ``direct``: a direct connection, which a list may name too."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is not None and "://" in text:  # a proxy URL, maybe with its password: not shown
        raise InvalidSeed(
            "invalid via: give the name of a vantage point, not a proxy URL; add one with"
            " archiver vantage add NAME --proxy URL, then use its name"
        )
    names = [part.strip() for part in text.split(",")] if text is not None else []
    if text is None or any(name and not _VANTAGE_NAME.fullmatch(name) for name in names):
        raise InvalidSeed(
            f"invalid via {excerpt(value)}: give the name of a vantage point (archiver vantage"
            " list), several separated by commas, or direct"
        )
    if len(names) > 1 and not all(names):
        raise InvalidSeed(
            f"invalid via {excerpt(value)}: an empty name in the list; list vantage points"
            " as hk-1,cn-1 (direct for a direct connection)"
        )
    names = [DIRECT if name.lower() == DIRECT else name for name in names]
    if len(set(names)) < len(names):
        raise InvalidSeed(f"invalid via {excerpt(value)}: a vantage point named twice")
    return None if names in ([""], [DIRECT]) else ",".join(names)


def vantages_of(via: str | None) -> list[str]:
    """The vantage points a seed's ``via`` names, ``direct`` for a direct connection."""
    return via.split(",") if via else [DIRECT]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# The fields a seed holds one value of, each with its check (None or "" gives the default).
_SETTINGS: dict[str, Callable[[object], object]] = {
    "category": lambda value: _choice("category", value, CATEGORIES, "other"),
    "scope": lambda value: _choice("scope", value, SCOPES, "page"),
    "depth": _depth,
    "robots": lambda value: _choice("robots", value, ROBOTS, "obey"),
    "risk": lambda value: _choice("risk", value, RISKS, "medium"),
    "note": lambda value: _text("note", value, MAX_NOTE),
    "nominated_by": lambda value: _text("nominated_by", value, MAX_NOMINATED_BY),
    "browser": lambda value: _flag("browser", value),
    "profile": seed_profile,
    "via": _via,
}
SETTINGS = tuple(_SETTINGS)
LISTS = ("tags", "include", "exclude")  # the fields a seed holds several values of


def _settings(values: Mapping[str, object]) -> dict[str, object]:
    return {name: _SETTINGS[name](value) for name, value in values.items()}


def _list_key(name: str) -> Callable[[str], str]:
    """How items of a list field compare: tags case-insensitively, regexes exactly."""
    return str.casefold if name == "tags" else str


@dataclass(frozen=True)
class SeedSpec:
    url: str  # normalized
    tags: tuple[str, ...] = ()
    category: str = "other"
    scope: str = "page"
    depth: int | None = None
    robots: str = "obey"
    risk: str = "medium"
    note: str = ""
    nominated_by: str = ""
    browser: bool = False  # captured with a headless browser (JavaScript-rendered pages)
    include: tuple[str, ...] = ()  # URL regexes followed besides the scope (spiders/scope.py)
    exclude: tuple[str, ...] = ()  # URL regexes never followed as links
    profile: str | None = None  # the login profile it is crawled as (archiver/profiles/)
    via: str | None = None  # the vantage point it is fetched through (None: direct)
    # The settings given rather than defaulted: adding a URL that is already a seed reports
    # those that differ from the seed's own.
    given: frozenset[str] = field(default=frozenset(), compare=False)

    @classmethod
    def build(
        cls,
        url: str,
        *,
        tags: str | Iterable[str] | None = (),
        category: str | None = None,
        scope: str | None = None,
        depth: int | str | None = None,
        robots: str | None = None,
        risk: str | None = None,
        note: str | None = None,
        nominated_by: str | None = None,
        browser: bool | str | None = None,
        include: str | Iterable[str] | None = (),
        exclude: str | Iterable[str] | None = (),
        profile: str | None = None,
        via: str | None = None,
    ) -> SeedSpec:
        """Validate every field (None or "" means default); raise InvalidURL / InvalidSeed."""
        settings = {
            "category": category, "scope": scope, "depth": depth, "robots": robots,
            "risk": risk, "note": note, "nominated_by": nominated_by, "browser": browser,
            "profile": profile,
            "via": via,
        }  # fmt: skip
        return cls(
            url=normalize_url(url),
            tags=_tags(tags),
            **_settings(settings),  # type: ignore[arg-type]
            include=patterns("include", include),
            exclude=patterns("exclude", exclude),
            given=frozenset(name for name, value in settings.items() if not _blank(value)),
        )


@dataclass(frozen=True)
class SeedFields:
    """Checked values for some of a seed's settings, and tags and URL regexes to add or
    remove: what ``seeds edit`` changes, and what ``seeds import`` gives every row."""

    settings: Mapping[str, object] = field(default_factory=dict)  # only those given
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    add_include: tuple[str, ...] = ()
    remove_include: tuple[str, ...] = ()
    add_exclude: tuple[str, ...] = ()
    remove_exclude: tuple[str, ...] = ()

    @classmethod
    def build(
        cls,
        settings: Mapping[str, object],
        *,
        add_tags: Iterable[str] = (),
        remove_tags: Iterable[str] = (),
        add_include: Iterable[str] = (),
        remove_include: Iterable[str] = (),
        add_exclude: Iterable[str] = (),
        remove_exclude: Iterable[str] = (),
    ) -> SeedFields:
        """``settings`` maps setting names to values as typed; None means not given, ""
        (and "none" for depth) the default. Raise InvalidSeed for a bad value."""
        unknown = sorted(set(settings) - set(_SETTINGS))
        if unknown:
            raise InvalidSeed(f"unknown seed field(s) {', '.join(unknown)}")
        return cls(
            settings=_settings({k: v for k, v in settings.items() if v is not None}),
            add_tags=_tags(list(add_tags)),
            remove_tags=_tags(list(remove_tags)),
            add_include=patterns("include", tuple(add_include)),
            remove_include=tuple(remove_include),  # removed as written: no check needed
            add_exclude=patterns("exclude", tuple(add_exclude)),
            remove_exclude=tuple(remove_exclude),
        )

    @property
    def empty(self) -> bool:
        return not self.settings and not any(
            (self.add_tags, self.remove_tags, self.add_include, self.remove_include,
             self.add_exclude, self.remove_exclude)
        )  # fmt: skip

    @classmethod
    def adding(cls, spec: SeedSpec) -> SeedFields:
        """The tags and regexes of ``spec``, to add to a seed's own."""
        return cls(add_tags=spec.tags, add_include=spec.include, add_exclude=spec.exclude)

    def list_after(self, name: str, old: tuple[str, ...]) -> tuple[str, ...]:
        """The list field ``name`` ("tags", "include", "exclude") holding ``old``, with
        the items this removes taken out and those it adds put at the end."""
        key = _list_key(name)
        removed = {key(item) for item in getattr(self, f"remove_{name}")}
        kept = [item for item in old if key(item) not in removed]
        seen = {key(item) for item in kept}
        for item in getattr(self, f"add_{name}"):
            if key(item) not in seen:
                seen.add(key(item))
                kept.append(item)
        return tuple(kept)

    def not_held(self, name: str, old: tuple[str, ...]) -> tuple[str, ...]:
        """The items this removes from the list field ``name`` that ``old`` lacks."""
        key = _list_key(name)
        held = {key(item) for item in old}
        return tuple(item for item in getattr(self, f"remove_{name}") if key(item) not in held)

    def fill(self, spec: SeedSpec) -> SeedSpec:
        """``spec`` with these settings where it gave none of its own, and these tags and
        regexes added to its own (an import's options, for each of its rows)."""
        filled = {k: v for k, v in self.settings.items() if k not in spec.given}
        lists = {name: self.list_after(name, getattr(spec, name)) for name in LISTS}
        return replace(spec, **filled, **lists, given=spec.given | set(filled))  # type: ignore[arg-type]
