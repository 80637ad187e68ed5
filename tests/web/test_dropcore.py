"""The browser's drop sealing (web/dropcore.js, in Node 20's WebCrypto) against the Python
owner side (core/drops.py, pyca/cryptography's HPKE): what the page seals, the owner opens,
byte for byte; a tampered one, or one sealed with another secret, is refused."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from blindvault.core import primitives
from blindvault.core.drops import DropTarget, OwnerDropKeys, open_drop, seal_drop_link
from blindvault.core.keys import VaultKey
from blindvault.errors import IntegrityError

WEB = Path(__file__).resolve().parents[2] / "src" / "blindvault" / "web"

SCRIPT = """
import { readFileSync } from "node:fs";
const core = await import(process.argv[1] + "/linkcore.js");
const drop = await import(process.argv[1] + "/dropcore.js");
const job = JSON.parse(readFileSync(0, "utf8"));
const b = (s) => Uint8Array.from(Buffer.from(s, "base64"));
const linkId = b(job.linkId), secret = b(job.secret);
const key = await core.linkKey(secret, linkId, null);
const target = await drop.openDropLink(b(job.descriptor), key, linkId);
const out = [];
for (const f of job.files) {
  const sealed = await drop.sealDrop(target, secret, linkId, f.name, b(f.data), f.mtime);
  out.push(Buffer.from(sealed).toString("base64"));
}
let refused = "";
try { await drop.openDropLink(b(job.descriptor), new Uint8Array(32), linkId); }
catch (e) { refused = e.name; }
console.log(JSON.stringify({ target: { name: target.name, maxSize: target.maxSize,
  recipient: Buffer.from(target.recipient).toString("base64") }, drops: out, refused }));
"""


def _run(job: dict[str, object]) -> dict[str, object]:
    node = shutil.which("node")
    assert node is not None, "node (20+) is required for the link-page tests"
    r = subprocess.run(
        [node, "--input-type=module", "-e", SCRIPT, "file://" + WEB.as_posix()],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(json.loads(r.stdout))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize("size", [0, 5, 4096, 16384, 16385, 100_000])
def test_what_the_page_seals_the_owner_opens(size: int) -> None:
    vault, link_id = VaultKey(primitives.random_bytes(32)), primitives.random_bytes(16)
    keys = OwnerDropKeys(vault, link_id)
    target = DropTarget(keys.recipient_public, 1 << 20, "inbox")
    data = os.urandom(size)
    job = {
        "linkId": _b64(link_id),
        "secret": _b64(keys.secret),
        "descriptor": _b64(seal_drop_link(target, keys.link_key, link_id)),
        "files": [{"name": "résumé.pdf", "data": _b64(data), "mtime": 1_700_000_000_123}],
    }
    out = _run(job)
    assert out["refused"] == "IntegrityError"  # a wrong link key opens no descriptor
    shown = out["target"]
    assert isinstance(shown, dict) and shown["name"] == "inbox"
    assert base64.b64decode(str(shown["recipient"])) == keys.recipient_public
    drops = out["drops"]
    assert isinstance(drops, list)
    sealed = base64.b64decode(drops[0])
    header, body = open_drop(sealed, keys)
    assert (header.name, header.size, header.mtime_ms, body) == (
        "résumé.pdf", size, 1_700_000_000_123, data,
    )  # fmt: skip
    # any flipped byte: refused
    for at in (5, 40, 60, len(sealed) // 2, len(sealed) - 1):
        bad = bytearray(sealed)
        bad[at] ^= 1
        with pytest.raises(IntegrityError):
            open_drop(bytes(bad), keys)


def test_a_drop_sealed_with_another_secret_is_refused() -> None:
    vault, link_id = VaultKey(primitives.random_bytes(32)), primitives.random_bytes(16)
    keys = OwnerDropKeys(vault, link_id)
    target = DropTarget(keys.recipient_public, 1 << 20, "inbox")
    from blindvault.core.links import link_key

    other = primitives.random_bytes(32)  # a secret that is not the link's
    job = {
        "linkId": _b64(link_id),
        "secret": _b64(other),
        "descriptor": _b64(seal_drop_link(target, link_key(other, link_id, None), link_id)),
        "files": [{"name": "x.txt", "data": _b64(b"x"), "mtime": 1}],
    }
    drops = _run(job)["drops"]
    assert isinstance(drops, list)
    with pytest.raises(IntegrityError):
        open_drop(base64.b64decode(drops[0]), keys)
