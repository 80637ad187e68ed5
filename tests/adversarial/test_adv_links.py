"""Share links under a lying server: the holder keeps no state, so what it can check is the
folder key's AEAD and that the record the server labels is the sealed one (P-AEAD, P-BIND).
Run through the proxy with the real `open-link` command."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from blindvault.client.links import create_link
from helpers.adversarial import Runner, make_account
from helpers.proxy import Exchange, Proxy

LINK_MANIFEST = re.compile(r"^/v1/l/[^/]+/manifest/[0-9a-f]{32}$")


def _files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


@pytest.mark.parametrize("delta", [-1, 1])
def test_p_bind_link_manifest_under_another_record_version(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    delta: int,
) -> None:
    """The server relabels the version of a linked folder's manifest (the same sealed
    bytes): the holder refuses (exit 10) and writes no file."""
    acc = make_account(
        proxy,
        tmp_path / "h",
        f"link{os.urandom(3).hex()}@example.org",
        {"/docs/a.txt": b"alpha", "/docs/sub/b.txt": b"beta"},
        [],
    )
    with acc.vault(proxy.url) as vault:
        url = create_link(vault, "/docs")

    def relabel(ex: Exchange) -> None:
        if ex.method == "GET" and LINK_MANIFEST.match(ex.path) and ex.status == 200:
            doc = ex.json()
            ex.set_json({**doc, "version": doc["version"] + delta})
            ex.mutated = True

    stranger = Runner(tmp_path / "stranger-home", monkeypatch, capsys)
    out = tmp_path / "out"
    out.mkdir()
    proxy.reset()
    proxy.add(relabel)
    code, _, err = stranger("open-link", url, str(out))
    assert code == 10, err
    assert "Traceback" not in err
    assert _files(out) == []
    assert [s for s in proxy.log if s.mutated]  # the lie was told
    assert [r for r in proxy.after_lie() if r[0] not in ("GET", "HEAD")] == []
    proxy.reset()
    assert stranger("open-link", url, str(out))[0] == 0
    assert _files(out) == ["docs/a.txt", "docs/sub/b.txt"]
