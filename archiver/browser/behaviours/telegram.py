"""Telegram public posts (t.me/channel/123) render through an embedded widget frame;
the generic waits cover it. Nothing to click."""

HOSTS = ("t.me",)
EXPANDERS: tuple[str, ...] = ()
