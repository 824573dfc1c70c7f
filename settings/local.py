"""The embedded defaults: a local folder and SQLite under the archive home."""

from archiver.settings.base import *  # noqa: F403
