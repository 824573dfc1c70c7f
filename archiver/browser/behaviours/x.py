"""X / Twitter: long posts end in a "Show more" link that expands them in place."""

HOSTS = ("x.com", "twitter.com")
EXPANDERS = ("[data-testid='tweet-text-show-more-link']",)
