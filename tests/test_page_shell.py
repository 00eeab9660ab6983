"""components.shared.page_shell: the page's heading and status written into Streamlit's
HTML, and every other answer passed through as it came."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import streamlit
import streamlit_webrtc

from components.shared.page_shell import (
    MAX_PAGE_BYTES,
    SHELL_ID,
    PageShell,
    page_heading,
    with_shell,
)

INDEX = (Path(streamlit.__file__).parent / "static" / "index.html").read_bytes()
HEADINGS = {
    "compare": ("Classification vs detection", "A classifier names the image."),
    "evaluate": ("Evaluate on held-out data", None),
}


def serve(body: bytes, headers: list[tuple[bytes, bytes]], chunks: int = 1):
    """An ASGI app that answers every request with ``body`` (in ``chunks`` parts)."""

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        step = -(-len(body) // chunks)
        for i in range(chunks):
            part = body[i * step : (i + 1) * step]
            await send(
                {
                    "type": "http.response.body",
                    "body": part,
                    "more_body": i < chunks - 1,
                }
            )

    return app


def call(app, path: str = "/", method: str = "GET") -> tuple[dict, bytes]:
    """One request through ``app``: (the response's headers, its whole body)."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    asyncio.run(app(scope, receive, send))
    start = sent[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return {k.decode(): v.decode() for k, v in start["headers"]}, body


def shell(app, status: str = "Loading the models, about 5 s.") -> PageShell:
    return PageShell(app, HEADINGS, HEADINGS["compare"], lambda: status)


HTML = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"etag", b'"abc"'),
    (b"last-modified", b"Sun, 06 Dec 2026 01:20:13 GMT"),
    (b"content-length", str(len(INDEX)).encode()),
]


def test_streamlits_page_gets_the_pages_heading_caption_and_status():
    headers, body = call(shell(serve(INDEX, HTML, chunks=3)), "/evaluate")
    page = body.decode()
    assert int(headers["content-length"]) == len(body)
    # The status changes with the server's state: no validator for a 304 to reuse.
    assert "etag" not in headers and "last-modified" not in headers
    shell_at, root_at = page.index(f'id="{SHELL_ID}"'), page.index('<div id="root">')
    assert shell_at < root_at < page.index("shell.remove()")
    assert "<h1>Evaluate on held-out data</h1>" in page
    assert '<p role="status">Loading the models, about 5 s.</p>' in page
    # Nothing else changed.
    added = page[page.index("<style>\n#page-shell") : page.rindex("</script>") + 9]
    assert page.replace(added, "") == INDEX.decode().replace(
        '<div id="root"></div>', ""
    )


def test_the_root_gets_the_default_pages_heading_and_other_urls_none():
    _, body = call(shell(serve(INDEX, HTML)), "/")
    assert b"<h1>Classification vs detection</h1>" in body
    assert b"<small>A classifier names the image.</small>" in body
    default = ("d", None)
    assert page_heading("/base/compare/", HEADINGS, default) == HEADINGS["compare"]
    assert page_heading("", HEADINGS, default) == default
    # Not one of the app's pages: Streamlit's own answer stands.
    assert page_heading("/no-such-page", HEADINGS, default) is None
    assert page_heading("/component/x/compare", HEADINGS, default) is None


def test_a_components_own_page_in_its_frame_is_left_alone():
    # streamlit-webrtc's frame is an HTML page with a <div id="root"></div> too: a shell
    # there would cover the camera's START button for good.
    component = Path(streamlit_webrtc.__file__).parent / "frontend/dist/index.html"
    page = component.read_bytes()
    assert b'<div id="root"></div>' in page
    path = "/component/streamlit_webrtc.component.webrtc_streamer/index.html"
    assert call(shell(serve(page, HTML)), path)[1] == page
    assert call(shell(serve(INDEX, HTML)), "/no-such-page")[1] == INDEX


def test_the_shell_waits_for_the_pages_own_status_only_while_the_models_load():
    _, loading = call(shell(serve(INDEX, HTML)), "/")
    assert b'data-until="Loading the models"' in loading
    _, loaded = call(shell(serve(INDEX, HTML), status="Loading the page."), "/")
    assert b'data-until=""' in loaded and b"Loading the page." in loaded


def test_text_is_escaped():
    page = with_shell(INDEX, ("<b>x</b> & y", None), "<script>alert(1)</script>")
    assert b"&lt;b&gt;x&lt;/b&gt; &amp; y" in page
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert b"<script>alert(1)" not in page


def test_a_gzipped_page_is_rewritten_and_sent_plain():
    headers = [(b"content-type", b"text/html"), (b"content-encoding", b"gzip")]
    answer, body = call(shell(serve(gzip.compress(INDEX), headers)), "/compare")
    assert "content-encoding" not in answer
    assert b"<h1>Classification vs detection</h1>" in body


def test_everything_else_passes_through_as_it_came():
    script = b"console.log('<div id=\"root\"></div>')"
    js = [(b"content-type", b"text/javascript"), (b"etag", b'"js"')]
    headers, body = call(shell(serve(script, js)), "/static/js/index.js")
    assert body == script and headers["etag"] == '"js"'
    # Not Streamlit's page: no root element to put the shell before.
    other = b"<html><body><p>another page</p></body></html>"
    assert call(shell(serve(other, HTML)), "/x")[1] == other
    # A POST, and an HTML answer too large to be Streamlit's page.
    assert call(shell(serve(INDEX, HTML)), "/", method="POST")[1] == INDEX
    large = INDEX + b" " * (MAX_PAGE_BYTES + 1)
    assert call(shell(serve(large, HTML, chunks=4)), "/")[1] == large
