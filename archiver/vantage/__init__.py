"""Vantage points: the places a capture is fetched from (a proxy, or a local Tor), named
once by the operator and chosen per seed or crawl."""
