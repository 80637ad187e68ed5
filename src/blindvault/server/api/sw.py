"""The streaming service worker: `GET /sw.js` and its modules under `/sw/`.

`/sw.js` (blindvault/web/stream/sw.js) decrypts and verifies downloads chunk by chunk in
the browser and answers the page's `/sw-dl/<id>` and `/sw-media/<id>` requests with
the plaintext stream; it is served with `Service-Worker-Allowed: /` (scope `/`) and a
strict CSP of its own (scripts and connections to this origin only, Trusted Types
required). A module service worker cannot carry Subresource Integrity, so, as for the
page itself, the code is as trustworthy as the server that serves it (P-WEBCODE in
docs/threat-model.md); the pages that import `/sw/*.js` pin them with SRI.

`/sw-dl/<id>` and `/sw-media/<id>` reaching the server means no worker answered them
(a stale tab, a worker the browser stopped): a plain 404 page says to start again.

This module only serves bytes; it does not import the crypto core or the client.
"""

from __future__ import annotations

import importlib.resources

from fastapi import APIRouter
from fastapi.responses import Response

from blindvault.server.api.pinning import sri

__all__ = ["MODULES", "SRI", "SW_CSP", "WORKER", "router"]

router = APIRouter(tags=["service worker"])

_STREAM = importlib.resources.files("blindvault").joinpath("web", "stream")
_JS = "text/javascript; charset=utf-8"
WORKER: bytes = _STREAM.joinpath("sw.js").read_bytes()
# The only modules served under /sw/: a fixed allow-list.
MODULES: dict[str, bytes] = {
    name: _STREAM.joinpath(name).read_bytes()
    for name in ("decrypt-stream.js", "client.js", "zip.js")
}
SRI: dict[str, str] = {name: sri(data) for name, data in MODULES.items()}
SW_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
    "trusted-types 'none'"
)
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_GONE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
    b"<title>blindvault: download not available</title></head><body>"
    b"<h1>This download is not available</h1><p>Streamed downloads are decrypted inside "
    b"the page that started them. Go back to that page and start the download again.</p>"
    b"</body></html>"
)
_GONE_HEADERS = {
    **_COMMON,
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


@router.get("/sw.js", include_in_schema=False)
def worker() -> Response:
    headers = {
        **_COMMON,
        "Service-Worker-Allowed": "/",
        "Content-Security-Policy": SW_CSP,
        # the browser checks for a new worker on every navigation, never from a cache
        "Cache-Control": "no-cache",
    }
    return Response(WORKER, media_type=_JS, headers=headers)


@router.get("/sw/{name}", include_in_schema=False)
def module(name: str) -> Response:
    data = MODULES.get(name)
    if data is None:
        return Response(_GONE, status_code=404, media_type="text/html; charset=utf-8")
    return Response(data, media_type=_JS, headers={**_COMMON, "Cache-Control": "no-cache"})


@router.get("/sw-dl/{job}", include_in_schema=False)
@router.get("/sw-media/{job}", include_in_schema=False)
def no_worker(job: str) -> Response:
    del job
    return Response(
        _GONE, status_code=404, media_type="text/html; charset=utf-8", headers=_GONE_HEADERS
    )
