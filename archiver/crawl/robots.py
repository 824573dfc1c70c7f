"""robots.txt responses, made ready for Scrapy's RobotsTxtMiddleware (RFC 9309).

- Content-encoding is undone here (bounded), because Scrapy's HttpCompressionMiddleware
  is off (the spider decodes the pages it parses, see ``archiver/spiders/decode.py``).
- A server error (5xx) means the rules are unknown: RFC 9309 §2.3.1.4 says to assume
  a complete disallow. A 4xx means there are no rules: allow all.
- Redirects (up to 5, §2.3.1.2) are followed by Scrapy's RedirectMiddleware, which acts
  only on robots.txt requests: every request of the spider carries ``dont_redirect``.

The archived records keep the bytes as sent; only what the robots parser reads changes.
"""

from __future__ import annotations

from typing import Any

from archiver.spiders.decode import decoded_body

ROBOTS_LIMIT = 512 * 1024  # RFC 9309 §2.5: parse at least the first 500 KiB
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class PrepareRobotsTxt:
    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        if not request.url.endswith("/robots.txt") or 300 <= response.status < 400:
            return response
        headers = response.headers.copy()
        headers.pop(b"Content-Encoding", None)
        if response.status >= 500:
            return response.replace(body=DISALLOW_ALL, headers=headers)
        if response.status >= 400:
            return response.replace(body=b"", headers=headers)
        encoding = response.headers.get(b"Content-Encoding")
        if not encoding:
            return response
        # Undecodable: read as no rules, the same as a missing robots.txt.
        body = decoded_body(response.body, encoding, ROBOTS_LIMIT)
        return response.replace(body=body or b"", headers=headers)
