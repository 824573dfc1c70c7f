"""Facebook: long posts are cut with a "See more" button."""

HOSTS = ("facebook.com",)
EXPANDERS = ("div[role='button']:text-is('See more')",)
