"""A local "social post" site whose posts render only through JavaScript.

``/post/N`` is an application shell: after load, a script fetches ``/api/post/N.json``
and writes the post text and its images into the page. Far below the fold an image
loads only when scrolled to (an IntersectionObserver sets its ``src``), and the post
is cut with a "Show more" button that fetches the rest of the text. ``/post/wall``
answers with a login wall instead of the post. Every request the server gets is
logged, so a test can check that nothing reached it outside the WARC.
"""

from __future__ import annotations

import json
import struct
import zlib

from mutablesite import MutableSite, Reply

POST_TEXT = "Lawyer detained after posting about the 709 crackdown anniversary"
MORE_TEXT = "Full statement: the families ask for access to counsel"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, made here so each image has its own bytes."""
    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


SHELL = """<!doctype html><html><head><meta charset="utf-8"><title>Post</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><div id="app">Loading…</div>
<div style="height: 2600px"></div>
<img id="lazy" alt="" width="120" height="80" data-src="/media/lazy.png">
<script src="/static/app.js"></script></body></html>"""

APP_JS = """
const id = location.pathname.split('/').pop();
fetch('/api/post/' + id + '.json').then(r => r.json()).then(post => {
  const app = document.getElementById('app');
  if (post.login_required) {
    app.innerHTML = '<form><h2>Log in to see this post</h2>' +
      '<input name="user"><input type="password" name="pw"><button>Log in</button></form>';
    return;
  }
  app.innerHTML = '<article><p id="text"></p><button id="more">Show more</button>' +
    '<img src="' + post.image + '" width="200" height="100"></article>';
  document.getElementById('text').textContent = post.text;
  document.getElementById('more').onclick = () => {
    fetch('/api/post/' + id + '/more.json').then(r => r.json()).then(more => {
      document.getElementById('text').textContent += ' ' + more.text;
      document.getElementById('more').remove();
    });
  };
});
const lazy = document.getElementById('lazy');
new IntersectionObserver((entries, observer) => {
  if (entries.some(e => e.isIntersecting)) { lazy.src = lazy.dataset.src; observer.disconnect(); }
}).observe(lazy);
"""


def social_site(site: MutableSite) -> MutableSite:
    site.set("/post/1", Reply(body=SHELL.encode()))
    site.set("/post/wall", Reply(body=SHELL.encode()))
    site.set("/static/app.js", Reply(body=APP_JS.encode(), content_type="text/javascript"))
    site.set(
        "/static/app.css", Reply(body=b"body { font: 16px sans-serif }", content_type="text/css")
    )
    post = {"text": POST_TEXT, "image": "/media/moved.png"}  # a redirect to photo.png
    site.set("/media/moved.png", Reply(302, b"", headers=[("Location", "/media/photo.png")]))
    site.set("/go/1", Reply(301, b"", headers=[("Location", "/post/1")]))
    site.set(
        "/api/post/1.json", Reply(body=json.dumps(post).encode(), content_type="application/json")
    )
    site.set(
        "/api/post/1/more.json",
        Reply(body=json.dumps({"text": MORE_TEXT}).encode(), content_type="application/json"),
    )
    site.set(
        "/api/post/wall.json",
        Reply(body=b'{"login_required": true}', content_type="application/json"),
    )
    site.set("/media/photo.png", Reply(body=png(200, 100, (200, 30, 30)), content_type="image/png"))
    site.set("/media/lazy.png", Reply(body=png(120, 80, (30, 30, 200)), content_type="image/png"))
    site.set("/favicon.ico", Reply(404, b""))
    return site
