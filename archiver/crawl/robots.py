"""Content-decoding for robots.txt responses.

Scrapy's HttpCompressionMiddleware is off (the spider decodes the pages it parses, see
``archiver/spiders/decode.py``), so the robots.txt responses that Scrapy's
RobotsTxtMiddleware reads are decoded here, bounded, before it parses them. The
archived record keeps the bytes as sent.
"""

from __future__ import annotations

from typing import Any

from archiver.spiders.decode import decoded_body

ROBOTS_LIMIT = 512 * 1024  # Google reads the first 500 KiB of a robots.txt


class DecodeRobotsTxt:
    def process_response(self, request: Any, response: Any, spider: Any = None) -> Any:
        encoding = response.headers.get(b"Content-Encoding")
        if not encoding or not request.url.endswith("/robots.txt"):
            return response
        body = decoded_body(response.body, encoding, ROBOTS_LIMIT)
        headers = response.headers.copy()
        del headers[b"Content-Encoding"]
        # Undecodable: an empty robots.txt, which robots parsers read as "allow all",
        # the same as an unreachable one.
        return response.replace(body=body or b"", headers=headers)
