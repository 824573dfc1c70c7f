"""The crawl's write path: one HTTP exchange as the tap saw it (exchange), its WARC
records and catalog rows built and written (recorder), the rows committed once the
records are on disk (rowcommits), and the fsync off the crawl's thread (syncer)."""
