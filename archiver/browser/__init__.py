"""Browser capture: pages rendered by JavaScript, recorded exchange by exchange.

A headless Chromium (through scrapy-playwright) renders the page; every request it
makes is answered through Scrapy's own downloader and the protocol tap, so each one
becomes request/response records like any other fetch, under the same politeness
and address policy. A dead proxy behind the browser means nothing it tries on its
own (a redirect it follows, a preconnect) reaches the network unrecorded.
"""
