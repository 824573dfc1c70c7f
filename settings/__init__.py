"""Scrapy settings profiles (installed as ``archiver.settings``).

``base`` holds everything; the other profiles only override: ``local`` (the
embedded defaults: local folder and SQLite) and ``test`` (fast, for loopback sites).
"""

PROFILES = ("local", "test")
