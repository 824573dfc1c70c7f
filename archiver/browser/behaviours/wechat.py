"""WeChat articles (mp.weixin.qq.com): images carry data-src and load when scrolled to;
the generic scroll brings each one into view. Nothing to click."""

HOSTS = ("mp.weixin.qq.com",)
EXPANDERS: tuple[str, ...] = ()
