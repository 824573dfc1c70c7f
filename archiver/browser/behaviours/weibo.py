"""Weibo: long posts are cut with a 展开 ("expand") link that loads the full text."""

HOSTS = ("weibo.com", "weibo.cn")
EXPANDERS = (
    "a[action-type='fl_unfold']",  # 展开全文 on weibo.com
    "span.expand",  # m.weibo.cn
    "[class*='expand']:not(a[href^='http'])",
)
