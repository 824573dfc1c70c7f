"""Project exceptions.

Library code raises these; the CLI turns them into a one-line ``Error: ...``
message and a non-zero exit, never a traceback. A message names the problem and,
where there is one, the fix.
"""

from __future__ import annotations


class ArchiverError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = 1


class InvalidURL(ArchiverError):
    """A URL that cannot be crawled (bad syntax, unsupported scheme, ...)."""


class InvalidSeed(ArchiverError):
    """A seed field with a value outside its allowed set."""


class InvalidVantage(ArchiverError):
    """A vantage point that cannot be added: its name, proxy URL or country."""


class InvalidProfile(ArchiverError):
    """A login profile that cannot be added or used: its name, hosts or cookie file."""


class SeedFileError(ArchiverError):
    """A seed file that cannot be read at all (missing, binary, wrong encoding, bad format)."""


class NotFound(ArchiverError):
    """An id (seed, capture, job) that is not in the catalog."""


class HomeError(ArchiverError):
    """The archive home cannot be created, read or written."""


class StorageError(ArchiverError):
    """A store cannot be reached, read or written."""


class IntegrityError(ArchiverError):
    """Bytes read back do not match the digests recorded for them."""

    exit_code = 3
