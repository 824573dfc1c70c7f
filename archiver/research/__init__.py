"""The researcher side: what was captured and when (lookup and TimeMaps), the exact
records by byte range (retrieval), citations, fixity checks, CDXJ indexes and WACZ
export. It reads the catalog and the stores and never imports Scrapy."""
