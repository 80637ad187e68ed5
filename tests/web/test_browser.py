"""The link page in a real Chromium.

Part A: the vector files run through linkcore.js inside Chromium, and the page as
served (CSP, SRI, import map) boots under its own policy; both against a fake origin
whose every request Playwright answers, so no server is needed.

Part B: against a real `blindvault server` on loopback and links made by the CLI:
downloads, folders, passwords, every error message, a tampered asset, a tampered
blob, and the fragment secret in no request and no server log line (P-LINKKEY).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from blindvault.server.api import page as routes_page
from blindvault.server.api import sw as routes_sw
from helpers.web import run_cli, web_server

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
WEB = ROOT / "src" / "blindvault" / "web"
VECTORS = ROOT / "tests" / "vectors"
FAKE = "http://localhost"  # a secure context (WebCrypto needs one); never really contacted
SAMPLE_ID = "LoEAFpfrViZOsGfbmO28NQ"
SAMPLE_FRAGMENT = "v1.xjMGnKzTpKfec9Gb3UOhJD4i4ajX-y6EGmM3osCoQkY"


# ---------------------------------------------------------------------------- Part A


PAGE_TYPES = ("link", "content", "manifest", "padme")  # linkcore.js
DROP_TYPES = ("drop-link", "drop")  # dropcore.js: descriptor opened, drops sealed byte-exact


def vector_files() -> dict[str, Any]:
    files: dict[str, Any] = {}
    for type_ in (*PAGE_TYPES, *DROP_TYPES):
        for p in sorted((VECTORS / "v1" / type_).glob("*.json")):
            files[f"v1/{type_}/{p.name}"] = json.loads(p.read_text(encoding="utf-8"))
    for rel in (
        "external/wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json",
        "external/rfc/rfc5869_hkdf_sha256.json",
        "external/wycheproof/hkdf_sha256_test.json",
    ):
        files[rel] = json.loads((VECTORS / rel).read_text(encoding="utf-8"))
    return files


RUN_VECTORS = """async (files) => {
  const core = await import("/s/assets/linkcore.js");
  const drop = await import("/s/assets/dropcore.js");
  const { runAll } = await import("/t/vectors.mjs");
  const inflate = async (bytes) => {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };
  return runAll(core, files, inflate, drop);
}"""


def test_vectors_in_chromium(chromium: Any) -> None:
    page = chromium.new_page()
    served = {
        "/s/assets/linkcore.js": ((WEB / "linkcore.js").read_bytes(), "text/javascript"),
        "/s/assets/dropcore.js": ((WEB / "dropcore.js").read_bytes(), "text/javascript"),
        "/t/vectors.mjs": ((HERE / "vectors.mjs").read_bytes(), "text/javascript"),
        "/t/": (b"<!doctype html><title>vectors</title>", "text/html"),
    }

    def handle(route: Any) -> None:
        path = route.request.url[len(FAKE) :]
        body, kind = served.get(path, (b"", "text/plain"))
        route.fulfill(status=200 if path in served else 404, body=body, content_type=kind)

    page.route(f"{FAKE}/**", handle)
    page.goto(f"{FAKE}/t/")
    files = vector_files()
    out = page.evaluate(RUN_VECTORS, files)
    page.close()
    failed = [r for r in out["results"] if not r["ok"]]
    assert not failed, failed[:5]
    by_group = out["counts"]["byGroup"]
    print("Chromium vector counts:", json.dumps(by_group))
    own = sum(1 for k in files if k.startswith("v1/"))
    assert sum(by_group[t]["passed"] for t in (*PAGE_TYPES, *DROP_TYPES)) == own
    drops = [v for k, v in files.items() if k.startswith("v1/drop/")]
    owner_only = sorted(v["case"] for v in drops if v["expect"] != "valid")
    assert sorted(out["counts"]["ownerOnly"]) == owner_only  # the rest: sealed byte-exact
    assert by_group["drop"]["passed"] == len(drops) and len(drops) - len(owner_only) >= 3
    assert by_group["drop-link"]["passed"] == 13
    assert by_group["c2sp"]["passed"] == 35
    assert out["counts"]["c2sp"] == {"header": 33, "raw": 25}
    assert by_group["rfc5869"]["passed"] == 3
    assert by_group["wycheproof-hkdf"]["passed"] == 86
    assert sorted(out["counts"]["signatureOnly"]) == ["flipped-signature", "writer-not-authorized"]


def serve_page(
    page: Any, api: dict[str, tuple[int, dict[str, Any]]], assets: dict[str, bytes]
) -> None:
    """Answer the fake origin as routes_page would, with a scripted link API."""
    html = routes_page._HTML
    headers = {"Content-Security-Policy": routes_page.CSP, "Referrer-Policy": "no-referrer"}

    def handle(route: Any) -> None:
        path = route.request.url[len(FAKE) :]
        if path.startswith("/s/assets/"):
            name = path.rsplit("/", 1)[1]
            kind = "text/css" if name.endswith(".css") else "text/javascript"
            route.fulfill(status=200, body=assets[name], content_type=kind)
        elif path.startswith("/sw/"):
            body = routes_sw.MODULES[path.rsplit("/", 1)[1]]
            route.fulfill(status=200, body=body, content_type="text/javascript")
        elif path.startswith("/s/"):
            route.fulfill(status=200, body=html, content_type="text/html", headers=headers)
        elif path in api:
            status, body = api[path]
            route.fulfill(status=status, body=json.dumps(body), content_type="application/json")
        else:
            route.fulfill(status=404, body="{}", content_type="application/json")

    page.route(f"{FAKE}/**", handle)


def status_of(page: Any) -> tuple[str, str]:
    code = page.get_attribute("#status", "data-code") or ""
    return code, page.text_content("#status") or ""


def test_page_boots_under_its_csp_and_drops_the_fragment(chromium: Any) -> None:
    page = chromium.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    gone = {"error": {"code": "link_expired", "message": "expired"}}
    serve_page(page, {f"/v1/l/{SAMPLE_ID}": (410, gone)}, routes_page.ASSETS)
    page.goto(f"{FAKE}/s/{SAMPLE_ID}#{SAMPLE_FRAGMENT}")
    page.wait_for_function("() => document.getElementById('status').dataset.state === 'error'")
    assert status_of(page) == ("expired", "This link has expired.")
    assert "#" not in page.url  # history.replaceState dropped the fragment
    assert page.evaluate("location.hash") == ""
    assert not violations, violations
    page.close()


def refused(chromium: Any, name: str) -> None:
    page = chromium.new_page()
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/v1/" in r.url else None)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    assets = dict(routes_page.ASSETS)
    assets[name] = (
        assets[name]
        .replace(b"const subtle", b"const subtle /*x*/")
        .replace(b"const FRAGMENT", b"const FRAGMENT /*x*/")
    )
    assert assets[name] != routes_page.ASSETS[name]
    serve_page(page, {}, assets)
    page.goto(f"{FAKE}/s/{SAMPLE_ID}#{SAMPLE_FRAGMENT}")
    page.wait_for_timeout(1500)
    assert page.get_attribute("#status", "data-state") == "loading"  # nothing ran
    assert "did not load" in (page.text_content("#status") or "")
    assert api_calls == []  # the page never got as far as the API
    assert any("integrity" in e.lower() for e in errors), errors
    page.close()


def test_tampered_asset_is_refused_in_chromium(chromium: Any) -> None:
    refused(chromium, "linkcore.js")  # pinned by the import map
    refused(chromium, "dropcore.js")  # pinned by the import map (upload-only links)
    refused(chromium, "linkpage.js")  # pinned by its <script integrity>


# ---------------------------------------------------------------------------- Part B


@dataclass
class LinkServer:
    url: str
    log: Path
    home: Path
    files: Path
    secrets_used: list[str] = field(default_factory=list)

    def cli(self, *args: str, link_password: str | None = None) -> str:
        env = {"BLINDVAULT_PASSWORD": "pw-1", "BLINDVAULT_NEW_PASSWORD": "pw-1"}
        return run_cli(self.home, *args, env={**env, "BLINDVAULT_LINK_PASSWORD": link_password})

    def link(self, remote: str, *options: str, link_password: str | None = None) -> str:
        out = json.loads(self.cli("link", remote, "--json", *options, link_password=link_password))
        url = str(out["url"])
        assert url.startswith(f"{self.url}/s/{out['id']}#v1.")
        self.secrets_used.append(url.split("#", 1)[1])
        return url


def make_files(root: Path) -> None:
    root.mkdir()
    (root / "big.bin").write_bytes(secrets.token_bytes(50 * 1024 * 1024))
    for name in ("note.txt", "once.txt", "gone.txt", "late.txt", "gate.txt"):
        (root / name).write_text(f"the {name} file\n" * 300, encoding="utf-8")
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "a.txt").write_text("hello from a\n", encoding="utf-8")
    (photos / "b.bin").write_bytes(secrets.token_bytes(70_000))
    (photos / "sub" / "deep.bin").write_bytes(secrets.token_bytes(40_001))


@pytest.fixture(scope="module")
def link_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkServer]:
    base = tmp_path_factory.mktemp("linkpage")
    with web_server(base, "--log-level", "info") as web:
        if httpx.get(web.url + "/s/assets/linkcore.js").status_code != 200:
            pytest.fail("the server does not serve the link page (routes_page not registered)")
        home = base / "home"
        home.mkdir()
        srv = LinkServer(web.url, web.log, home, base / "files")
        make_files(srv.files)
        srv.cli("signup", "--accept-weak-password", "--server", web.url, "--email", f"u{secrets.token_hex(4)}@example.org",
                "--recovery-file", str(base / "words.txt"))  # fmt: skip
        for name in ("big.bin", "note.txt", "once.txt", "gone.txt", "late.txt", "gate.txt"):
            srv.cli("put", str(srv.files / name), "/")
        srv.cli("put", str(srv.files / "photos"), "/")
        yield srv


@dataclass
class Browse:
    """One browser context whose every request is kept, to search for secrets."""

    page: Any
    requests: list[Any] = field(default_factory=list)
    downloads: list[Any] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def open(self, url: str) -> tuple[str, str]:
        self.page.goto(url)
        return self.settle()

    def settle(self) -> tuple[str, str]:
        # Predicates are functions, not strings: the page's CSP forbids eval.
        self.page.wait_for_function(
            "() => ['ready', 'error', 'done', 'info']"
            ".includes(document.getElementById('status').dataset.state)",
            timeout=60_000,
        )
        return status_of(self.page)

    def wait_code(self, code: str, timeout: float = 120_000) -> str:
        self.page.wait_for_function(
            # The page names the step it is on while still loading it ("Opening sub…"
            # has the code "folder" too): wait for the step to finish.
            "(code) => { const s = document.getElementById('status');"
            " return s.dataset.code === code && s.dataset.state !== 'loading'; }",
            arg=code,
            timeout=timeout,
        )
        return status_of(self.page)[1]


@pytest.fixture
def browse(chromium: Any, link_server: LinkServer) -> Iterator[Browse]:
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    b = Browse(page)
    # Playwright cannot take a bound builtin (list.append) as a handler: lambdas.
    page.on("request", lambda r: b.requests.append(r))  # noqa: PLW0108
    page.on("download", lambda d: b.downloads.append(d))  # noqa: PLW0108
    page.on("console", lambda m: b.console.append(f"{m.type}: {m.text}"))
    yield b
    # P-LINKKEY: no request the browser made carries a link secret, in its URL, its
    # headers (Referer included) or its body; and the server's log never saw one.
    secret_forms = []
    for fragment in link_server.secrets_used:
        b64 = fragment.removeprefix("v1.").removesuffix(".p")
        secret_forms += [b64, _b64url_to_hex(b64)]
    assert b.requests  # the page was loaded, so there is something to search
    for r in b.requests:
        headers = r.all_headers()
        sent = [r.url, json.dumps(headers), r.post_data or ""]
        for form in secret_forms:
            assert not any(form in s for s in sent), r.url
        if "/v1/l/" in r.url:
            assert "referer" not in headers
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", headers["x-link-token"])
    log_to = os.environ.get("BLINDVAULT_REQUEST_LOG")
    if log_to:  # for the record: what the browser asked for (method, URL, headers sent)
        with open(log_to, "a", encoding="utf-8") as f:
            for r in b.requests:
                f.write(f"{r.method} {r.url} {sorted(r.all_headers())}\n")
    # wait for the access log to show the page's own requests (not a fixed sleep)
    own = [
        f"{r.method} {urlsplit(r.url).path}"
        for r in b.requests
        if r.url.startswith(link_server.url) and "/sw-dl/" not in r.url  # the worker answers
    ]
    assert own
    deadline = time.monotonic() + 60
    logged = ""
    while time.monotonic() < deadline:
        logged = link_server.log.read_text(encoding="utf-8", errors="replace")
        if all(line in logged for line in own):
            break
        time.sleep(0.05)
    assert [line for line in own if line not in logged] == []
    assert "GET /s/" in logged  # the access log is on, so this check means something
    for form in secret_forms:
        assert form not in logged
    context.close()


def _b64url_to_hex(text: str) -> str:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).hex()


def download_bytes(b: Browse, click: str) -> tuple[str, bytes]:
    with b.page.expect_download(timeout=180_000) as info:
        b.page.click(click)
    d = info.value
    path = d.path()
    return d.suggested_filename, Path(path).read_bytes()


def test_file_link_downloads_50_mib(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/big.bin")
    assert browse.open(url) == ("file", "A file was shared with you.")
    assert browse.page.url == url.split("#", 1)[0]  # fragment gone from the address bar
    assert browse.page.text_content("#file-name") == "big.bin"
    assert "50.0 MiB" in (browse.page.text_content("#file-meta") or "")
    name, data = download_bytes(browse, "#file-download")
    assert name == "big.bin"
    assert data == (link_server.files / "big.bin").read_bytes()
    assert "Downloaded big.bin" in browse.wait_code("downloaded")
    # above 16 MiB the service worker streamed it to disk: no copy is kept in the page
    assert not browse.page.is_visible("#save-link")
    assert browse.page.evaluate("document.getElementById('progress').value") == 1
    if os.environ.get("BLINDVAULT_SCREENSHOT") == "1":
        browse.page.set_viewport_size({"width": 900, "height": 560})
        browse.page.screenshot(path=str(ROOT / "docs" / "link-page.png"), full_page=True)


def test_folder_link_lists_navigates_and_downloads(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/photos")
    assert browse.open(url) == ("folder", "photos: 3 items")
    rows = browse.page.eval_on_selector_all(
        "#listing tbody tr",
        "rows => rows.map(r => [r.dataset.kind, r.dataset.name, r.cells[1].textContent])",
    )
    assert rows == [
        ["folder", "sub", ""],
        ["file", "a.txt", "13 bytes"],
        ["file", "b.bin", "68.4 KiB"],
    ]
    name, data = download_bytes(browse, "tr[data-name='a.txt'] button.download")
    assert (name, data) == ("a.txt", b"hello from a\n")
    browse.page.click("tr[data-name='sub'] button.open-folder")
    assert "sub: 1 item" in browse.wait_code("folder")
    browse.page.wait_for_selector("tr[data-name='deep.bin']")
    assert browse.page.text_content("#breadcrumb") == "photos/sub"
    name, data = download_bytes(browse, "tr[data-name='deep.bin'] button.download")
    assert name == "deep.bin"
    assert data == (link_server.files / "photos" / "sub" / "deep.bin").read_bytes()
    browse.page.click("#breadcrumb button.crumb")  # back to the top
    browse.page.wait_for_selector("tr[data-name='b.bin']")
    assert browse.page.text_content("#breadcrumb") == "photos"


def test_folder_link_is_a_snapshot(browse: Browse, link_server: LinkServer) -> None:
    """Issue 11, item 4 (P-LINKSNAP) in Chromium: a file written into the folder after the
    link was made is not in what the page lists."""
    link_server.cli("mkdir", "/snapshot")
    link_server.cli("put", str(link_server.files / "note.txt"), "/snapshot")
    url = link_server.link("/snapshot")
    link_server.cli("put", str(link_server.files / "late.txt"), "/snapshot")
    assert browse.open(url) == ("folder", "snapshot: 1 item")
    rows = browse.page.eval_on_selector_all(
        "#listing tbody tr", "rows => rows.map(r => r.dataset.name)"
    )
    assert rows == ["note.txt"]


def test_password_link_wrong_then_right(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/note.txt", "--password", link_password="correct horse")
    assert url.endswith(".p")
    code, _ = browse.open(url)
    assert code == "password"
    browse.page.fill("#password", "wrong horse")
    browse.page.click("#password-submit")
    assert browse.wait_code("wrong-password") == "Wrong password. Try again."
    assert browse.page.text_content("#password-error") == "Wrong password"
    assert browse.page.is_visible("#password-form")
    browse.page.fill("#password", "correct horse")
    browse.page.click("#password-submit")
    browse.wait_code("file")
    name, data = download_bytes(browse, "#file-download")
    assert (name, data) == ("note.txt", (link_server.files / "note.txt").read_bytes())


def test_expired_link(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/late.txt", "--expires", "1s")
    time.sleep(1.5)
    assert browse.open(url) == ("expired", "This link has expired.")


def test_download_limit(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/once.txt", "--max-downloads", "1")
    browse.open(url)
    _, data = download_bytes(browse, "#file-download")
    assert data == (link_server.files / "once.txt").read_bytes()
    browse.page.click("#file-download")  # a second download from the same page
    assert browse.wait_code("exhausted") == "This link has reached its download limit."
    assert browse.open(url) == ("exhausted", "This link has reached its download limit.")


def test_revoked_link(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/gate.txt")
    link_id = url.split("/s/", 1)[1].split("#", 1)[0]
    link_server.cli("link", "revoke", link_id)
    assert browse.open(url) == ("revoked", "This link was revoked by its owner.")


def test_deleted_file(browse: Browse, link_server: LinkServer) -> None:
    """Issue 14: a link is a snapshot: deleting the file (even `rm --permanent`) does not
    break it while the link is live (the server refuses to delete its blob, 409
    `blob_in_link`); revoking the link ends it."""
    url = link_server.link("/gone.txt")
    link_server.cli("rm", "--permanent", "/gone.txt")
    assert browse.open(url)[0] == "file"
    _, data = download_bytes(browse, "#file-download")
    assert data == (link_server.files / "gone.txt").read_bytes()


def test_malformed_and_unknown_links(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/note.txt")
    base, fragment = url.split("#", 1)
    malformed = "This link is incomplete or damaged."
    for bad in (
        base,
        f"{base}#{fragment[:-3]}",
        f"{base}#v2.{fragment[3:]}",
        f"{base}#{fragment}x",
    ):
        code, text = browse.open(bad)
        assert code == "malformed", bad
        assert text.startswith(malformed)
    other = f"{link_server.url}/s/AAAAAAAAAAAAAAAAAAAAAA#{fragment}"
    assert browse.open(other)[0] == "unknown"
    r = httpx.get(f"{link_server.url}/s/not-a-link-id")
    assert r.status_code == 404
    assert "No such link" in r.text


def test_tampered_blob_is_discarded(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/photos/b.bin")

    def flip(route: Any) -> None:
        body = bytearray(route.fetch().body())
        body[30_000] ^= 1
        route.fulfill(status=200, body=bytes(body), content_type="application/octet-stream")

    browse.page.route("**/v1/l/*/blob/*", flip)
    browse.open(url)
    browse.page.click("#file-download")
    assert browse.wait_code("tampered").startswith("The data failed its integrity check")
    assert browse.downloads == []
    assert not browse.page.is_visible("#save-link")


def test_unreachable_server_then_retry(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/note.txt")
    browse.page.route("**/v1/l/**", lambda route: route.abort("connectionrefused"))
    code, text = browse.open(url)
    assert code == "unreachable"
    assert text.startswith("The server could not be reached.")
    browse.page.unroute("**/v1/l/**")
    browse.page.click("#retry")
    browse.wait_code("file")
    assert browse.page.text_content("#file-name") == "note.txt"


def test_tampered_asset_from_the_server_is_refused(browse: Browse, link_server: LinkServer) -> None:
    url = link_server.link("/note.txt")

    def tamper(route: Any) -> None:
        body = route.fetch().body().replace(b"const subtle", b"const subtle /*evil*/")
        route.fulfill(status=200, body=body, content_type="text/javascript")

    browse.page.route("**/s/assets/linkcore.js", tamper)
    browse.page.goto(url)
    browse.page.wait_for_timeout(1500)
    assert browse.page.get_attribute("#status", "data-state") == "loading"
    assert "did not load" in (browse.page.text_content("#status") or "")
    assert not browse.page.is_visible("#file-view")
    assert not [r for r in browse.requests if "/v1/" in r.url]
    assert any("integrity" in line.lower() for line in browse.console), browse.console
    # The page as served is pinned: the HTML names the hashes of the real assets.
    served = httpx.get(url.split("#", 1)[0])
    assert re.search(r'"/s/assets/linkcore.js": "sha384-[A-Za-z0-9+/]{64}"', served.text)
    assert served.headers["content-security-policy"] == routes_page.CSP
    assert served.headers["referrer-policy"] == "no-referrer"
    assert served.headers["cross-origin-opener-policy"] == "same-origin"
