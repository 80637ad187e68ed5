"""Shares in the browser vault (issue 15): a share made with the CLI is accepted in a real
Chromium after the sharer's safety number is shown, browsed as `@name`, downloaded from and
written to; a single-file share is `@shared/NAME`. A server that forges the owner-signed
member list, swaps the sharer's key, moves an envelope to another folder or replays an
older member list is refused in the browser. Every page collects its JavaScript errors
and none may be thrown.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.vaultpage import Page
from helpers.web import PASSWORD, checked_page, run_cli, web_server

ALICE = "alice@example.org"  # the sharer (CLI); the vectors hold another key for this email
BOB = "bob@example.org"  # signs in in the browser
VECTORS = Path(__file__).parent.parent / "vectors" / "v1"


@dataclass
class Setup:
    url: str
    alice: Path
    bob: Path
    work: Path
    folder_share: str  # share ids, from alice's `shares --json`
    file_share: str
    plan: bytes
    notes: bytes

    def cli(self, home: Path, *args: str) -> str:
        env = {"BLINDVAULT_PASSWORD": PASSWORD, "BLINDVAULT_NEW_PASSWORD": PASSWORD}
        return run_cli(home, *args, env=env)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    base = tmp_path_factory.mktemp("shares")
    with web_server(base, "--log-level", "warning") as web:
        work = base / "work"
        work.mkdir()
        s = Setup(web.url, base / "alice", base / "bob", work, "", "", b"", b"")
        s.cli(s.alice, "signup", "--server", web.url, "--email", ALICE)
        s.cli(s.bob, "signup", "--server", web.url, "--email", BOB)
        s.plan, s.notes = secrets.token_bytes(300_000), secrets.token_bytes(5_000)
        (work / "plan.bin").write_bytes(s.plan)
        (work / "notes.txt").write_bytes(s.notes)
        s.cli(s.alice, "mkdir", "/team")
        s.cli(s.alice, "put", str(work / "plan.bin"), "/team")
        s.cli(s.alice, "mkdir", "/team/docs")
        s.cli(s.alice, "put", str(work / "notes.txt"), "/team/docs")
        s.cli(s.alice, "put", str(work / "notes.txt"), "/")
        s.cli(s.alice, "share", "/team", "--with", BOB, "--write", "--trust-on-first-use")
        s.cli(s.alice, "share", "/notes.txt", "--with", BOB, "--trust-on-first-use")
        outgoing = json.loads(s.cli(s.alice, "shares", "--json"))["outgoing"]
        s.folder_share = next(o["id"] for o in outgoing if o["role"] == "write")
        s.file_share = next(o["id"] for o in outgoing if o["role"] == "read")
        yield s


@pytest.fixture
def bob(chromium: Any, setup: Setup) -> Iterator[Page]:
    with checked_page(Page(chromium, setup)) as page:
        yield page


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_accept_browse_download_and_upload(bob: Page, setup: Setup) -> None:
    safety = json.loads(setup.cli(setup.bob, "fingerprint", ALICE, "--json"))["safety_number"]
    bob.shared_tab()
    assert bob.share(setup.folder_share).get_attribute("data-state") == "pending"
    assert bob.share(setup.file_share).get_attribute("data-state") == "pending"
    # the first accept shows the sharer's safety number (the CLI's), then pins the key
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    assert len(bob.dialogs) == 1 and safety in bob.dialogs[0], bob.dialogs
    assert "it is at @team" in bob.status()
    row = bob.share(setup.folder_share)
    assert row.get_attribute("data-state") == "accepted"
    assert "@team" in str(row.locator(".share-name").text_content())
    # a second share from the same (now pinned) sharer: no question, verified with the pin
    assert "it is at @shared/notes.txt" in bob.accept(setup.file_share), bob.status()
    assert len(bob.dialogs) == 1
    got = bob.download(
        bob.share(setup.file_share).locator("button[data-action=download]"),
        setup.work / "notes-got.txt",
    )
    assert sha(got) == sha(setup.notes)
    # browse @team: download what Alice put there, upload (read-write) what she then gets
    bob.share(setup.folder_share).locator("button[data-action=open]").click()
    bob.page.wait_for_selector("#breadcrumb strong:text-is('@team')")
    plan_row = bob.page.locator("#listing tr[data-name='plan.bin']")
    got = bob.download(plan_row.locator("button[data-action=download]"), setup.work / "plan-got")
    assert sha(got) == sha(setup.plan)
    assert plan_row.locator("button[data-action=link]").count() == 0  # no links into shares
    mine = secrets.token_bytes(9 * 1024 * 1024 + 5)  # a resumable (multi-part) upload
    (setup.work / "from-bob.bin").write_bytes(mine)
    bob.page.set_input_files("#upload-files", str(setup.work / "from-bob.bin"))
    transfer = bob.page.locator(".transfer").first
    transfer.and_(bob.page.locator("[data-state]")).wait_for(timeout=300_000)
    assert transfer.get_attribute("data-state") == "done", transfer.text_content()
    out = setup.work / "alice-out"
    out.mkdir()
    setup.cli(setup.alice, "get", "/team/from-bob.bin", str(out))
    assert sha((out / "from-bob.bin").read_bytes()) == sha(mine)


def test_folder_in_a_share_as_zip(bob: Page, setup: Setup) -> None:
    """A folder inside an accepted share downloads as one .zip (its blobs are fetched from
    the share's space)."""
    bob.shared_tab()
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    bob.share(setup.folder_share).locator("button[data-action=open]").click()
    bob.page.wait_for_selector("#breadcrumb strong:text-is('@team')")
    docs = bob.page.locator("#listing tr[data-name='docs']")
    got = bob.download(docs.locator("button[data-action=zip]"), setup.work / "docs.zip")
    with zipfile.ZipFile(io.BytesIO(got)) as z:
        assert z.testzip() is None
        assert z.read("docs/notes.txt") == setup.notes


def test_read_only_share_offers_no_writes(bob: Page, setup: Setup) -> None:
    """Alice's single file is shared read-only: Bob may download it, nothing else."""
    bob.shared_tab()
    bob.accept(setup.file_share)
    row = bob.share(setup.file_share)
    assert row.locator("button[data-action=download]").count() == 1
    assert row.locator("button[data-action=open]").count() == 0


def test_forged_member_list_refused_and_nothing_pinned(bob: Page, setup: Setup) -> None:
    def forge(route: Any) -> None:
        response = route.fetch()
        doc = response.json()
        data = bytearray(base64.b64decode(doc["data"]))
        data[-1] ^= 1  # the owner's signature no longer covers the member list
        route.fulfill(response=response, json={**doc, "data": base64.b64encode(data).decode()})

    bob.page.route("**/v1/records/roster/*", forge)
    bob.shared_tab()
    assert "Integrity check failed" in bob.accept(setup.folder_share)
    assert len(bob.dialogs) == 1  # the safety number was shown ...
    assert bob.share(setup.folder_share).locator("button[data-action=open]").count() == 0
    bob.page.unroute("**/v1/records/roster/*")
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    assert len(bob.dialogs) == 2  # ... and not pinned: the honest accept asks again


def test_changed_sharer_key_refused(bob: Page, setup: Setup) -> None:
    bob.shared_tab()
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    other = json.loads((VECTORS / "identity-bundle" / "x25519.json").read_text())
    assert ALICE.encode().hex() in other["data"]  # a well-formed, self-signed other key

    def swap(route: Any) -> None:
        response = route.fetch()
        forged = base64.b64encode(bytes.fromhex(other["data"])).decode()
        route.fulfill(response=response, json={**response.json(), "identity_bundle": forged})

    bob.page.route("**/v1/identities/alice*", swap)
    bob.shared_tab()  # neither share is shown by name or opened
    for share in (setup.folder_share, setup.file_share):
        text = str(bob.share(share).text_content())
        assert "NOT VERIFIED" in text and "changed since this browser verified it" in text
        for action in ("open", "download"):
            assert bob.share(share).locator(f"button[data-action={action}]").count() == 0
    assert len(bob.dialogs) == 1  # no question: a changed key is refused, not re-pinned


def test_vanished_member_list_refused(bob: Page, setup: Setup) -> None:
    """A member list this browser saw cannot silently disappear (404)."""
    bob.shared_tab()
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    gone = {"error": {"code": "not_found", "message": "no such record"}}
    bob.page.route("**/v1/records/roster/*", lambda route: route.fulfill(status=404, json=gone))
    bob.shared_tab()
    assert "Integrity check failed" in str(bob.share(setup.folder_share).text_content())


def test_envelope_for_another_folder_refused(bob: Page, setup: Setup) -> None:
    """The server lists the file share's envelope under the folder share's space."""

    def move(route: Any) -> None:
        response = route.fetch()
        doc = response.json()
        by_id = {i["id"]: i for i in doc["incoming"]}
        by_id[setup.folder_share]["envelope"] = by_id[setup.file_share]["envelope"]
        route.fulfill(response=response, json=doc)

    bob.page.route("**/v1/shares", move)
    bob.shared_tab()
    assert "Integrity check failed" in bob.accept(setup.folder_share)


def test_owner_browses_own_shared_folder(chromium: Any, setup: Setup) -> None:
    """Alice (who shared /team with the CLI) browses it in the browser: its records live in
    the shared space her signed root names; a member list older than the one her root
    names is refused there too."""
    old: list[bytes] = []

    def keep(route: Any) -> None:
        response = route.fetch()
        if not old:
            old.append(response.body())
        route.fulfill(response=response, body=old[0])

    alice = Page(chromium, setup, ALICE)
    try:
        alice.page.route("**/v1/records/roster/*", keep)  # honest now: its first answer
        alice.page.locator("#listing tr[data-name='team'] a.folder").click()
        alice.page.wait_for_selector("#breadcrumb strong:text-is('team')")
        plan = alice.page.locator("#listing tr[data-name='plan.bin']")
        got = alice.download(plan.locator("button[data-action=download]"), setup.work / "p2")
        assert sha(got) == sha(setup.plan)
        assert alice.page.locator("#listing tr[data-name='docs']").count() == 1
    finally:
        alice.close()
    setup.cli(setup.alice, "share", "/team", "--with", BOB, "--write")  # a newer list
    alice = Page(chromium, setup, ALICE)
    try:
        alice.page.route("**/v1/records/roster/*", keep)  # replays the older list
        alice.page.locator("#listing tr[data-name='team'] a.folder").click()
        alice.page.wait_for_selector("#status[data-state=error]", timeout=60_000)
        assert "rolled back" in alice.status(), alice.status()
    finally:
        alice.close()


def test_move_between_spaces_refused(chromium: Any, setup: Setup) -> None:
    """Alice moves a file of her own tree into /team (shared with the CLI) in the browser:
    refused (the CLI's `mv` re-keys what moves; the browser does not), and nothing moved."""
    plain = setup.work / "plain.txt"
    plain.write_bytes(b"mine alone\n")
    setup.cli(setup.alice, "put", str(plain), "/")
    alice = Page(chromium, setup, ALICE)
    try:
        alice.page.remove_listener("dialog", alice._dialog)
        alice.page.on("dialog", lambda d: d.accept("/team"))
        alice.page.locator("#listing tr[data-name='plain.txt'] button[data-action=move]").click()
        alice.page.wait_for_selector("#status[data-state=error]", timeout=60_000)
        assert "blindvault mv" in alice.status(), alice.status()
    finally:
        alice.close()
    assert "plain.txt" not in setup.cli(setup.alice, "ls", "/team")
    assert "plain.txt" in setup.cli(setup.alice, "ls", "/")


def test_replayed_member_list_refused(bob: Page, setup: Setup) -> None:
    """After Alice makes Bob read-only, the server replays the envelope and member list
    that made him a writer: the browser saw the newer list and refuses both."""
    old: dict[str, Any] = {}

    def keep(route: Any) -> None:
        response = route.fetch()
        old.setdefault(route.request.url.split("?")[0], response.body())
        route.fulfill(response=response)

    bob.page.route("**/v1/shares", keep)
    bob.page.route("**/v1/records/roster/*", keep)
    bob.shared_tab()
    assert "Accepted" in bob.accept(setup.folder_share), bob.status()
    bob.page.unroute("**/v1/shares")
    bob.page.unroute("**/v1/records/roster/*")
    setup.cli(setup.alice, "share", "/team", "--with", BOB)  # read-only now: roster v2
    bob.shared_tab()
    assert "read-only" in str(bob.share(setup.folder_share).text_content())

    def replay(route: Any) -> None:
        response = route.fetch()
        route.fulfill(response=response, body=old[route.request.url.split("?")[0]])

    bob.page.route("**/v1/records/roster/*", replay)
    bob.shared_tab()
    assert "rolled back" in str(bob.share(setup.folder_share).text_content())
    bob.page.unroute("**/v1/records/roster/*")
    bob.page.route("**/v1/shares", replay)  # the old envelope (write) with the new list
    bob.shared_tab()
    assert "NOT VERIFIED" in str(bob.share(setup.folder_share).text_content())
