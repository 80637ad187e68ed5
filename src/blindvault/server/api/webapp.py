"""The browser vault app: `GET /app/` and its static assets (issue 15).

Everything the app runs is pinned from the HTML (P-WEBCODE), as on the link page:

- the app's ES modules (and `linkcore.js`, which it imports from `/s/assets/`) are pinned
  by SHA-384 in the page's one inline import map (its `integrity` section), whose own
  SHA-256 is the only inline script the CSP allows; the entry module and the stylesheet
  carry SRI attributes;
- the files the app turns into Web Workers (no SRI reaches a worker) are pinned in a
  `<meta name="blindvault-assets">` map; the app fetches them, checks the SHA-384 and
  starts the worker from a blob: URL of the checked bytes (`app/loader.js`);
- the streaming modules under `/sw/` (server/api/sw.py) are pinned by the same import map;
  the service worker `/sw.js` cannot carry SRI (its hash is in the release all the same);
- the CSP allows this origin only, no inline code but that import map, WebAssembly
  compilation (Argon2id), blob: workers and the service worker, a hidden same-origin
  frame (streamed downloads), and requires Trusted Types with two policies (the
  blob: workers' and the service worker's, each yielding only its own URLs).

`release_hashes()` is what `blindvault webapp-hashes` prints, so anyone can compare what
a server serves with a release. A server that serves other code is not stopped by any of
this (docs/threat-model.md, "served code").

This module only serves bytes; it imports neither the crypto core nor the client.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from blindvault import __version__
from blindvault.server.api import sw
from blindvault.server.api.pinning import csp_hash, import_map, sri

__all__ = ["ASSETS", "CSP", "release_digest", "release_hashes", "router", "served_hashes"]

router = APIRouter(tags=["web app"])

_WEB = importlib.resources.files("blindvault").joinpath("web")
_JS = "text/javascript; charset=utf-8"
# The only files served under /app/: a fixed allow-list with fixed types.
_MODULES = (
    "app.js", "api.js", "archive.js", "bytes.js", "crypto.js", "edits.js", "formats.js",
    "history.js", "history-view.js", "kdf.js", "links.js", "loader.js", "manifest.js", "ops.js",
    "passwd.js", "resume.js", "share-view.js", "shares.js", "sharing.js", "signup.js",
    "store.js", "strength.js", "transfer.js", "ui.js", "vault.js",
)  # fmt: skip
_WORKER_PARTS = (
    "vendor/hash-wasm-argon2.umd.min.js", "kdf-worker.js", "seal-worker.js",
    "vendor/zxcvbn-ts-core.js", "vendor/zxcvbn-ts-language-common.js",
    "vendor/zxcvbn-ts-language-en.js", "strength-worker.js",
)  # fmt: skip
_DATA = ("vendor/bip39-english.txt",)  # fetched and checked by the page like the worker parts
_TYPES = (
    dict.fromkeys((*_MODULES, *_WORKER_PARTS), _JS)
    | dict.fromkeys(_DATA, "text/plain; charset=utf-8")
    | {"app.css": "text/css; charset=utf-8"}
)
ASSETS: dict[str, bytes] = {n: _WEB.joinpath("app", n).read_bytes() for n in _TYPES}
_LINKCORE = "/s/assets/linkcore.js"
_LINKCORE_BYTES = _WEB.joinpath("linkcore.js").read_bytes()


def release_hashes() -> dict[str, str]:
    """SHA-384 (SRI form) of every file the app runs, by the path it is served at."""
    out = {f"/app/{name}": sri(data) for name, data in sorted(ASSETS.items())}
    out[_LINKCORE] = sri(_LINKCORE_BYTES)
    out.update({f"/sw/{name}": digest for name, digest in sw.SRI.items()})
    out["/sw.js"] = sri(sw.WORKER)
    out["/app/index.html (template)"] = sri(_WEB.joinpath("app", "index.html").read_bytes())
    return out


def release_digest() -> str:
    """One SHA-256 over the sorted `path hash` lines: the release's fingerprint."""
    lines = "".join(f"{p} {h}\n" for p, h in sorted(release_hashes().items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _render() -> tuple[bytes, str]:
    hashes = release_hashes()
    integrity = {
        p: h for p, h in hashes.items() if p.endswith(".js") and p != "/sw.js" and "worker" not in p
    }
    for part in _WORKER_PARTS:
        integrity.pop(f"/app/{part}", None)
    importmap = json.dumps({"imports": {}, "integrity": integrity}, sort_keys=True)
    pinned = (*_WORKER_PARTS, *_DATA)
    workers = json.dumps({f"/app/{p}": hashes[f"/app/{p}"] for p in pinned}, sort_keys=True)
    template = _WEB.joinpath("app", "index.html").read_text(encoding="utf-8")
    html = (
        template.replace("{{IMPORTMAP}}", importmap)
        .replace("{{WORKERS}}", workers.replace('"', "&quot;"))
        .replace("{{APP_SRI}}", hashes["/app/app.js"])
        .replace("{{CSS_SRI}}", hashes["/app/app.css"])
        .replace("{{VERSION}}", __version__)
        .replace("{{RELEASE}}", release_digest())
    )
    inline = import_map(html, "app/index.html")
    csp = (
        f"default-src 'none'; script-src 'self' {csp_hash(inline)} 'wasm-unsafe-eval'; "
        "worker-src 'self' blob:; style-src 'self'; connect-src 'self'; "
        "img-src 'self' blob: data:; media-src 'self'; frame-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
        "trusted-types blindvault-worker blindvault-sw"
    )
    return html.encode("utf-8"), csp


_HTML, CSP = _render()


def served_hashes() -> dict[str, str]:
    """What a server running this release serves, path by path: the page as rendered (the
    same bytes on every server) and every asset; `blindvault webapp-hashes` prints these."""
    hashes = {p: h for p, h in release_hashes().items() if not p.endswith("(template)")}
    return {"/app/": sri(_HTML), **hashes}


_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_NOT_FOUND = b"<!doctype html><title>blindvault: not found</title><h1>Not found</h1>"


@router.get("/app/", include_in_schema=False)
def index() -> Response:
    return HTMLResponse(_HTML, headers=_HEADERS)


@router.get("/app/{name:path}", include_in_schema=False)
def asset(name: str) -> Response:
    data = ASSETS.get(name)
    if data is None:
        return Response(_NOT_FOUND, status_code=404, media_type="text/html; charset=utf-8")
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    return Response(data, media_type=_TYPES[name], headers=headers)
