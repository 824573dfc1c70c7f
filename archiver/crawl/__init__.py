"""The crawl side: Scrapy components that record exchanges (the only part that imports Scrapy)."""
