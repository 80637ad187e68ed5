"""`blindvault bench browser`: the browser's read + encrypt + upload and download + decrypt,
in headless Chromium on this machine, beside the CLI on the same server and the seed's
Firefox 70 figures (seed 000, CALIPIO: "a 1 GB file upload will take ~10 s to be read
and ~9 s to be encrypted, so almost 20 s in total"; encryption < 20 ms up to 1 MB and
> 100 ms at 10 MB).

One real server (SQLite + local disk) and one account. For each size (1 MB, 10 MB,
100 MB, 1 GB; quick: 1 MB and 10 MB) of random data:
- CLI: `blindvault put FILE /` and `blindvault get /FILE DIR` (wall time, peak RSS);
- browser, upload: the file is picked in an <input type=file> and the vault app's own
  upload code sends it (app/transfer.js `sendFile`: the seal worker app/seal-worker.js
  reads, pads and encrypts it, C2SP chunked with WebCrypto AES-GCM, and the page sends
  the parts through the resumable-upload API the CLI uses); no manifest write: read +
  encrypt + upload of the blob only;
- browser, download: the same blob streams back through the service worker
  (/sw.js: fetch, decrypt, verify chunk by chunk) into a real browser download, timed
  until the worker reports the last verified byte; the saved file is compared with the
  original (SHA-256).
The JS heaps of the tab, its seal Worker and the service worker are sampled over CDP
(bench/cdp.py) every 250 ms; the peak of their sum is "tab memory".
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

from blindvault.bench import util
from blindvault.bench.cdp import HeapProbe

__all__ = ["SEED_FIREFOX_70", "run_browser", "targets"]

SIZES = (1_000_000, 10_000_000, 100_000_000, 1_000_000_000)
QUICK_SIZES = (1_000_000, 10_000_000)
CHROMIUM = "/usr/bin/chromium"
# seed 000 (CALIPIO, Firefox 70.0 on an i7-8550U): read, encrypt and their sum, seconds;
# None where the seed gives only a plot.
SEED_FIREFOX_70: dict[int, dict[str, float | None]] = {
    1_000_000: {"read_s": None, "encrypt_s": 0.02, "total_s": None},
    10_000_000: {"read_s": None, "encrypt_s": 0.1, "total_s": None},
    100_000_000: {"read_s": None, "encrypt_s": None, "total_s": None},
    1_000_000_000: {"read_s": 10.0, "encrypt_s": 9.0, "total_s": 19.0},
}
_PAGE = b"""<!doctype html><meta charset="utf-8"><title>bench</title>
<input type="file" id="file">"""
_START_UPLOAD = """async ([token]) => {
  const { sendFile } = await import("/app/transfer.js");
  const { Api } = await import("/app/api.js");
  const { blobId } = await import("/s/assets/linkcore.js");
  const rnd = (n) => crypto.getRandomValues(new Uint8Array(n));
  const file = document.getElementById("file").files[0];
  const job = { key: rnd(32), nodeId: rnd(16), version: 1, size: file.size };
  window.__job = { done: false, job, blobId: await blobId(job.nodeId, job.version) };
  const api = new Api();
  api.token = token;
  const sealer = async () => new Worker("/app/seal-worker.js");
  const t0 = performance.now();
  sendFile(api, file, { ...job, sealer }).then(
    (times) => {
      window.__job.result = { ok: true, ...times, wall_s: (performance.now() - t0) / 1000 };
      window.__job.done = true;
    },
    (e) => {
      window.__job.result = { ok: false, error: String(e) };
      window.__job.done = true;
    },
  );
}"""
_START_DOWNLOAD = """async ([token, name]) => {
  const { connect } = await import("/sw/client.js");
  const sw = await connect();
  if (!sw) throw new Error("no service worker");
  const { job, blobId } = window.__job;
  window.__dl = { done: false };
  const source = { url: `/v1/blobs/${blobId}`, headers: { Authorization: `Bearer ${token}` } };
  const t0 = performance.now();
  sw.download({ source, file: job, name }).then(
    () => { window.__dl = { done: true, ok: true, wall_s: (performance.now() - t0) / 1000 }; },
    (e) => { window.__dl = { done: true, ok: false, error: String(e.code ?? e) }; },
  );
}"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while piece := f.read(8 << 20):
            digest.update(piece)
    return digest.hexdigest()


def _wait(page: Any, probe: HeapProbe, flag: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe.sample()
        state: dict[str, Any] = page.evaluate(f"() => window.{flag}")
        if state and state.get("done"):
            return state
        page.wait_for_timeout(250)
    raise RuntimeError(f"bench browser: {flag} did not finish in {timeout:.0f} s")


def _serve_bench(context: Any, url: str) -> None:
    def handle(route: Any) -> None:
        route.fulfill(status=200, body=_PAGE, content_type="text/html")

    context.route(f"{url}/bench/**", handle)


def _browser_runs(
    url: str, token: str, files: dict[int, Path], browser: Any | None
) -> dict[int, dict[str, Any]]:
    if browser is not None:
        return _runs_in(browser, url, token, files)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            return _runs_in(launched, url, token, files)
        finally:
            launched.close()


def _runs_in(
    browser: Any, url: str, token: str, files: dict[int, Path]
) -> dict[int, dict[str, Any]]:
    context = browser.new_context(accept_downloads=True)
    try:
        _serve_bench(context, url)
        page = context.new_page()
        page.goto(f"{url}/bench/")
        # Playwright's routing intercepts every request of the context through the DevTools
        # protocol while any route is set: 8 MiB parts then crawl through the driver at
        # 4-6 MB/s (60 MB/s without it, measured). The page is loaded: no route from here on.
        context.unroute_all()
        probe = HeapProbe(browser, context, page)
        return {size: _one(page, probe, token, path, size) for size, path in files.items()}
    finally:
        context.close()


def _one(page: Any, probe: HeapProbe, token: str, path: Path, size: int) -> dict[str, Any]:
    timeout = 120 + size / 1e6  # this machine: ~2-5 MB/s up from Chromium
    page.set_input_files("#file", str(path))
    probe.reset()
    page.evaluate(_START_UPLOAD, [token])
    up = _wait(page, probe, "__job", timeout)["result"]
    if not up.get("ok"):
        raise RuntimeError(f"bench browser: upload failed: {up.get('error')}")
    up_mem = probe.peaks.to_json()
    probe.reset()
    with page.expect_download(timeout=timeout * 1000) as info:
        page.evaluate(_START_DOWNLOAD, [token, path.name])
    down = _wait(page, probe, "__dl", timeout)
    if not down.get("ok"):
        raise RuntimeError(f"bench browser: download failed: {down.get('error')}")
    saved = Path(info.value.path())
    exact = saved.stat().st_size == size and _sha256(saved) == _sha256(path)
    info.value.delete()
    return {
        "upload_s": round(up["wall_s"], 3),
        "read_s": round(up["readMs"] / 1000, 3),
        "encrypt_s": round(up["encryptMs"] / 1000, 3),
        "download_s": round(down["wall_s"], 3),
        "byte_exact": exact,
        "memory_upload": up_mem,
        "memory_download": probe.peaks.to_json(),
    }


def _cli_runs(home: Path, files: dict[int, Path], work: Path) -> dict[int, dict[str, float]]:
    env = util.cli_env(home)
    out: dict[int, dict[str, float]] = {}
    for size, path in files.items():
        put = util.run_measured(util.cli("put", str(path), "/"), env=env)
        dest = work / f"get-{size}"
        dest.mkdir()
        get = util.run_measured(util.cli("get", f"/{path.name}", str(dest)), env=env)
        shutil.rmtree(dest)
        out[size] = {
            "put_s": round(put.seconds, 3),
            "get_s": round(get.seconds, 3),
            "put_rss_mib": round(put.peak_rss_mib, 1),
            "get_rss_mib": round(get.peak_rss_mib, 1),
        }
    return out


def run_browser(work: Path, *, quick: bool = False, browser: Any | None = None) -> dict[str, Any]:
    """Measure; `browser`: an already launched Playwright Chromium (else one is launched)."""
    sizes = QUICK_SIZES if quick else SIZES
    with util.server(work / "srv") as srv:
        home = work / "home"
        home.mkdir()
        token = util.signup(srv.url, home, f"browser{secrets.token_hex(4)}@example.org")
        files = {n: util.write_random(work / f"file-{n}.bin", n) for n in sizes}
        cli = _cli_runs(home, files, work)
        measured = _browser_runs(srv.url, token, files, browser)
    rows = []
    for n in sizes:
        b, c, seed = measured[n], cli[n], SEED_FIREFOX_70[n]
        seed_total = seed["total_s"]
        rows.append(
            {
                "size": n,
                **{f"browser_{k}": v for k, v in b.items()},
                **{f"cli_{k}": v for k, v in c.items()},
                "upload_vs_cli": round(b["upload_s"] / c["put_s"], 2),
                "download_vs_cli": round(b["download_s"] / c["get_s"], 2),
                "seed_firefox70": seed,
                "upload_vs_seed": round(b["upload_s"] / seed_total, 2) if seed_total else None,
            }
        )
    return {"server": "SQLite + local disk", "chromium": CHROMIUM, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    """The side-by-side table of `run_browser`'s result."""
    lines = [
        "| size | browser read | browser encrypt | browser upload (read+encrypt+send) "
        "| CLI put | ratio | browser download+decrypt | CLI get | ratio | seed FF70 "
        "read+encrypt | tab heap peak up / down | byte-exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        seed = r["seed_firefox70"]
        seed_text = f"{seed['total_s']} s" if seed["total_s"] else (
            f"encrypt ~{seed['encrypt_s']} s" if seed["encrypt_s"] else "—"
        )  # fmt: skip
        lines.append(
            f"| {r['size'] / 1e6:g} MB | {r['browser_read_s']} s | {r['browser_encrypt_s']} s "
            f"| {r['browser_upload_s']} s | {r['cli_put_s']} s | {r['upload_vs_cli']}x "
            f"| {r['browser_download_s']} s | {r['cli_get_s']} s | {r['download_vs_cli']}x "
            f"| {seed_text} | {r['browser_memory_upload']['total_mib']} / "
            f"{r['browser_memory_download']['total_mib']} MiB | {r['browser_byte_exact']} |"
        )
    return "\n".join(lines) + "\n"


UPLOAD_GOAL_S = 10.0  # issue 15: a 1 GB upload in the browser, end to end
HEAP_GOAL_MIB = 150.0  # issue 15: the tab's JS heaps, whatever the size


def targets(result: dict[str, Any]) -> list[tuple[str, str, str, float]]:
    """(name, goal, measured, score) of the browser targets: the 1 GB upload (only when
    the run had a file of at least 1 GB) and the tab's peak heap over every size."""
    rows = result["rows"]
    out: list[tuple[str, str, str, float]] = []
    big = [r for r in rows if r["size"] >= 10**9]
    if big:
        r = big[-1]
        out.append(
            (
                f"browser upload of {r['size'] / 1e9:g} GB (read + encrypt + send, "
                "headless Chromium)",
                f"≤ {UPLOAD_GOAL_S:.0f} s",
                f"{r['browser_upload_s']} s (CLI put {r['cli_put_s']} s; seed FF70 read + "
                f"encrypt alone ~19 s)",
                UPLOAD_GOAL_S / max(r["browser_upload_s"], 1e-9),
            )
        )
    heaps = [
        r[k]["total_mib"]
        for r in rows
        for k in ("browser_memory_upload", "browser_memory_download")
    ]
    if heaps:
        peak = max(heaps)
        out.append(
            (
                "browser tab JS heaps (page + workers), peak over every size",
                f"≤ {HEAP_GOAL_MIB:.0f} MiB",
                f"{peak:.1f} MiB",
                HEAP_GOAL_MIB / max(peak, 1e-9),
            )
        )
    return out
