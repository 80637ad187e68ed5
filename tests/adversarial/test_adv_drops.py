"""Upload-only links (issue 19) under a lying server, through the proxy with the real CLI,
and a holder's bad drops sent straight to the real server.

What the owner can know about a drop: that someone holding the link's secret sealed it for
this link (the tag needs the secret, which the server never sees), its name, size, mtime
and content as sealed. What the owner cannot know: who dropped it (any holder of the link
can; drops are anonymous by design), and whether the server enforced the link's expiry and
count limits (a server may accept drops after them; it cannot make any itself)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from blindvault.core.drops import DropTarget, OwnerDropKeys, seal_drop
from blindvault.core.links import b64url_encode, link_token, parse_link
from helpers.adversarial import Runner, make_account
from helpers.proxy import Exchange, Proxy

DROPS = "/v1/drops"


def _setup(
    proxy: Proxy, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str], **kw: Any
) -> tuple[Runner, Runner, list[str], Any]:
    """An owner with /inbox/old.txt and two upload-only links (/inbox, /other); a
    stranger with no account. Returns the owner, the stranger, the URLs and the vault key."""
    email = f"drop{os.urandom(3).hex()}@example.org"
    acc = make_account(proxy, tmp / "h", email, {"/inbox/old.txt": b"old"}, ["/other"])
    with acc.vault(proxy.url) as vault:
        urls = [vault.drops.create("/inbox", **kw), vault.drops.create("/other")]
        vault.save()
        vault_key = vault.opened.vault
    return Runner(acc.home, mp, cap), Runner(tmp / "stranger", mp, cap), urls, vault_key


def _drop(stranger: Runner, url: str, tmp: Path, name: str, data: bytes) -> None:
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    (src / name).write_bytes(data)
    code, _, err = stranger("drop", url, str(src / name))
    assert code == 0, err


def _ls(owner: Runner, path: str) -> list[str]:
    code, out, err = owner("ls", path, "--json")
    assert code == 0, err
    return sorted(e["name"] for e in json.loads(out))


def _forged(vault_key: Any, url: str) -> bytes:
    """A drop made by the server: it knows the recipient key (the worst case) but not the
    link's secret."""
    parsed = parse_link(url)
    keys = OwnerDropKeys(vault_key, parsed.link_id)
    target = DropTarget(keys.recipient_public, 1 << 20, "inbox")
    return seal_drop(target, os.urandom(32), parsed.link_id, "evil.txt", b"evil", mtime_ms=1)


def _other_links_drop(vault_key: Any, url: str) -> bytes:
    """A genuine drop of the owner's OTHER link (sealed with its secret), served as if it
    came through the first one: the server tries to move a drop into another folder."""
    parsed = parse_link(url)
    keys = OwnerDropKeys(vault_key, parsed.link_id)
    target = DropTarget(keys.recipient_public, 1 << 20, "other")
    return seal_drop(target, keys.secret, parsed.link_id, "moved.txt", b"moved", mtime_ms=1)


LIES = ["forged", "bit-flip", "truncated", "other-link", "empty"]


def _bit_flip(body: bytes) -> bytes:
    return body[:-40] + bytes([body[-40] ^ 1]) + body[-39:]


def _served_as(op: Any) -> Any:
    """A proxy hook: every drop the server serves goes through `op` first."""

    def swap(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path.startswith(DROPS + "/") and ex.status == 200:
            ex.body = op(ex.body)
            ex.mutated = True

    return swap


@pytest.mark.parametrize("lie", LIES)
def test_a_drop_not_made_through_the_link_is_quarantined(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lie: str,
) -> None:
    owner, stranger, urls, vault_key = _setup(proxy, tmp_path, monkeypatch, capsys)
    _drop(stranger, urls[0], tmp_path, "real.txt", b"what the dropper sent")
    replacement = {
        "forged": lambda body: _forged(vault_key, urls[0]),
        "bit-flip": _bit_flip,
        "truncated": lambda body: body[:-100],
        "other-link": lambda body: _other_links_drop(vault_key, urls[1]),
        "empty": lambda body: b"",
    }[lie]
    proxy.log.clear()
    proxy.add(_served_as(replacement))
    code, out, err = owner("drops", "--json")
    assert code == 10, err
    report = json.loads(out)
    assert report["imported"] == [] and len(report["quarantined"]) == 1
    assert Path(report["quarantined"][0]).is_file()
    # nothing imported anywhere, in part or whole
    proxy.reset()
    assert _ls(owner, "/inbox") == ["old.txt"]
    assert _ls(owner, "/other") == []


def test_quarantine_sends_the_same_whatever_the_lie(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """After a bad drop, what the client sends does not depend on which mutation it was:
    one DELETE of that drop and the lease given back, nothing computed from it."""
    owner, stranger, urls, vault_key = _setup(proxy, tmp_path, monkeypatch, capsys)
    sent: dict[str, list[tuple[str, str]]] = {}
    for lie, op in [("forged", lambda b: _forged(vault_key, urls[0])), ("bit-flip", _bit_flip)]:
        _drop(stranger, urls[0], tmp_path, "real.txt", b"what the dropper sent")
        proxy.reset()
        proxy.add(_served_as(op))
        assert owner("drops", "--json")[0] == 10
        sent[lie] = [(r[0], "/v1/drops/ID" if r[1].startswith(DROPS + "/") else r[1])
                     for r in proxy.after_lie()]  # fmt: skip
    lease = "/v1/locks/0000000000000000000064726f707321"  # the drop lease, given back
    assert sent["forged"] == sent["bit-flip"] == [("DELETE", "/v1/drops/ID"), ("DELETE", lease)]


def test_a_replayed_drop_is_imported_once(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    owner, stranger, urls, _ = _setup(proxy, tmp_path, monkeypatch, capsys)
    _drop(stranger, urls[0], tmp_path, "once.txt", b"only once")
    proxy.reset()
    code, out, err = owner("drops", "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == ["/inbox/once.txt"]
    served = [v for (m, p), v in proxy.history.items() if m == "GET" and p.startswith(DROPS + "/")]
    listing = proxy.history[("GET", DROPS)][-1]
    old = json.loads(listing)["drops"][0]
    replay_id = os.urandom(16).hex()

    def replay(ex: Exchange) -> None:
        if ex.method == "GET" and ex.path == DROPS:
            ex.set_json({"drops": [{**old, "id": replay_id}]})
            ex.mutated = True
        elif ex.path == f"{DROPS}/{replay_id}":
            ex.status, ex.headers = (200, {}) if ex.method == "GET" else (204, {})
            ex.body = served[-1][-1] if ex.method == "GET" else b""
            ex.mutated = True

    proxy.reset()
    proxy.add(replay)
    code, out, err = owner("drops", "--json")
    assert code == 0, err
    assert json.loads(out) == {"imported": [], "quarantined": [], "replayed": 1, "busy": False}
    proxy.reset()
    assert _ls(owner, "/inbox") == ["old.txt", "once.txt"]


def test_bad_drops_are_refused_and_leave_nothing(
    proxy: Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Straight to the server with the link's token: oversized, malformed, too short, for
    another link, replayed → 4xx; nothing pending afterwards; the link's count unchanged."""
    owner, stranger, urls, vault_key = _setup(proxy, tmp_path, monkeypatch, capsys, max_size=1000)
    parsed = parse_link(urls[0])
    lid = b64url_encode(parsed.link_id)
    token = {"X-Link-Token": b64url_encode(link_token(parsed.secret, parsed.link_id))}
    other = parse_link(urls[1]).link_id
    preamble = b"BVDP\x01" + parsed.link_id + os.urandom(16)
    good = seal_drop(
        DropTarget(OwnerDropKeys(vault_key, parsed.link_id).recipient_public, 1000, "inbox"),
        parsed.secret, parsed.link_id, "ok.txt", b"fine", mtime_ms=1,
    )  # fmt: skip
    with httpx.Client(base_url=proxy.url, headers=token) as h:
        where = f"/v1/l/{lid}/drops"
        assert h.post(where, content=preamble + os.urandom(200_000)).status_code == 413
        assert h.post(where, content=os.urandom(300)).status_code == 400
        assert h.post(where, content=preamble).status_code == 400
        assert h.post(where, content=b"BVDP\x01" + other + os.urandom(300)).status_code == 400
        assert h.post(where, content=good).status_code == 201
        r = h.post(where, content=good)
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    # the client refuses a file over the limit before sending anything
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(5000))
    code, _, err = stranger("drop", urls[0], str(src))
    assert code == 2 and "larger than this link accepts" in err
    code, out, err = owner("drops", "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == ["/inbox/ok.txt"]
    code, out, _ = owner("links", "--json")
    assert {i["id"]: i["uploads"] for i in json.loads(out)}[lid] == 1
