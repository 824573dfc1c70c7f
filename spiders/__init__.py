"""Scrapy spiders (installed as ``archiver.spiders``)."""
