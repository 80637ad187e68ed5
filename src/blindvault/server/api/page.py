"""The static share-link page: `GET /s/{link_id}` and its three assets.

The page decrypts in the browser with the secret in the URL fragment, which never
reaches this server (P-LINKKEY). Everything it runs is pinned (P-WEBCODE):

- every `<script>` and stylesheet in the HTML carries an SHA-384 Subresource Integrity
  hash computed here at import time from the files in `blindvault/web`;
- `linkcore.js` and `dropcore.js` (upload-only links) are loaded by `import` from
  `linkpage.js`, which SRI attributes cannot reach, so the page's inline import map pins
  them through the map's `integrity`
  section (Chromium 127+), and the CSP allows that one inline script by its SHA-256
  hash and no other;
- the streaming modules under `/sw/` (server/api/sw.py) are pinned by the same import
  map; the service worker itself cannot carry SRI (see sw.py);
- the CSP allows scripts, styles, connections, media and workers from this origin only,
  no inline code, no framing, no form submission, and requires Trusted Types for DOM
  sinks, with one policy (`blindvault-sw`, which only yields `/sw.js`).

This module only serves bytes; it does not import the crypto core or the client.
"""

from __future__ import annotations

import importlib.resources
import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from blindvault.server.api import sw
from blindvault.server.api.pinning import csp_hash, import_map, sri

__all__ = ["ASSETS", "CSP", "router"]

router = APIRouter(tags=["link page"])

_WEB = importlib.resources.files("blindvault").joinpath("web")
# The only files served under /s/assets/: a fixed allow-list with fixed types.
_TYPES = {
    "linkcore.js": "text/javascript; charset=utf-8",
    "dropcore.js": "text/javascript; charset=utf-8",
    "linkpage.js": "text/javascript; charset=utf-8",
    "link.css": "text/css; charset=utf-8",
}
ASSETS: dict[str, bytes] = {name: _WEB.joinpath(name).read_bytes() for name in _TYPES}
# A link id is base64url of 16 bytes, unpadded: 22 characters, the last one carrying
# two data bits and four zero bits (so only one text per id).
_LINK_ID = re.compile(r"[A-Za-z0-9_-]{21}[AQgw]")


def _render() -> tuple[bytes, str]:
    """The page's HTML with every integrity hash filled in, and its CSP."""
    template = _WEB.joinpath("link.html").read_text(encoding="utf-8")
    html = (
        template.replace("{{LINKCORE_SRI}}", sri(ASSETS["linkcore.js"]))
        .replace("{{DROPCORE_SRI}}", sri(ASSETS["dropcore.js"]))
        .replace("{{LINKPAGE_SRI}}", sri(ASSETS["linkpage.js"]))
        .replace("{{LINKCSS_SRI}}", sri(ASSETS["link.css"]))
        .replace("{{CLIENT_SRI}}", sw.SRI["client.js"])
        .replace("{{DECRYPT_STREAM_SRI}}", sw.SRI["decrypt-stream.js"])
    )
    inline = import_map(html, "link.html")
    csp = (
        f"default-src 'none'; script-src 'self' {csp_hash(inline)}; style-src 'self'; "
        "connect-src 'self'; img-src 'self' blob: data:; media-src 'self'; "
        "worker-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types blindvault-sw"
    )
    return html.encode("utf-8"), csp


_HTML, CSP = _render()
_NOT_FOUND = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b"<title>blindvault: no such link</title></head><body><h1>No such link</h1>"
    b"<p>This address is not a valid blindvault share link. Check that you copied the "
    b"whole link.</p></body></html>"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


@router.get("/s/assets/{name}", include_in_schema=False)
def asset(name: str) -> Response:
    data = ASSETS.get(name)
    if data is None:
        return Response(_NOT_FOUND, status_code=404, media_type="text/html; charset=utf-8")
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    return Response(data, media_type=_TYPES[name], headers=headers)


@router.get("/s/{link_id}", include_in_schema=False)
def page(link_id: str) -> Response:
    if not _LINK_ID.fullmatch(link_id):
        return HTMLResponse(_NOT_FOUND, status_code=404, headers=_PAGE_HEADERS)
    return HTMLResponse(_HTML, headers=_PAGE_HEADERS)
