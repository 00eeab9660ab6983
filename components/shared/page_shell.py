"""The page's first paint: the page's heading and status are in the HTML itself.

Streamlit's page (``index.html``) is an empty ``<div id="root">`` until its JavaScript
(several MB) is fetched, parsed and run, and the script's first run has sent the page's
heading: 1.0-1.5 s after opening a one-line Streamlit app on a 2-core machine, longer
while the server loads the models. ``PageShell``, an ASGI middleware that app.py's
``st.App`` puts in front of Streamlit's routes, writes the heading of the page asked for
and the server's status ("Loading the models, about N s" or "Loading the page") into
that HTML, so the browser paints them with the page's first paint. A few lines of script
in it remove them as soon as Streamlit has drawn its own heading.

Nothing else is changed: any other response (Streamlit's JavaScript, its WebSocket, the
media files, a component's own page in its frame, any URL that is not one of the app's
pages) passes through untouched.
"""

from __future__ import annotations

import gzip
import html
from collections.abc import Callable, Mapping

SHELL_ID = "page-shell"

Heading = tuple[str, "str | None"]
"""A page's heading and its caption (None: none)."""

_ROOT = b'<div id="root"></div>'

MAX_PAGE_BYTES = 1 << 20
"""An HTML answer larger than this passes through untouched (Streamlit's is 8 KB)."""

# Streamlit's own look for a heading, a caption and an st.info box (the light theme, the
# wide layout's padding beside its 300 px sidebar; no sidebar on a phone), so that the
# switch to the real page moves as little as possible. Over Streamlit's empty frame until
# the script below removes it.
_STYLE = """
#page-shell {position: fixed; inset: 0; z-index: 1000000; overflow: hidden;
  background: #fff; color: #0a0a0a; padding: 6rem 5rem 0 calc(5rem + 300px);
  font-family: "Source Sans", sans-serif; pointer-events: none}
#page-shell h1 {font-size: 2.75rem; font-weight: 700; line-height: 1.2; margin: 0;
  padding: 1.25rem 0 1rem}
#page-shell small {display: block; font-size: 0.875rem; color: rgba(10, 10, 10, 0.6);
  margin-bottom: 1rem}
#page-shell p {background: rgba(28, 131, 225, 0.1); color: #0e3d6b; border-radius: 0.5rem;
  padding: 1rem; margin: 0; font-size: 1rem}
@media (max-width: 767px) {#page-shell {padding: 6rem 1rem 0}}
"""

# Removes the shell once Streamlit has drawn the page's heading and, while the models
# load, its own status line too (or a second later: the models may have loaded meanwhile);
# meanwhile the shell is hidden from assistive technology, which reads Streamlit's.
_SCRIPT = """
(() => {
  const shell = document.getElementById("page-shell");
  const root = document.getElementById("root");
  const until = shell.dataset.until;
  let timer = null;
  const done = () => { shell.remove(); drawn.disconnect(); };
  const drawn = new MutationObserver(() => {
    if (!root.querySelector("h1")) return;
    shell.setAttribute("aria-hidden", "true");  // one page heading, Streamlit's
    if (!until || root.textContent.includes(until)) return done();
    timer = timer || setTimeout(done, 1000);
  });
  drawn.observe(root, {childList: true, subtree: true, characterData: true});
  setTimeout(done, 20000);  // a page that never draws its heading is not hidden for good
})();
"""

MODELS_STATUS = "Loading the models"
"""How the status begins while the models load: Streamlit's page shows it too."""


def shell_html(heading: str, caption: str | None, status: str) -> str:
    """The heading, caption and status as the page shows them until Streamlit draws its
    own."""
    until = MODELS_STATUS if status.startswith(MODELS_STATUS) else ""
    small = f"<small>{html.escape(caption)}</small>" if caption else ""
    return (
        f"<style>{_STYLE}</style>"
        f'<div id="{SHELL_ID}" data-until="{until}"><h1>{html.escape(heading)}</h1>'
        f'{small}<p role="status">{html.escape(status)}</p></div>'
    )


def with_shell(page: bytes, heading: Heading, status: str) -> bytes:
    """Streamlit's ``index.html`` with the shell before its root element and the script
    that removes it after; any other HTML is returned as it came."""
    if page.count(_ROOT) != 1:
        return page
    shell = shell_html(*heading, status).encode()
    script = f"<script>{_SCRIPT}</script>".encode()
    return page.replace(_ROOT, shell + _ROOT + script)


_NOT_PAGES = {"_stcore", "component", "media", "static", "app"}
"""Path segments under which Streamlit serves other things: a component's own page (its
HTML has a ``<div id="root"></div>`` too), the media and static files."""


def page_heading(
    path: str, headings: Mapping[str, Heading], default: Heading
) -> Heading | None:
    """The heading and caption of the page at a URL path, or None for anything that is
    not one of the app's pages: the root gets the default page's, a page's name
    (``/evaluate``, ``/base/evaluate``) its own; anything else is left as it comes."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return default
    if _NOT_PAGES.intersection(segments):
        return None
    return headings.get(segments[-1])


class PageShell:
    """ASGI middleware: Streamlit's HTML page with the page's heading and the server's
    status written into it (``with_shell``).

    Args:
        app: the ASGI app it wraps (Starlette passes it).
        headings: each page's URL name -> its heading and caption.
        default: the heading and caption of the page at the root URL.
        status: called for each page served: the status line to show.
    """

    def __init__(
        self,
        app,
        headings: Mapping[str, Heading],
        default: Heading,
        status: Callable[[], str],
    ) -> None:
        self.app = app
        self.headings = dict(headings)
        self.default = default
        self.status = status

    async def __call__(self, scope, receive, send) -> None:
        heading = None
        if scope["type"] == "http" and scope["method"] == "GET":
            heading = page_heading(scope["path"], self.headings, self.default)
        if heading is None:
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def rewrite(message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = {k.lower(): v for k, v in message.get("headers", [])}
                encoding = headers.get(b"content-encoding", b"identity")
                if (
                    message["status"] == 200
                    and headers.get(b"content-type", b"").startswith(b"text/html")
                    and encoding in (b"identity", b"gzip")
                ):
                    start = message  # held until the whole page has come
                    return
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > MAX_PAGE_BYTES:
                    await send(start)  # too large to be Streamlit's page: as it came
                    start = None
                    await send({**message, "body": b"".join(chunks)})
                elif not message.get("more_body", False):
                    await self._send_page(start, b"".join(chunks), heading, send)
                return
            await send(message)

        await self.app(scope, receive, rewrite)

    async def _send_page(
        self, start: dict, body: bytes, heading: Heading, send
    ) -> None:
        headers = [(k, v) for k, v in start.get("headers", [])]
        if any(k.lower() == b"content-encoding" and v == b"gzip" for k, v in headers):
            body = gzip.decompress(body)
        page = with_shell(body, heading, self.status())
        # The page now changes with the server's status: no validators for a 304 to reuse
        # an older copy, no encoding or length of the original.
        dropped = {b"content-length", b"content-encoding", b"etag", b"last-modified"}
        headers = [(k, v) for k, v in headers if k.lower() not in dropped]
        headers.append((b"content-length", str(len(page)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": page})
