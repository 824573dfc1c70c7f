"""Removal notices: the text platforms serve, with a 200, in place of a removed post.

Patterns are plain, case-insensitive substrings (or regular expressions written
``re:PATTERN``), per host: a pattern for ``weibo.com`` applies to ``m.weibo.com`` too,
and ``*`` applies to every host. Operators add their own in a JSON file named by
``ARCHIVER_REMOVAL_PATTERNS``: ``{"example.org": ["This post was removed"], "*": [...]}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from archiver.errors import ArchiverError

_WEIBO = [
    "该微博已被删除",
    "此微博已被作者删除",
    "抱歉，此微博已被删除",
    "该微博因被多人投诉",
    "由于作者设置，你暂时没有这条微博的查看权限",
    "permission denied",
]
_WECHAT = [
    "此内容因违规无法查看",
    "该内容已被发布者删除",
    "此内容被多人投诉",
    "该公众号已迁移",
    "此帐号已被屏蔽",
]
_X = [
    "This post is unavailable",
    "this account doesn’t exist",
    "this account doesn't exist",
    "This Tweet is unavailable",
    "This Tweet was deleted",
    "Account suspended",
]
DEFAULT_PATTERNS: dict[str, list[str]] = {
    "weibo.com": _WEIBO,
    "weibo.cn": _WEIBO,
    "mp.weixin.qq.com": _WECHAT,
    "twitter.com": _X,
    "x.com": _X,
    "t.me": ["This channel can’t be displayed", "This channel can't be displayed"],
    "facebook.com": ["This content isn't available right now", "This content isn’t available"],
}


@dataclass(frozen=True)
class _Pattern:
    text: str
    regex: re.Pattern[str] | None = None

    def find(self, haystack: str) -> bool:
        if self.regex is not None:
            return self.regex.search(haystack) is not None
        return self.text.lower() in haystack


@dataclass
class RemovalPatterns:
    by_host: dict[str, list[_Pattern]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None = None) -> RemovalPatterns:
        """The built-in patterns, plus the operator's file when one is named."""
        table: dict[str, list[str]] = {host: list(p) for host, p in DEFAULT_PATTERNS.items()}
        if path:
            for host, extra in _read_file(Path(path)).items():
                table.setdefault(host.lower(), []).extend(extra)
        patterns = cls()
        for host, texts in table.items():
            patterns.by_host[host] = [_compile(t, path) for t in texts]
        return patterns

    def match(self, host: str, text: str) -> str | None:
        """The first pattern for ``host`` found in ``text`` (the page as served)."""
        host = host.lower().rstrip(".")
        lowered = text.lower()
        for key, patterns in self.by_host.items():
            if key == "*" or host == key or host.endswith("." + key):
                for pattern in patterns:
                    if pattern.find(lowered if pattern.regex is None else text):
                        return pattern.text
        return None


def _compile(text: str, path: str | None) -> _Pattern:
    if text.startswith("re:"):
        try:
            return _Pattern(text, re.compile(text[3:], re.IGNORECASE))
        except re.error as exc:
            raise ArchiverError(
                f"removal pattern {text!r} in {path} is not a valid regular expression ({exc})"
            ) from exc
    return _Pattern(text)


def _read_file(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArchiverError(
            f"cannot read removal patterns from {path}: {exc.strerror or exc} "
            "(check ARCHIVER_REMOVAL_PATTERNS)"
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArchiverError(
            f"removal patterns file {path} is not valid JSON ({exc}); it should look like "
            '{"example.org": ["This post was removed"]}'
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(t, str) and t for t in v)
        for k, v in data.items()
    ):
        raise ArchiverError(
            f"removal patterns file {path} must map host names to lists of non-empty strings,"
            ' like {"example.org": ["This post was removed"]}'
        )
    return data
