"""Adding, finding, loading and removing login profiles.

A profile's cookie values are kept in ``HOME/profiles/NAME.cookies`` (mode 0600, in a
folder of mode 0700: like archiver's keys, private to the operator), holding only the
cookies for the profile's hosts; the catalog row names the hosts and the cookies,
never their values (archiver/catalog/profiles.py).
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from archiver.catalog import Catalog
from archiver.catalog import profiles as rows
from archiver.catalog.db import iso_ms, utc_now
from archiver.catalog.profiles import CookieFacts, ProfileRow
from archiver.errors import InvalidProfile, NotFound
from archiver.profiles.cookiefile import (
    Cookie,
    check_hosts,
    cookies_for,
    read_cookie_file,
    write_lines,
)
from archiver.profiles.names import check_name
from archiver.secrets import MIN_SECRET


@dataclass(frozen=True)
class Profile:
    """A profile with its cookies, as a crawl sends them."""

    name: str
    hosts: tuple[str, ...]
    cookies: tuple[Cookie, ...] = field(repr=False)

    def cookies_for(self, url: str) -> list[Cookie]:
        return cookies_for(url, self.cookies, self.hosts)

    def secrets(self) -> set[str]:
        """What no log line may hold: each value long enough to be one."""
        return {cookie.value for cookie in self.cookies if len(cookie.value) >= MIN_SECRET}


def profiles_dir(home: Path) -> Path:
    return home / "profiles"


def cookie_path(home: Path, name: str) -> Path:
    return profiles_dir(home) / f"{name}.cookies"


def facts(cookie: Cookie) -> CookieFacts:
    return CookieFacts(
        cookie.name, cookie.shown_domain, cookie.path, cookie.secure, cookie.http_only,
        cookie.expires_iso(),
    )  # fmt: skip


def new(name: str, cookie_file: Path, hosts: str, note: str = "") -> Profile:
    """A profile checked and ready to add: the file's cookies for ``hosts`` that have not
    expired, or InvalidProfile saying what to fix."""
    check_name(name)
    chosen = check_hosts(hosts)
    found = read_cookie_file(cookie_file)
    mine = [cookie for cookie in found if cookie.concerns(chosen)]
    listed = ", ".join(chosen)
    if not mine:
        domains = sorted({cookie.domain for cookie in found})
        more = f" and {len(domains) - 8} more" if len(domains) > 8 else ""
        shown = ", ".join(domains[:8]) + more
        raise InvalidProfile(
            f"cookie file {cookie_file} has no cookies for {listed} (its cookies are for"
            f" {shown}): give --hosts the site you signed in to, or export the cookies again"
            " while signed in to it"
        )
    now = time.time()
    live = [cookie for cookie in mine if not cookie.expired(now)]
    if not live:
        last = max(cookie.expires_iso() or "" for cookie in mine)
        raise InvalidProfile(
            f"the cookies for {listed} in {cookie_file} have all expired (the last on {last}):"
            " sign in again and export them anew"
        )
    return Profile(name, chosen, tuple(live))


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the operator alone, whole or not at all."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        os.unlink(partial)
        raise


def add(catalog: Catalog, home: Path, profile: Profile, note: str = "") -> ProfileRow:
    """Keep ``profile``'s cookies in the home and add its row, unless its name is taken."""
    if rows.get_profile(catalog, profile.name) is not None:
        raise _taken(profile.name)
    row = ProfileRow(
        profile.name, profile.hosts, tuple(facts(c) for c in profile.cookies), note,
        iso_ms(utc_now()),
    )  # fmt: skip
    path = cookie_path(home, profile.name)
    comment = f"archiver profile {profile.name}: cookies for {', '.join(profile.hosts)}"
    try:
        _write_private(path, write_lines(profile.cookies, comment))
    except OSError as exc:
        raise InvalidProfile(
            f"cannot keep the profile's cookies at {path}: {exc.strerror or exc}; choose a"
            " writable home with --home or ARCHIVER_HOME"
        ) from None
    if not rows.add_profile(catalog, row):  # added meanwhile by another command
        raise _taken(profile.name)
    return row


def _taken(name: str) -> InvalidProfile:
    return InvalidProfile(
        f"a profile named {name!r} already exists: choose another name, or remove it first"
        f" with archiver profile remove {name}"
    )


def find(catalog: Catalog | None, name: str) -> ProfileRow:
    """The profile of this name, or NotFound with the closest names (``catalog`` None:
    there is no archive yet, so no profile either)."""
    found = rows.get_profile(catalog, name) if catalog is not None else None
    if found is not None:
        return found
    known = [row.name for row in rows.list_profiles(catalog)] if catalog is not None else []
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif known:
        hint = f"the profiles are {', '.join(known)}"
    else:
        hint = (
            "there are none yet: add one with archiver profile add NAME --cookies"
            " cookies.txt --hosts HOST"
        )
    raise NotFound(f"no profile named {name!r}: {hint}")


def remove(catalog: Catalog, home: Path, name: str) -> ProfileRow:
    """Remove the row and the cookies kept for it. Captures made as it keep its name."""
    row = find(catalog, name)
    rows.delete_profile(catalog, row.name)
    cookie_path(home, row.name).unlink(missing_ok=True)
    return row


def load(catalog: Catalog, home: Path, name: str) -> Profile:
    """The profile a crawl signs in with, its cookies read from the home. A file others
    may read or change is refused, as ssh refuses such a key."""
    row = find(catalog, name)
    path = cookie_path(home, name)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidProfile(
            f"profile {name!r} has no cookies in this home ({path} is missing): it was added"
            " in another home sharing this catalog; copy that home's file here (chmod 600),"
            f" or add the profile anew (archiver profile remove {name}, then archiver profile"
            f" add {name} --cookies FILE --hosts HOSTS)"
        ) from None
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise InvalidProfile(
            f"profile cookies {path} are open to other users ({stat.filemode(info.st_mode)})"
            f" or not yours: make them private with 'chmod 600 {path}'"
        )
    cookies = read_cookie_file(path)
    return Profile(row.name, row.hosts, tuple(cookies))


def require(catalog: Catalog, names: Iterable[str | None]) -> None:
    """NotFound for the first of ``names`` (seeds' profiles) that is no profile."""
    for name in sorted({name for name in names if name}):
        find(catalog, name)
