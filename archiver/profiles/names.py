"""What a login profile may be called (checked where seeds name one, too)."""

from __future__ import annotations

import re

from archiver.errors import InvalidProfile, InvalidSeed

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
NONE = "none"  # seeds edit --profile none: crawled signed out


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidProfile(
            f"profile name {name!r} is not allowed: use letters, digits, '.', '_' and '-'"
            " (up to 64, starting with a letter or digit), such as weibo-alice"
        )
    if name.lower() == NONE:
        raise InvalidProfile(f"profile name {name!r} means no profile: choose another name")
    return name


def seed_profile(value: object) -> str | None:
    """A seed's profile as given (option, file column): a name, or None for none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidProfile(f"invalid profile {value!r}: give a profile's name")
    text = value.strip()
    if not text or text.lower() == NONE:
        return None
    try:
        return check_name(text)
    except InvalidProfile as exc:  # reported with its line, as any bad field of a seed
        raise InvalidSeed(str(exc)) from None
