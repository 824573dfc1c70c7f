"""Is what the browser showed the post, or a wall in front of it?

A capture of a login wall, a captcha, a "content unavailable" placeholder or an empty
render is still evidence of what the platform served, so it is kept, but it is marked
``suspect`` with the reason and fetched again. The check reads what the page showed
(``PageSignals``, gathered in the browser) against generic patterns and per-platform
ones. Nothing here imports Playwright.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Below this much visible text, with nothing visual on the page, a render is empty. Text
# is counted by script (text_size): a real post in Chinese can be a dozen characters.
MIN_TEXT = 20

# Scripts whose characters carry more than a Latin letter, and what each counts for: a
# Han character is a word or most of one (Chinese runs about a third as many characters
# as the same text in English); a kana or a Hangul syllable block is a syllable.
_SCRIPT_WEIGHTS = (
    (re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"), 3),
    (re.compile("[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af]"), 2),
)


def text_size(text: str) -> int:
    """Visible text in Latin-letter equivalents: whitespace counts nothing, a Han
    character 3, a kana or a Hangul syllable 2, anything else 1."""
    letters = "".join(text.split())
    size = len(letters)
    for pattern, weight in _SCRIPT_WEIGHTS:
        size += (weight - 1) * len(pattern.findall(letters))
    return size


@dataclass(frozen=True)
class PageSignals:
    """What the rendered page showed, as gathered by the browser (see signals.js)."""

    text: str  # the visible text (innerText of the body)
    title: str = ""
    password_fields: int = 0  # visible <input type=password>
    captcha_frames: int = 0  # visible iframes or widgets of the known captcha services
    media: int = 0  # visible images, videos and canvases of a useful size


@dataclass(frozen=True)
class Verdict:
    suspect: bool
    reason: str = ""

    @property
    def quality(self) -> str:
        return "suspect" if self.suspect else "ok"


OK = Verdict(False)


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


CAPTCHA = _any(
    r"\bcaptcha\b", r"verify (?:that )?you(?:'| a)re (?:a )?human", r"are you a robot",
    r"unusual traffic from your", r"checking your browser before", r"just a moment\.\.\.",
    r"请(?:输入|完成)验证码", r"安全验证", r"拖动下方滑块", r"人机验证",
)  # fmt: skip
LOGIN = _any(
    r"\blog ?in\b", r"\bsign ?in\b", r"\bsign up\b", r"\bcreate (?:an )?account\b",
    r"登录", r"登入", r"登錄", r"注册",
)  # fmt: skip
UNAVAILABLE = _any(
    r"this (?:content|page|post|tweet|video) (?:isn'?t|is not|is no longer) available",
    r"(?:content|post|page) (?:is )?(?:unavailable|not available)",
    r"this (?:page|post|account) doesn'?t exist", r"sorry, that page does not exist",
    r"hmm\.\.\.this page doesn.t exist",
    r"该(?:内容|微博|文章)(?:已被|因)", r"内容(?:已被)?删除", r"此内容(?:因|无法)", r"无法查看",
    r"页面不存在", r"已无法查看", r"内容不存在",
)  # fmt: skip

# Per-platform: host suffix -> [(reason, where, pattern)], checked before the generic ones.
# "title" rules read the page title only: a logged-out post page carries sign-in banners
# in its text, but only the wall itself is titled so. "text" rules read short pages only.
PLATFORM: dict[str, list[tuple[str, str, re.Pattern[str]]]] = {
    "weibo.com": [
        ("login wall", "title", _any(r"登录 ?- ?新浪微博", r"微博登录", r"sina visitor system")),
        (
            "unavailable placeholder",
            "text",
            _any(r"抱歉，此微博已被作者删除", r"该微博因被多人投诉"),
        ),
    ],
    "weibo.cn": [("login wall", "title", _any(r"登录 ?- ?新浪微博", r"微博登录"))],
    "mp.weixin.qq.com": [
        ("login wall", "text", _any(r"请在微信客户端打开链接", r"环境异常")),
        ("unavailable placeholder", "text", _any(r"该内容已被发布者删除", r"此内容因违规无法查看")),
    ],
    "x.com": [
        ("login wall", "title", _any(r"^\s*(?:log|sign) in to (?:x|twitter)")),
        (
            "unavailable placeholder",
            "text",
            _any(r"this (?:post|tweet) is unavailable", r"this (?:post|tweet) was deleted"),
        ),
    ],
    "facebook.com": [
        (
            "login wall",
            "title",
            _any(r"^\s*log in(?:to)? (?:to )?facebook", r"facebook\s*[-–]\s*log in or sign up"),
        ),
        ("unavailable placeholder", "text", _any(r"this content isn.t available right now")),
    ],
    "instagram.com": [("login wall", "title", _any(r"^\s*login\s*•\s*instagram"))],
    "t.me": [("unavailable placeholder", "text", _any(r"post not found", r"channel is private"))],
}
PLATFORM["twitter.com"] = PLATFORM["x.com"]
SHORT = 2000  # characters: "text" patterns count on pages this short (a notice, a wall)


def _platform_rules(host: str) -> list[tuple[str, str, re.Pattern[str]]]:
    host = host.lower()
    for suffix, rules in PLATFORM.items():
        if host == suffix or host.endswith("." + suffix):
            return rules
    return []


def _quote(match: re.Match[str]) -> str:
    return repr(match.group(0).strip()[:60])


def assess(signals: PageSignals, host: str = "", status: int = 200) -> Verdict:
    """The verdict on one rendered page: the first reason found, most specific first."""
    text = " ".join(signals.text.split())
    seen = f"{signals.title} {text}"
    for reason, where, pattern in _platform_rules(host):
        if where == "text" and len(text) > SHORT:
            continue
        match = pattern.search(signals.title if where == "title" else text)
        if match:
            return Verdict(True, f"{reason}: {host} page shows {_quote(match)}")
    if status >= 400:
        return Verdict(True, f"error page: the server answered HTTP {status}")
    if signals.captcha_frames:
        return Verdict(True, "captcha: a captcha widget is on the page")
    match = CAPTCHA.search(seen)
    if match and len(text) < SHORT:
        return Verdict(True, f"captcha: the page asks {_quote(match)}")
    match = LOGIN.search(seen)
    if signals.password_fields and match and len(text) < 3000:
        return Verdict(True, f"login wall: a password field and {_quote(match)}")
    match = UNAVAILABLE.search(seen)
    if match and len(text) < SHORT:
        return Verdict(True, f"unavailable placeholder: {_quote(match)}")
    if text_size(text) < MIN_TEXT and not signals.media:
        return Verdict(True, f"empty render: {len(text)} characters of text and no media")
    return OK
