"""Client-side holes of issue 11 under a lying server: re-sealing to strangers (P-RESEAL),
pinning what was shown (P-SHOWN), hidden folders (P-EXISTS), the KDF floor of a device
without a pin (P-KDFFLOOR), key-change proofs (P-KEYPROOF), resume (P-NONCE), share names,
and the smaller leaks."""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from blindvault.client.state import StateStore
from blindvault.client.vault import Vault
from blindvault.core.identity import Identity
from helpers.adversarial import PASSWORD, Account, Runner, make_account, runner_for
from helpers.proxy import Proxy, capture, missing, nth_answer, on_json

B64 = base64.b64encode


def _fake_bundle(email: str) -> str:
    """A validly self-signed bundle for `email` whose private key the server holds."""
    return B64(Identity.generate(email, 1).bundle.encode()).decode()


def _server_id(vault: Vault, email: str) -> str:
    return str(vault.api.get_json(f"/v1/identities/{email}")["account_id"])


def _team(proxy: Proxy, tmp: Path, tag: str) -> tuple[Account, dict[str, Account], str]:
    """An owner with /team shared with bob and carol (both pinned by the owner), and
    mallory, an account the server controls; returns the owner, the others and /team's node."""
    proxy.reset()
    people = {
        n: make_account(proxy, tmp / f"{n}-home", f"{n}-{tag}@example.org", {}, [])
        for n in ("bob", "carol", "mallory")
    }
    owner = make_account(proxy, tmp / "owner-home", f"owner-{tag}@example.org", {}, ["/team"])
    with owner.vault(proxy.url) as v:
        for n in ("bob", "carol"):
            v.shares.share("/team", people[n].email, trust_on_first_use=True)
        node = v.stat("/team").node_id.hex()  # type: ignore[union-attr]
    proxy.reset()
    return owner, people, node


def _runner(
    acc: Account, tmp: Path, mp: pytest.MonkeyPatch, cap: pytest.CaptureFixture[str]
) -> Runner:
    mp.delenv("BLINDVAULT_NEW_PASSWORD", raising=False)
    return runner_for(acc, tmp / "run", mp, cap)


def _state(bv: Runner) -> dict[str, Any]:
    (state,) = list((bv.home / "accounts").glob("*.json"))
    return dict(json.loads(state.read_text()))


def _drop_pin(bv: Runner, email: str) -> None:
    """This device never pinned `email` (another device of the owner did)."""
    (state,) = list((bv.home / "accounts").glob("*.json"))
    doc = json.loads(state.read_text())
    doc["peers"].pop(email)
    state.write_text(json.dumps(doc))


# --- item 1: rotation never seals to strangers (P-RESEAL) --------------------------------------


def test_unshare_never_seals_to_a_grant_the_roster_does_not_name(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The server adds a fake grant for mallory to `GET /v1/shares` during `unshare`: the
    rotated key is sealed to carol only; mallory's grant is reported, never sealed to."""
    owner, people, node = _team(proxy, tmp_path, "fake")
    with owner.vault(proxy.url) as v:
        ids = {n: _server_id(v, a.email) for n, a in people.items()}
    fake = {
        "id": os.urandom(16).hex(),
        "space": node,
        "member": ids["mallory"],
        "member_email": people["mallory"].email,
        "role": "write",
        "accepted": True,
    }
    proxy.add(on_json("GET", "/v1/shares", lambda d: {**d, "outgoing": [*d["outgoing"], fake]}))
    sealed: list[Any] = []
    proxy.before(capture("PUT", "/v1/shares", sealed))
    bv = _runner(owner, tmp_path, monkeypatch, capsys)
    rc, _, err = bv("unshare", "/team", "--with", people["bob"].email)
    assert rc == 0, err
    assert [s["member"] for s in sealed] == [ids["carol"]]
    assert people["mallory"].email in err and "not in the signed member list" in err


@pytest.mark.parametrize("lie", ["unpinned", "unpinned-served-fake"])
def test_unshare_refuses_an_unpinned_member(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, lie: str
) -> None:
    """Carol is in the roster but not pinned on this device: `unshare` exits 8 and changes
    nothing. If the server also serves its own key for her, even `--trust-on-first-use`
    refuses (the roster names another key); without the lie it pins the roster's key."""
    owner, people, _ = _team(proxy, tmp_path, lie)
    carol = people["carol"].email
    bv = _runner(owner, tmp_path, monkeypatch, capsys)
    _drop_pin(bv, carol)
    if lie == "unpinned-served-fake":
        fake = _fake_bundle(carol)
        proxy.add(
            on_json("GET", f"/v1/identities/{carol}", lambda d: {**d, "identity_bundle": fake})
        )
    sealed: list[Any] = []
    proxy.before(capture("PUT", "/v1/shares", sealed))
    before = _state(bv)
    proxy.log.clear()
    rc, _, err = bv("unshare", "/team", "--with", people["bob"].email)
    assert rc == 8, err
    assert sealed == []
    writes = [s for s in proxy.log if s.method in ("PUT", "DELETE", "PATCH")]
    assert writes == []  # nothing changed: no grant deleted, no key rotated
    assert _state(bv) == before
    rc, _, err = bv("unshare", "/team", "--with", people["bob"].email, "--trust-on-first-use")
    if lie == "unpinned-served-fake":
        assert rc == 8, err
        assert sealed == []
    else:
        assert rc == 0, err
        assert len(sealed) == 1
        with Vault.open(proxy.url, carol, PASSWORD, store=StateStore(people["carol"].home)) as c:
            c.trust(owner.email)
            assert c.shares.incoming()[0].problem == ""  # sealed to carol's real key


# --- item 2: interactive `trust` pins exactly the key it showed (P-SHOWN) -----------------------


def test_interactive_trust_pins_the_shown_key(
    proxy: Proxy, victim: Account, bv: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server answers the first lookup (shown as a safety number) honestly and the second
    with its own key: the pin equals the shown key, or `trust` refuses (exit 8)."""
    dave = make_account(proxy, tmp_path / "dave-home", "dave-shown@example.org", {}, [])
    proxy.reset()
    fake = _fake_bundle(dave.email)
    path = f"/v1/identities/{dave.email}"
    proxy.add(nth_answer("GET", path, 2, lambda d: {**d, "identity_bundle": fake}))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt="": "y")
    rc, _, err = bv("trust", dave.email)
    assert rc == 8, err
    assert dave.email not in _state(bv)["peers"]
    proxy.reset()  # honest: the shown key is pinned
    rc, _, err = bv("trust", dave.email)
    assert rc == 0, err
    with dave.vault(proxy.url) as d:
        assert _state(bv)["peers"][dave.email] == d.fingerprint.hex()


# --- item 3: a hidden folder is an integrity error (P-EXISTS) -----------------------------------


def _forget_heads(bv: Runner) -> None:
    """A device that has never read this tree: no high-water marks, no root seen."""
    (state,) = list((bv.home / "accounts").glob("*.json"))
    doc = json.loads(state.read_text())
    doc.update(heads={}, root_sequence=0, root_hash="", rosters={}, key_versions={})
    state.write_text(json.dumps(doc))


@pytest.mark.parametrize("command", [["ls", "/sub"], ["get", "/sub", "OUT"], ["tree", "/"]])
def test_hidden_folder_is_an_integrity_error(
    proxy: Proxy, victim: Account, bv: Runner, tmp_path: Path, command: list[str]
) -> None:
    """The server hides the signed root and /sub from a device that never saw them: never an
    empty folder, exit 10, nothing written."""
    _forget_heads(bv)
    out = tmp_path / "out"
    out.mkdir()
    args = [str(out) if a == "OUT" else a for a in command]
    proxy.add(missing("GET", f"/v1/records/root/{victim.owner}"))
    proxy.add(missing("GET", f"/v1/records/manifest/{victim.nodes['/sub']}"))
    rc, _, err = bv(*args)
    assert rc == 10, err
    assert sorted(out.iterdir()) == []
    proxy.reset()
    proxy.add(missing("GET", f"/v1/records/manifest/{victim.nodes['/sub']}"))
    _forget_heads(bv)
    rc, _, err = bv(*args)  # the root honest, the folder still hidden
    assert rc == 10, err


def test_verify_reports_a_hidden_folder(proxy: Proxy, victim: Account, bv: Runner) -> None:
    _forget_heads(bv)
    proxy.add(missing("GET", f"/v1/records/root/{victim.owner}"))
    proxy.add(missing("GET", f"/v1/records/manifest/{victim.nodes['/sub/deep']}"))
    rc, _, err = bv("verify")
    assert rc == 10, err  # the signed root itself is missing
    assert "signed root is missing" in err
    proxy.reset()
    proxy.add(missing("GET", f"/v1/records/manifest/{victim.nodes['/sub/deep']}"))
    _forget_heads(bv)
    rc, out, _ = bv("verify")
    assert rc == 10
    assert "PROBLEM /sub/deep" in out


# --- item 5: no KDF downgrade on a device without a pin (P-KDFFLOOR) ----------------------------

DOWNGRADES = {
    "argon2-old-floor": {"alg": "argon2id", "m": 19456, "t": 2, "p": 1},
    "argon2-less-memory": {"alg": "argon2id", "m": 32768, "t": 3, "p": 4},
    "argon2-fewer-passes": {"alg": "argon2id", "m": 65536, "t": 2, "p": 4},
    "argon2-fewer-lanes": {"alg": "argon2id", "m": 65536, "t": 3, "p": 1},
    "pbkdf2": {"alg": "pbkdf2-sha256", "i": 600000},
    "pbkdf2-strong": {"alg": "pbkdf2-sha256", "i": 5_000_000},
}


@pytest.fixture(scope="module")
def strong(_proxy: Proxy, tmp_path_factory: pytest.TempPathFactory) -> Account:
    from blindvault.core.kdf import KdfParams

    _proxy.reset()
    home = tmp_path_factory.mktemp("strong") / "home"
    acc = make_account(_proxy, home, "strong@example.org", {}, [], params=KdfParams.argon2id())
    _proxy.reset()
    return acc


@pytest.mark.parametrize("lie", sorted(DOWNGRADES))
def test_fresh_device_refuses_weaker_kdf_parameters(
    proxy: Proxy,
    strong: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    lie: str,
) -> None:
    """A device with no pin logs in to an m=64 MiB t=3 p=4 account; prelogin lies with
    weaker (or PBKDF2) parameters: exit 8 and nothing at all is sent after the prelogin."""
    bv = Runner(tmp_path / "fresh", monkeypatch, capsys)
    proxy.add(on_json("POST", "/v1/prelogin", lambda d: {**d, "kdf": DOWNGRADES[lie]}))
    proxy.log.clear()
    rc, _, err = bv("login", "--server", proxy.url, "--email", strong.email)
    assert rc == 8, err
    assert proxy.after_lie() == []  # no session request: no auth key derived or sent
    proxy.reset()
    rc, _, err = bv("login", "--server", proxy.url, "--email", strong.email)
    assert rc == 0, err  # the honest default parameters pass


# --- items 8 and 12: key changes carry proof; recovery words rotate (P-KEYPROOF) ----------------


def _fresh(proxy: Proxy, tmp: Path, tag: str) -> tuple[str, list[str], Path]:
    from helpers.adversarial import FAST_KDF

    proxy.reset()
    email = f"{tag}-{os.urandom(3).hex()}@example.org"
    home = tmp / f"{tag}-home"
    vault, words = Vault.signup(proxy.url, email, PASSWORD, store=StateStore(home), params=FAST_KDF)
    vault.close()
    return email, words, home


def _recover(bv: Runner, url: str, email: str, words: list[str], new: str) -> tuple[int, str]:
    bv.monkeypatch.setattr("sys.stdin", io.StringIO(" ".join(words) + "\n"))
    bv.monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", new)
    rc, _, err = bv("recover", "--accept-weak-password", "--server", url, "--email", email)
    return rc, err


def test_key_changes_carry_proof_and_a_refusal_is_exit_8(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`passwd` sends proof of the current auth key; after `recover`, of the recovery auth
    key. A server that refuses the proof (403 proof_invalid) gives exit 8, nothing changed."""
    from blindvault.core.kdf import derive_account_keys, recovery_auth_key
    from blindvault.core.recovery import recovery_key_from_words
    from helpers.adversarial import FAST_KDF
    from helpers.proxy import refuse

    email, words, home = _fresh(proxy, tmp_path, "proof")
    bv = Runner(home, monkeypatch, capsys)
    current = derive_account_keys(PASSWORD, email, FAST_KDF).auth.material
    proxy.before(
        refuse(
            "PUT", "/v1/account/keys", 403, {"error": {"code": "proof_invalid", "message": "no"}}
        )
    )
    before = _state(bv)
    monkeypatch.setenv("BLINDVAULT_NEW_PASSWORD", "second password")
    rc, _, err = bv("passwd", "--accept-weak-password")
    assert rc == 8, err
    assert _state(bv)["bundle_version"] == before["bundle_version"]
    proxy.reset()
    sent: list[Any] = []
    proxy.before(capture("PUT", "/v1/account/keys", sent))
    rc, _, err = bv("passwd", "--accept-weak-password")
    assert rc == 0, err
    assert sent[-1]["proof"] == {"auth_key": B64(current).decode()}
    rc, err = _recover(bv, proxy.url, email, words, "third password")
    assert rc == 0, err
    rk = recovery_auth_key(recovery_key_from_words(" ".join(words))).material
    assert sent[-1]["proof"] == {"recovery_auth_key": B64(rk).decode()}


def test_recovery_rotate_replaces_the_words(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """`recovery rotate` and `passwd --new-recovery`: new words work, old ones stop."""
    email, old, home = _fresh(proxy, tmp_path, "rotate")
    bv = Runner(home, monkeypatch, capsys)
    sent: list[Any] = []
    proxy.before(capture("PUT", "/v1/account/keys", sent))
    rc, out, err = bv("recovery", "rotate", "--json")
    assert rc == 0, err
    new = json.loads(out)["recovery_words"]
    assert len(new) == 24 and new != old
    assert "recovery_auth_key" in sent[-1] and "auth_key" in sent[-1]["proof"]
    rc, err = _recover(bv, proxy.url, email, old, "other password")
    assert rc == 3, err  # the old words no longer log in
    rc, err = _recover(bv, proxy.url, email, new, "other password")
    assert rc == 0, err
    monkeypatch.setattr("sys.stdin", io.StringIO("other password\nyet another password\n"))
    rc, out, err = bv(
        "passwd", "--accept-weak-password", "--new-recovery", "--json", "--password-stdin"
    )
    assert rc == 0, err
    newer = json.loads(out)["recovery_words"]
    assert len(newer) == 24 and newer != new
    rc, err = _recover(bv, proxy.url, email, new, "x password")
    assert rc == 3, err


# --- item 11: share names are bound at accept time; item 13: `ls /` shows them -----------------


def test_share_names_do_not_swap_when_the_listing_is_reordered(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Two shares both named `team`: `@team` and `@team-2` stay bound to the share each was
    accepted as, whatever order the server lists them in; `ls /` shows both."""
    proxy.reset()
    bob = make_account(proxy, tmp_path / "bob-home", "bob-names@example.org", {}, [])
    owner = make_account(
        proxy,
        tmp_path / "owner-home",
        "owner-names@example.org",
        {"/a/team/first.txt": b"1", "/b/team/second.txt": b"2"},
        [],
    )
    with owner.vault(proxy.url) as v:
        ids = [
            v.shares.share(p, bob.email, trust_on_first_use=True) for p in ("/b/team", "/a/team")
        ]
    with bob.vault(proxy.url) as b:
        first = b.shares.accept(ids[1], trust_on_first_use=True)  # /a/team first: @team
        second = b.shares.accept(ids[0])
    assert (first, second) == ("@team", "@team-2")
    bv = _runner(bob, tmp_path, monkeypatch, capsys)
    for order in ("as-is", "reversed"):
        proxy.reset()
        if order == "reversed":
            proxy.add(
                on_json("GET", "/v1/shares", lambda d: {**d, "incoming": d["incoming"][::-1]})
            )
        rc, out, err = bv("ls", "/@team")
        assert (rc, out.split()) == (0, ["first.txt"]), (order, err)
        rc, out, err = bv("ls", "/@team-2")
        assert (rc, out.split()) == (0, ["second.txt"]), (order, err)
        rc, out, err = bv("ls", "/")
        assert rc == 0 and out.split() == ["@team/", "@team-2/"], (order, err)
        rc, out, err = bv("shares", "--json")
        names = {s["id"]: s["name"] for s in json.loads(out)["incoming"]}
        assert names == {ids[1]: "team", ids[0]: "team-2"}, (order, err)


# --- item 10: resume never re-encrypts different plaintext under the same key (P-NONCE) --------


def test_resume_after_a_same_size_same_mtime_change_starts_over(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """An upload stops after parts 1 and 2; the file changes inside part 2 keeping size and
    mtime (`cp -p`); the server claims it lacks part 2. The client never sends two
    different part-2 bodies under one upload (one key and salt): it starts over."""
    from blindvault.client.net import transfer
    from helpers.proxy import Exchange

    _, _, home = _fresh(proxy, tmp_path, "resume")
    bv = Runner(home, monkeypatch, capsys)
    big = tmp_path / "big.bin"
    data = bytearray(os.urandom(20 * 1024 * 1024))
    big.write_bytes(data)
    parts: dict[tuple[str, str], set[bytes]] = {}

    def keep(ex: Exchange) -> None:
        bits = ex.path.split("/")
        if ex.method == "PUT" and len(bits) == 6 and bits[4] == "parts":
            parts.setdefault((bits[3], bits[5]), set()).add(ex.request_body)

    proxy.before(keep)
    original = transfer._PartSender._send

    def stop_at_3(self: transfer._PartSender, part: bytes | bytearray) -> None:
        if self.number == 3:
            raise KeyboardInterrupt
        original(self, part)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(transfer._PartSender, "_send", stop_at_3)
        assert bv("put", str(big), "/")[0] == 130
    assert {n for _, n in parts} == {"1", "2"}
    st = big.stat()
    data[9 * 1024 * 1024] ^= 1  # inside part 2, same size
    big.write_bytes(data)
    os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime

    def lacks_part_2(d: Any) -> Any:
        return {**d, "received": [r for r in d["received"] if int(r["number"]) != 2]}

    proxy.add(
        lambda ex: (
            on_json("GET", ex.path, lacks_part_2)(ex)
            if ex.method == "GET" and ex.path.startswith("/v1/uploads/")
            else None
        )
    )
    rc, _, err = bv("put", str(big), "/")
    assert rc == 0, err
    reused = {k: len(v) for k, v in parts.items() if len(v) > 1}
    assert reused == {}, reused  # no (upload, part) ever carried two different bodies
    assert len({u for u, _ in parts}) == 2  # a new upload (fresh key and salt)
    proxy.reset()
    back = tmp_path / "back.bin"
    assert bv("get", "/big.bin", str(back))[0] == 0
    assert back.read_bytes() == bytes(data)


# --- item 13: names unsafe on another OS; open-link without the secret in argv ------------------

ODD = {
    "/odd/a:b.txt": b"colon",
    "/odd/CON.txt": b"device",
    "/odd/x\\..\\y": b"backslash",
    "/odd/trail.": b"dot",
    "/odd/ok.txt": b"fine",
}


def test_get_refuses_or_escapes_names_unsafe_on_another_os(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A writer stored names that Windows reads as a path, a stream, a device or a
    shorter name: `get` refuses them with a clear error and writes nothing; with
    `--escape-names` it writes the documented %XX escapes."""
    acc = make_account(proxy, tmp_path / "odd-home", "odd@example.org", ODD, [])
    proxy.reset()
    bv = _runner(acc, tmp_path, monkeypatch, capsys)
    out = tmp_path / "out"
    out.mkdir()
    for remote in ("/odd", "/odd/CON.txt", "/odd/a:b.txt", "/odd/trail."):
        rc, _, err = bv("get", remote, str(out))
        assert rc == 2, (remote, err)
        assert "--escape-names" in err
        assert list(out.iterdir()) == []
    rc, _, err = bv("get", "/odd", str(out), "--escape-names")
    assert rc == 0, err
    got = {p.name: p.read_bytes() for p in (out / "odd").iterdir()}
    assert got == {
        "a%3Ab.txt": b"colon",
        "CON%.txt": b"device",
        "x%5C..%5Cy": b"backslash",
        "trail%2E": b"dot",
        "ok.txt": b"fine",
    }


def test_open_link_takes_the_url_from_stdin_or_the_environment(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import io

    from blindvault.client.links import create_link

    acc = make_account(proxy, tmp_path / "link-home", "linker@example.org", {"/f.txt": b"hi"}, [])
    with acc.vault(proxy.url) as v:
        url = create_link(v, "/f.txt")
    proxy.reset()
    bv = Runner(tmp_path / "stranger", monkeypatch, capsys)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    monkeypatch.setattr("sys.stdin", io.StringIO(url + "\n"))
    rc, _, err = bv("open-link", "-", str(one))
    assert rc == 0, err
    assert (one / "f.txt").read_bytes() == b"hi"
    monkeypatch.setenv("BLINDVAULT_LINK_URL", url)
    rc, _, err = bv("open-link", str(two))
    assert rc == 0, err
    assert (two / "f.txt").read_bytes() == b"hi"


def test_hidden_folder_written_by_a_share_member(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """The issue's case: a read-write member made /team/bobs; the server hides it from the
    owner's device (no signed root of the owner covers it): exit 10, `verify` reports it."""
    proxy.reset()
    bob = make_account(proxy, tmp_path / "bob-home", "bob-hidden@example.org", {}, [])
    owner = make_account(proxy, tmp_path / "owner-home", "owner-hidden@example.org", {}, ["/team"])
    with owner.vault(proxy.url) as v:
        share_id = v.shares.share("/team", bob.email, write=True, trust_on_first_use=True)
    with bob.vault(proxy.url) as b:
        mount = b.shares.accept(share_id, trust_on_first_use=True)
        b.mkdir(f"{mount}/bobs")
        node = b.stat(f"{mount}/bobs").node_id.hex()  # type: ignore[union-attr]
    proxy.reset()
    bv = _runner(owner, tmp_path, monkeypatch, capsys)
    proxy.add(missing("GET", f"/v1/records/manifest/{node}"))
    rc, _, err = bv("ls", "/team/bobs")
    assert rc == 10, err
    rc, out, _ = bv("verify")
    assert rc == 10
    assert "PROBLEM /team/bobs" in out
