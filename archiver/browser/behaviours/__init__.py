"""Behaviours: what a reader would do on a page before it is captured.

Every page gets the generic behaviour (``generic.py``): wait for the network to go
idle, scroll to the bottom step by step so lazy content loads, click buttons that
expand truncated text, and scroll back to the top for the screenshot. A platform
module adds what its pages need; each is a small module with ``HOSTS`` (the hosts it
serves, subdomains included) and ``EXPANDERS`` (CSS selectors of the buttons that
reveal the whole post), and may define ``async def run(page, step)`` for more.
"""

from __future__ import annotations

from types import ModuleType

from archiver.browser.behaviours import facebook, telegram, wechat, weibo, x

PLATFORMS: tuple[ModuleType, ...] = (weibo, wechat, x, facebook, telegram)


def platform_for(host: str) -> ModuleType | None:
    """The platform module serving ``host``, if any."""
    name = host.lower().strip(".")
    for module in PLATFORMS:
        if any(name == h or name.endswith("." + h) for h in module.HOSTS):
            return module
    return None
