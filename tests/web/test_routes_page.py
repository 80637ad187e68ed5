"""The link page's routes: headers, SRI hashes, the asset allow-list, link-id checks."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from blindvault.server.api import page as routes_page
from blindvault.server.api import sw as routes_sw

LINK_ID = "LoEAFpfrViZOsGfbmO28NQ"


def client() -> TestClient:
    app = FastAPI()
    app.include_router(routes_page.router)
    return TestClient(app)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_page_headers() -> None:
    r = client().get(f"/s/{LINK_ID}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
    ):
        assert directive in csp
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]{43}='; ", csp)
    assert "unsafe" not in csp
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert r.headers["cache-control"] == "no-store"


def test_every_script_and_stylesheet_is_pinned() -> None:
    html = client().get(f"/s/{LINK_ID}").text
    files = routes_page.ASSETS
    assert f'integrity="{sri(files["linkpage.js"])}"' in html
    assert f'integrity="{sri(files["link.css"])}"' in html
    # linkcore.js is imported by linkpage.js: pinned by the import map.
    assert f'"/s/assets/linkcore.js": "{sri(files["linkcore.js"])}"' in html
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 2
    for tag in scripts:
        assert 'type="importmap"' in tag or "integrity=" in tag
    # the streaming modules the page imports (server/api/sw.py) are pinned the same way
    for name in ("client.js", "decrypt-stream.js"):
        assert f'"/sw/{name}": "{sri(routes_sw.MODULES[name])}"' in html
    for tag in re.findall(r"<link\b[^>]*>", html):
        # a data: icon fetches nothing (and spares the page a 404 for /favicon.ico)
        assert "integrity=" in tag or tag == '<link rel="icon" href="data:,">'
    # The CSP allows the import map by its hash, and nothing else inline.
    inline = re.search(r'<script type="importmap">(.*?)</script>', html, re.DOTALL)
    assert inline is not None
    digest = base64.b64encode(hashlib.sha256(inline.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in routes_page.CSP


def test_assets_allow_list() -> None:
    c = client()
    for name, kind in (
        ("linkcore.js", "text/javascript"),
        ("linkpage.js", "text/javascript"),
        ("link.css", "text/css"),
    ):
        r = c.get(f"/s/assets/{name}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith(kind)
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.content == routes_page.ASSETS[name]
    for name in ("link.html", "..%2Flink.html", "routes_page.py", "linkcore.js.map", "x"):
        assert c.get(f"/s/assets/{name}").status_code == 404


def test_link_id_is_checked() -> None:
    c = client()
    for bad in (
        "short",
        LINK_ID + "A",
        "LoEAFpfrViZOsGfbmO28NR",  # non-canonical last character
        "LoEAFpfrViZOsGfbmO28N+",
        "LoEAFpfrViZOsGfbmO28N=",
    ):
        r = c.get(f"/s/{bad}")
        assert r.status_code == 404, bad
        assert "No such link" in r.text
        assert "<script" not in r.text
        assert r.headers["content-security-policy"] == routes_page.CSP
    assert c.get("/s/AAAAAAAAAAAAAAAAAAAAAA").status_code == 200
