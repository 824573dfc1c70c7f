"""Capture ids: short, opaque, case-insensitive, with no look-alike characters.

Shaped like Perma.cc's ``XXXX-XXXX``. The alphabet leaves out 0/O, 1/I/L, 2/Z,
5/S, 8/B and U/V so that an id read aloud or copied by hand survives. Ids are
random (not derived from content or time), so they reveal nothing and never change.
"""

from __future__ import annotations

import re
import secrets

from archiver.errors import NotFound

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
_GROUP = 4
_PATTERN = re.compile(rf"^[{ALPHABET}]{{{_GROUP * 2}}}$")


_IDS = len(ALPHABET) ** (_GROUP * 2)


def new_capture_id() -> str:
    """A fresh id such as ``K7QD-3XMA``: 23^8 ≈ 7.8e10 possible ids; callers retry on collision.

    One uniform draw below 23^8 from the system's random source, written in base 23 (a
    draw per character read the source eight times, and the id is made for every
    capture)."""
    number = secrets.randbelow(_IDS)
    chars = []
    for _ in range(_GROUP * 2):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return f"{''.join(chars[:_GROUP])}-{''.join(chars[_GROUP:])}"


def parse_capture_id(text: str) -> str:
    """Canonical form of a capture id typed by a person: any case, with or without the dash."""
    compact = text.strip().upper().replace("-", "")
    if not _PATTERN.match(compact):
        raise NotFound(
            f"{text!r} is not a capture id: ids look like K7QD-3XMA "
            "(list them with 'archiver captures')"
        )
    return f"{compact[:_GROUP]}-{compact[_GROUP:]}"
