"""What the browser showed: behaviours run, then a full-page screenshot, the rendered DOM,
the visible text and the quality verdict, all within the page's hard time limit.

The screenshot (PNG), the DOM (the page serialized after the behaviours, UTF-8) and
the visible text become WARC ``resource`` records beside the page's response, with
the target URIs Browsertrix Crawler uses (``urn:fullPage:URL``, ``urn:text:URL``) and
``urn:dom:URL``. The text's digest is what a watched browser seed is compared by: the
response holds the page's shell, which stays the same when the post changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Error as PlaywrightError

from archiver.browser.behaviours import platform_for
from archiver.browser.behaviours.generic import behave
from archiver.browser.options import BrowserOptions
from archiver.browser.quality import PageSignals, Verdict, assess
from archiver.capture.context import Quality, Resource
from archiver.catalog.db import utc_now

logger = logging.getLogger(__name__)

BEHAVIOUR_SHARE = 0.7  # of the page's time limit; the rest is kept for the evidence

SIGNALS_JS = """() => {
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const all = (sel) => Array.from(document.querySelectorAll(sel)).filter(visible);
  const captcha = all('iframe[src*="captcha"], iframe[src*="challenges.cloudflare.com"],'
    + ' .g-recaptcha, .h-captcha, #cf-challenge-running, [class*="geetest"]');
  const media = all('img, video, canvas, svg').filter((e) => {
    const r = e.getBoundingClientRect();
    return r.width >= 50 && r.height >= 50 && (e.tagName !== 'IMG' || e.naturalWidth > 0);
  });
  return {
    text: document.body ? document.body.innerText.slice(0, 200000) : '',
    title: document.title || '',
    password_fields: all('input[type=password]').length,
    captcha_frames: captcha.length,
    media: media.length,
  };
}"""


async def gather(
    page: Any, url: str, status: int, options: BrowserOptions, started: float
) -> tuple[list[Resource], Quality, dict[str, Any]]:
    """Behave, then take the evidence, within the page's time limit (counted from
    ``started``). Returns the resources, the verdict and notes on what happened."""
    deadline = started + options.page_seconds
    try:
        return await asyncio.wait_for(
            _gather(page, url, status, options, started), timeout=_left(deadline) + 1
        )
    except TimeoutError:
        reason = f"no render: the page's time limit ({options.page_seconds:g} s) ran out"
        return [], Quality("suspect", reason), {"evidence": "cut at the time limit"}


async def _gather(
    page: Any, url: str, status: int, options: BrowserOptions, started: float
) -> tuple[list[Resource], Quality, dict[str, Any]]:
    deadline = started + options.page_seconds
    host = urlsplit(url).hostname or ""
    notes: dict[str, Any] = {}
    try:
        notes.update(
            await asyncio.wait_for(
                behave(page, platform_for(host), options.idle_seconds,
                       started + options.page_seconds * BEHAVIOUR_SHARE),
                timeout=max(0.5, started + options.page_seconds * BEHAVIOUR_SHARE
                            - time.monotonic()),
            )
        )  # fmt: skip
    except TimeoutError:
        notes["behaviours"] = "cut at the page's time limit"
    except PlaywrightError as exc:
        notes["behaviours"] = f"stopped: {exc}"
    resources: list[Resource] = []
    signals = PageSignals(text="")
    try:
        raw = await asyncio.wait_for(page.evaluate(SIGNALS_JS), timeout=_left(deadline))
        signals = PageSignals(**raw)
        png = await _screenshot(page, options.screenshot_max_height, deadline)
        resources.append(Resource("screenshot", f"urn:fullPage:{url}", "image/png", png, utc_now()))
        dom = await asyncio.wait_for(page.content(), timeout=_left(deadline))
        resources.append(
            Resource("dom", f"urn:dom:{url}", "text/html; charset=utf-8",
                     dom.encode("utf-8"), utc_now())
        )  # fmt: skip
        resources.append(
            Resource("text", f"urn:text:{url}", "text/plain; charset=utf-8",
                     signals.text.encode("utf-8"), utc_now())
        )  # fmt: skip
    except (TimeoutError, PlaywrightError) as exc:
        notes["evidence"] = f"incomplete: {type(exc).__name__}: {exc}"
        logger.warning("browser evidence for %s is incomplete: %s", url, exc)
    verdict = assess(signals, host, status) if resources else Verdict(
        True, f"no render: {notes.get('evidence', 'the page gave no evidence')}"
    )  # fmt: skip
    return resources, Quality(verdict.quality, verdict.reason), notes


def _left(deadline: float) -> float:
    return max(0.5, deadline - time.monotonic())


async def _screenshot(page: Any, max_height: int, deadline: float) -> bytes:
    """The whole page as PNG, cut at ``max_height`` CSS pixels."""
    width, height = await asyncio.wait_for(
        page.evaluate(
            "() => { const r = document.scrollingElement || document.documentElement;"
            " return [r.scrollWidth, r.scrollHeight]; }"
        ),
        timeout=_left(deadline),
    )
    viewport = page.viewport_size or {"width": 1280}
    clip = {
        "x": 0,
        "y": 0,
        "width": max(1, min(int(width), viewport["width"])),
        "height": max(1, min(int(height), max_height)),
    }
    return await page.screenshot(
        full_page=True, clip=clip, type="png", timeout=_left(deadline) * 1000, animations="disabled"
    )
