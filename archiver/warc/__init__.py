"""WARC 1.1 records: building, writing with rollover, and reading back by byte range (no Scrapy)."""
