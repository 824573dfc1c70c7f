"""The behaviour every browser page gets, bounded by the page's deadline.

1. wait for the network to go idle (at most ARCHIVER_BROWSER_IDLE_SECONDS);
2. scroll down a screen at a time until the page stops growing, so lazy images and
   infinite lists load, waiting for the network after each screen;
3. click the expanders: the platform's own, and buttons reading "Show more", "Read
   more", "See more", 展开, 展开全文, 显示更多, 查看更多 (never links, form buttons or
   submit buttons, so a click neither leaves the page nor sends a form);
4. wait for the network again and scroll back to the top for the screenshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import ModuleType
from typing import Any

from playwright.async_api import Error as PlaywrightError

MAX_SCREENS = 60  # scroll steps; a bound for infinite lists
MAX_CLICKS = 20  # per selector
GENERIC_EXPANDERS = (
    "button:text-matches('^\\s*(show|read|see) more\\s*$', 'i')",
    "[role='button']:text-matches('^\\s*(show|read|see) more\\s*$', 'i')",
    "button:text-matches('^\\s*(展开|展开全文|显示更多|查看更多)\\s*$')",
    "[role='button']:text-matches('^\\s*(展开|展开全文|显示更多|查看更多)\\s*$')",
)

_SCROLL = """() => {
  window.scrollBy(0, Math.max(200, window.innerHeight - 50));
  const root = document.scrollingElement || document.documentElement;
  return [Math.ceil(window.scrollY + window.innerHeight), root.scrollHeight];
}"""


# Links navigate; a button in a form (or any submit button) submits it: never clicked.
_LEAVES_PAGE = """e => !!(e.closest('a[href]') || e.closest('form') ||
  (e.getAttribute('type') || '').toLowerCase() === 'submit')"""


def _left(deadline: float) -> float:
    return deadline - time.monotonic()


async def wait_idle(page: Any, seconds: float, deadline: float) -> None:
    """Until no request has been in flight for 500 ms, or the bound."""
    bound = min(seconds, _left(deadline))
    if bound <= 0:
        return
    # Still busy (a live feed, a poller): go on with what has loaded.
    with contextlib.suppress(PlaywrightError):
        await page.wait_for_load_state("networkidle", timeout=bound * 1000)


async def scroll_through(page: Any, idle_seconds: float, deadline: float) -> int:
    """Scroll to the bottom a screen at a time; returns the screens scrolled."""
    last_height = -1
    for screen in range(1, MAX_SCREENS + 1):
        if _left(deadline) <= 0:
            return screen
        bottom, height = await page.evaluate(_SCROLL)
        await asyncio.sleep(0.2)
        await wait_idle(page, min(idle_seconds, 2.0), deadline)
        if bottom >= height and height == last_height:
            return screen
        last_height = height
    return MAX_SCREENS


async def click_expanders(page: Any, selectors: tuple[str, ...], deadline: float) -> int:
    """Click each visible expander once; returns how many were clicked."""
    clicked = 0
    for selector in selectors:
        try:
            found = page.locator(selector)
            count = min(await found.count(), MAX_CLICKS)
            for index in range(count):
                if _left(deadline) <= 0:
                    return clicked
                element = found.nth(index)
                if await element.evaluate(_LEAVES_PAGE):
                    continue  # a link or a form's button: clicking would leave the page
                if await element.is_visible():
                    await element.click(timeout=2000, no_wait_after=True)
                    clicked += 1
        except PlaywrightError:
            continue  # detached or covered: the capture goes on without it
    return clicked


async def behave(
    page: Any, platform: ModuleType | None, idle_seconds: float, deadline: float
) -> dict[str, int]:
    """Run the generic behaviour and the platform's; returns what was done."""
    await wait_idle(page, idle_seconds, deadline)
    screens = await scroll_through(page, idle_seconds, deadline)
    expanders = tuple(getattr(platform, "EXPANDERS", ())) + GENERIC_EXPANDERS
    clicked = await click_expanders(page, expanders, deadline)
    extra = getattr(platform, "run", None)
    if extra is not None and _left(deadline) > 0:
        await extra(page, deadline)
    if clicked:
        await wait_idle(page, idle_seconds, deadline)
    await page.evaluate("() => window.scrollTo(0, 0)")
    await wait_idle(page, min(idle_seconds, 2.0), deadline)
    return {"screens": screens, "clicked": clicked}
