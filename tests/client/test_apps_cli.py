"""Issue 16's "done when", as a user runs it, against a real server process on both backends
(SQLite + local disk, PostgreSQL + SeaweedFS): authorize two apps, A cannot list B, grant A
read access to B with a TOTP code, A reads B's files and cannot write them, ungrant, A is
locked out and B's new files do not open with A's old key; the example app runs on the SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy

from blindvault.client.apps import AppCredential
from blindvault.client.net.http import ApiClient, b64d
from blindvault.core.manifest import open_manifest
from blindvault.errors import ForbiddenError, IntegrityError, NotFoundError
from blindvault.server.domain.credentials import totp
from helpers.client import Cli, Server, new_cli
from helpers.servers import s3_spec, start_server, stop

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "notes_app.py"


@dataclass
class AppServer(Server):
    db_url: str = ""

    def sql(self, query: str, **params: object) -> list[Any]:
        engine = sqlalchemy.create_engine(self.db_url)
        try:
            with engine.begin() as conn:
                result = conn.execute(sqlalchemy.text(query), params)
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres+seaweedfs"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("apps") / "data"
    extra: list[str] = []
    db_url = f"sqlite:///{data / 'blindvault.sqlite3'}"
    if request.param != "sqlite":
        db_url = request.getfixturevalue("pg_url")
        extra = ["--db", db_url, "--blobs", s3_spec(request.getfixturevalue("weed"))]
    proc, url = start_server(data, *extra)
    try:
        yield AppServer(url, data, db_url)
    finally:
        stop(proc)


@pytest.fixture
def user(backend: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> Cli:  # fmt: skip
    return new_cli(backend, tmp_path / "home", monkeypatch, capsys, "apps")


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    return out


def test_two_apps_grant_read_with_totp_then_ungrant(user: Cli, tmp_path: Path) -> None:
    a_cred, b_cred = tmp_path / "a.cred", tmp_path / "b.cred"
    _ok(user("apps", "authorize", "com.example.a", "--out", str(a_cred)))
    _ok(user("apps", "authorize", "com.example.b", "--out", str(b_cred)))
    assert a_cred.stat().st_mode & 0o077 == 0
    assert user("apps", "authorize", "com.example.c", "--out", str(a_cred))[0] != 0  # no clobber
    listed = json.loads(_ok(user("apps", "list", "--json")))
    assert [x["app_id"] for x in listed] == ["com.example.a", "com.example.b"]
    assert all(x["verified"] for x in listed)
    note = tmp_path / "b1.txt"
    note.write_text("B's first note")
    _ok(user("--app-credential", str(b_cred), "put", str(note), "/"))
    # A cannot list B (nor the user's own tree: its "/" is its own container)
    code, _, err = user("--app-credential", str(a_cred), "ls", "app:com.example.b/")
    assert code == 4, err
    assert json.loads(_ok(user("--app-credential", str(a_cred), "ls", "/", "--json"))) == []
    # the account lists every container
    assert "b1.txt" in _ok(user("ls", "app:com.example.b/"))
    # TOTP: setup (nothing enforced yet), enable with a code, then grant with another code
    setup = json.loads(_ok(user("totp", "setup", "--json")))
    assert setup["uri"].startswith("otpauth://totp/") and not setup["enabled"]
    secret = setup["secret"]
    code, _, err = user("apps", "grant", "com.example.a", "com.example.b", "--read",
                        "--totp", "000000")  # fmt: skip
    assert code != 0  # TOTP is not on yet: refused
    _ok(user("totp", "enable", "--code", totp(secret)))
    code, _, err = user("apps", "grant", "com.example.a", "com.example.b", "--read",
                        "--totp", "000000")  # fmt: skip
    assert code == 8, err  # wrong code: a policy refusal
    grant_code = totp(secret, time.time() + 30)
    _ok(user("apps", "grant", "com.example.a", "com.example.b", "--read", "--totp", grant_code))
    code, _, _ = user("apps", "grant", "com.example.a", "com.example.b", "--read",
                      "--totp", grant_code)  # fmt: skip
    assert code == 8  # replayed
    grants = json.loads(_ok(user("apps", "grants", "--json")))
    assert [(g["from_app"], g["to_app"], g["role"]) for g in grants] == [
        ("com.example.a", "com.example.b", "read")
    ]
    _granted_read(user, tmp_path, a_cred, b_cred)


def _granted_read(user: Cli, tmp_path: Path, a_cred: Path, b_cred: Path) -> None:
    """A reads B's files and cannot write them; after ungrant A is out and B's new files do
    not open with A's old key; revoke is 401 at once; the audit log names every step."""
    note = tmp_path / "b1.txt"
    got = tmp_path / "got.txt"
    _ok(user("--app-credential", str(a_cred), "get", "app:com.example.b/b1.txt", str(got)))
    assert got.read_text() == "B's first note"
    code, _, err = user("--app-credential", str(a_cred), "put", str(note), "app:com.example.b/x")
    assert code != 0 and "read-only" in err.lower() + "forbidden", err
    held = AppCredential.load(a_cred)
    a_api = ApiClient(held.server, held.token)
    old_key = _a_key_for_b(a_api, held)
    # ungrant: A is locked out; B's new files do not open with A's old key
    _ok(user("apps", "ungrant", "com.example.a", "com.example.b"))
    assert user("--app-credential", str(a_cred), "ls", "app:com.example.b/")[0] == 4
    note2 = tmp_path / "b2.txt"
    note2.write_text("B's second note")
    _ok(user("--app-credential", str(b_cred), "put", str(note2), "/"))
    assert "b2.txt" in _ok(user("--app-credential", str(b_cred), "ls", "/"))
    b = AppCredential.load(b_cred)
    root = _raw_root(user, b)  # what a server (colluding with A) holds now
    with pytest.raises(IntegrityError):
        open_manifest(root, old_key, b.node_id, {})  # any writer: the AEAD fails first
    # revoke: every request of B's credential is 401 at once
    _ok(user("apps", "revoke", "com.example.b"))
    assert user("--app-credential", str(b_cred), "ls", "/")[0] == 3
    # the account's audit log names every step
    events = {e["event"] for e in _account_api(user).get_json("/v1/audit")["entries"]}
    assert {"app_authorized", "app_granted", "app_grant_refused", "app_ungranted",
            "app_revoked"} <= events  # fmt: skip


def _account_api(user: Cli) -> ApiClient:
    states = [json.loads(f.read_text()) for f in (user.home / "accounts").glob("*.json")]
    state = next(s for s in states if s.get("email") == user.email)  # not an app's state
    return ApiClient(state["server"], state["token"])


def _a_key_for_b(api: ApiClient, cred: AppCredential) -> object:
    from blindvault.client.vault import Vault

    vault = Vault.open_app(cred)
    try:
        return vault.app("com.example.b").spaces.locate([]).key
    finally:
        vault.close()


def _raw_root(user: Cli, b: AppCredential) -> bytes:
    api = ApiClient(b.server, b.token)
    rec = api.get_json(f"/v1/records/manifest/{b.node_id.hex()}")
    return b64d(rec["data"])


def test_example_app_runs_on_its_credential(user: Cli, tmp_path: Path) -> None:
    cred = tmp_path / "notes.cred"
    _ok(user("apps", "authorize", "com.example.notes", "--out", str(cred)))
    env = {**os.environ, "BLINDVAULT_HOME": str(tmp_path / "app-home")}
    env.pop("BLINDVAULT_PASSWORD", None)  # the app never knows the password
    run = [sys.executable, str(EXAMPLE), "--credential", str(cred)]
    done = subprocess.run([*run, "add", "groceries", "milk, eggs"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*run, "list"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0 and "groceries" in done.stdout, done.stderr
    done = subprocess.run([*run, "show", "groceries"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.stdout.strip() == "milk, eggs", done.stderr
    assert "groceries.txt" in _ok(user("ls", "app:com.example.notes/notes"))


def test_attacks_on_apps_against_the_real_server(
    user: Cli, backend: AppServer, tmp_path: Path
) -> None:
    """The issue's attacks, on each backend: path tricks and look-alike ids refused with
    nothing made; the app token on the private tree and on account routes; a grant row the
    server writes on its own (no account-signed envelope) opens nothing."""
    for bad in ("../com.example", "com.example/../x", "Com.Example", "c\u043em.example"):
        code, _, err = user("apps", "authorize", bad, "--out", str(tmp_path / "bad.cred"))
        assert code == 2, err
        assert not (tmp_path / "bad.cred").exists()
    a_cred, b_cred = tmp_path / "a.cred", tmp_path / "b.cred"
    _ok(user("apps", "authorize", "com.example.a", "--out", str(a_cred)))
    _ok(user("apps", "authorize", "com.example.b", "--out", str(b_cred)))
    a = AppCredential.load(a_cred)
    raw = ApiClient(a.server, a.token)
    account = _account_api(user)
    me = account.get_json("/v1/account")
    for path in ("/v1/account", "/v1/devices", "/v1/shares", "/v1/apps", "/v1/links"):
        with pytest.raises(ForbiddenError):
            raw.get_json(path)
    listed = account.get_json("/v1/records/manifest")["records"]
    private = [r["id"] for r in listed if r["id"] != a.node_id.hex()]
    assert private
    for rid in private:  # the user's own tree answers like a missing object
        with pytest.raises(NotFoundError):
            raw.get_json(f"/v1/records/manifest/{rid}")
    b_space = AppCredential.load(b_cred).node_id.hex()  # this account's b (the server is shared)
    owner = backend.sql(
        "SELECT owner FROM apps WHERE app_id = 'com.example.b' AND space = :s", s=b_space
    )[0][0]
    backend.sql(
        "INSERT INTO app_grants (owner, from_app, to_app, role, envelope, created_at) "
        "VALUES (:o, 'com.example.a', 'com.example.b', 'read', :e, 0)",
        o=owner, e=b"BVSE forged by the server",
    )  # fmt: skip
    code, _, err = user("--app-credential", str(a_cred), "ls", "app:com.example.b/")
    assert code == 10 and "unverified" in err, err
    assert me  # the account itself is untouched
