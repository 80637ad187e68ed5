"""The web app's routes: headers, CSP, every module pinned, the asset allow-list, and
`blindvault webapp-hashes` printing what is served."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys

from fastapi import FastAPI
from fastapi.testclient import TestClient

from blindvault.server.api import webapp


def client() -> TestClient:
    app = FastAPI()
    app.include_router(webapp.router)
    return TestClient(app)


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_page_headers_and_csp() -> None:
    r = client().get("/app/")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "style-src 'self'",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "frame-src 'self'",
        "media-src 'self'",
        "trusted-types blindvault-worker blindvault-sw",
    ):
        assert directive in csp
    # one inline script (the import map, by hash); WebAssembly for Argon2id; nothing else
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]{43}=' 'wasm-unsafe-eval'; ", csp)
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe", "")
    for header, value in (
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
    ):
        assert r.headers[header] == value


def test_every_module_is_pinned() -> None:
    c = client()
    html = c.get("/app/").text
    importmap = json.loads(re.findall(r'<script type="importmap">(.*?)</script>', html)[0])
    pinned = importmap["integrity"]
    modules = {f"/app/{n}" for n in webapp.ASSETS if n.endswith(".js") and "/" not in n}
    modules -= {"/app/kdf-worker.js", "/app/seal-worker.js", "/app/strength-worker.js"}
    streaming = {"/sw/client.js", "/sw/decrypt-stream.js", "/sw/zip.js"}
    assert set(pinned) == modules | {"/s/assets/linkcore.js"} | streaming
    for path, digest in pinned.items():
        if path.startswith("/app/"):
            assert sri(c.get(path).content) == digest
    assert f'src="/app/app.js" integrity="{pinned["/app/app.js"]}"' in html
    assert f'href="/app/app.css" integrity="{sri(c.get("/app/app.css").content)}"' in html
    meta = re.search(r'<meta name="blindvault-assets" content="([^"]*)">', html)
    assert meta is not None
    workers = json.loads(meta.group(1).replace("&quot;", '"'))
    assert set(workers) == {
        "/app/kdf-worker.js",
        "/app/seal-worker.js",
        "/app/strength-worker.js",
        "/app/vendor/zxcvbn-ts-core.js",
        "/app/vendor/zxcvbn-ts-language-common.js",
        "/app/vendor/zxcvbn-ts-language-en.js",
        "/app/vendor/hash-wasm-argon2.umd.min.js",
        "/app/vendor/bip39-english.txt",
    }
    for path, digest in workers.items():
        assert sri(c.get(path).content) == digest
    # no inline code besides the import map, no third-party origin
    assert len(re.findall(r"<script", html)) == 2
    assert "http://" not in html and "https://" not in html


def test_only_listed_assets() -> None:
    c = client()
    for path in ("/app/../linkcore.js", "/app/nope.js", "/app/index.html", "/app/vendor/x.js"):
        assert c.get(path).status_code == 404
    r = c.get("/app/vendor/hash-wasm-argon2.umd.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")


def test_webapp_hashes_prints_what_is_served() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "blindvault", "webapp-hashes", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    got = json.loads(out.stdout)
    c = client()
    for path, digest in got["files"].items():
        if path.startswith("/app/"):
            assert sri(c.get(path).content) == digest, path
    assert got["release"] == webapp.release_digest()
    assert got["release"] in c.get("/app/").text
    text = subprocess.run(
        [sys.executable, "-m", "blindvault", "webapp-hashes"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f"release {got['release']}" in text
