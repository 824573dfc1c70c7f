"""An archive for the web view's tests: a Chinese post and an English page, each
captured three times, with an edit, a removal notice and a deletion in between (the
watch confirms the removal and the deletion as events)."""

from __future__ import annotations

import json
from pathlib import Path

from mutablesite import MutableSite, Reply, page
from warcs import archiver

POST = "/statuses/8841"
NEWS = "/news/1"
POST_V1 = page("律师声明", "这条微博记录了强拆的经过。请大家转发。")
POST_V2 = page("律师声明", "这条微博记录了强拆的经过。现场有三十人。请大家转发。")
NOTICE = page("微博", "抱歉，此微博已被作者删除。")
NEWS_V1 = page("Village news", "The council met on Monday. The vote was postponed.")
NEWS_V2 = page("Village news", "The council met on Monday. The vote passed 7 to 2.")
FAST = ("-s", "ARCHIVER_CONFIRM_DELAY=0")


def crawl(home: Path, patterns: Path) -> None:
    result = archiver(
        home, "crawl", "--profile", "test", *FAST, "-s", f"ARCHIVER_REMOVAL_PATTERNS={patterns}"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def build(root: Path) -> tuple[Path, str]:
    """The archive home, and the site's base URL (the site is gone afterwards)."""
    home = root / "home"
    patterns = root / "patterns.json"
    patterns.write_text(json.dumps({"127.0.0.1": ["此微博已被作者删除"]}), encoding="utf-8")
    with MutableSite() as site:
        site.set(POST, Reply(body=POST_V1))
        site.set(NEWS, Reply(body=NEWS_V1))
        for path, tag in ((POST, "weibo"), (NEWS, "news")):
            added = archiver(home, "seeds", "add", site.url + path[1:], "--tag", tag,
                             "--note", "at risk", "--nominated-by", "tester")  # fmt: skip
            assert added.returncode == 0, added.stderr
        crawl(home, patterns)
        site.set(POST, Reply(body=POST_V2))
        site.set(NEWS, Reply(body=NEWS_V2))
        crawl(home, patterns)
        site.set(POST, Reply(body=NOTICE))
        site.set(NEWS, Reply(status=404, body=page("Not found", "No such page.")))
        crawl(home, patterns)
        return home, site.url
