"""Nested shares (issue 19) in the browser vault: Alice (CLI) shares /team with Bob and
/team/sub, inside it, with Carol. In Chromium, Bob reads @team/sub in /team/sub's own
space (entered through his verified grant on it, which he never accepted), Alice's
upload into /team/sub goes into that space (Carol, who has only /team/sub, reads it), and
the Shared tab shows Carol `@sub` and Bob `@team` plus the nested grant, waiting. A
nested grant the server hides is refused, never read in another space.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from helpers.vaultpage import PASSWORD, Page
from helpers.web import run_cli, web_server

ALICE, BOB, CAROL = "alice@example.org", "bob@example.org", "carol@example.org"


@dataclass
class Nest:
    url: str
    work: Path
    homes: dict[str, Path]
    team_share: str  # Bob's grant on /team
    sub_for_bob: str  # Bob's grant on /team/sub (passed down by the CLI)
    sub_for_carol: str
    inside: bytes  # /team/sub/inside.bin

    def cli(self, who: str, *args: str) -> str:
        env = {"BLINDVAULT_PASSWORD": PASSWORD, "BLINDVAULT_NEW_PASSWORD": PASSWORD}
        return run_cli(self.homes[who], *args, env=env)


@pytest.fixture(scope="module")
def nest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nest]:
    base = tmp_path_factory.mktemp("nested")
    with web_server(base, "--log-level", "warning") as web:
        work = base / "work"
        work.mkdir()
        homes = {who: base / who.split("@")[0] for who in (ALICE, BOB, CAROL)}
        n = Nest(web.url, work, homes, "", "", "", secrets.token_bytes(70_000))
        for who in (ALICE, BOB, CAROL):
            n.cli(who, "signup", "--server", web.url, "--email", who)
        (work / "inside.bin").write_bytes(n.inside)
        n.cli(ALICE, "mkdir", "/team")
        n.cli(ALICE, "mkdir", "/team/sub")
        n.cli(ALICE, "put", str(work / "inside.bin"), "/team/sub")
        share = ("--trust-on-first-use", "--json")
        n.team_share = json.loads(n.cli(ALICE, "share", "/team", "--with", BOB, "--write", *share))[
            "id"
        ]
        n.sub_for_carol = json.loads(n.cli(ALICE, "share", "/team/sub", "--with", CAROL, *share))[
            "id"
        ]
        outgoing = json.loads(n.cli(ALICE, "shares", "--json"))["outgoing"]
        n.sub_for_bob = next(
            o["id"] for o in outgoing if o["member_email"] == BOB and o["id"] != n.team_share
        )
        yield n


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_member_reads_a_nested_share_inside_his_share(chromium: Any, nest: Nest) -> None:
    """Bob opens @team/sub (its records are in /team/sub's space: the browser enters it
    through his verified grant on it, not accepted), downloads from it and uploads into it
    (Alice reads that); his Shared tab shows @team and the nested grant as one more share
    waiting for him."""
    bob = Page(chromium, nest, BOB)
    try:
        bob.shared_tab()
        assert "Accepted" in bob.accept(nest.team_share), bob.status()
        rows = bob.page.locator("#shared tbody tr")
        assert rows.count() == 2
        nested = bob.share(nest.sub_for_bob)
        assert nested.get_attribute("data-state") == "pending"
        assert "waiting for you" in str(nested.text_content())
        bob.share(nest.team_share).locator("button[data-action=open]").click()
        bob.page.wait_for_selector("#breadcrumb strong:text-is('@team')")
        bob.page.locator("#listing tr[data-name='sub'] a.folder").click()
        bob.page.wait_for_selector("#breadcrumb strong:text-is('sub')")
        row = bob.page.locator("#listing tr[data-name='inside.bin']")
        got = bob.download(row.locator("button[data-action=download]"), nest.work / "b-in")
        assert sha(got) == sha(nest.inside)
        (nest.work / "from-bob.txt").write_bytes(b"bob writes inside")  # read-write there
        bob.page.set_input_files("#upload-files", str(nest.work / "from-bob.txt"))
        transfer = bob.page.locator(".transfer").first
        transfer.and_(bob.page.locator("[data-state]")).wait_for(timeout=120_000)
        assert transfer.get_attribute("data-state") == "done", transfer.text_content()
        # accepting the nested grant only adds a second way to the same folder
        bob.shared_tab()
        assert "it is at @sub" in bob.accept(nest.sub_for_bob), bob.status()
        assert "@team" in str(bob.share(nest.team_share).locator(".share-name").text_content())
        bob.share(nest.sub_for_bob).locator("button[data-action=open]").click()
        bob.page.wait_for_selector("#breadcrumb strong:text-is('@sub')")
        bob.page.wait_for_selector("#listing tr[data-name='inside.bin']")
    finally:
        bob.close()
    out = nest.work / "alice-out"
    out.mkdir()
    nest.cli(ALICE, "get", "/team/sub/from-bob.txt", str(out))
    assert (out / "from-bob.txt").read_bytes() == b"bob writes inside"


def test_a_hidden_nested_grant_is_an_integrity_error(chromium: Any, nest: Nest) -> None:
    """The server leaves Bob's grant on /team/sub out of his list: the browser does not
    guess another space for it; @team/sub is refused, @team still opens."""

    def hide(route: Any) -> None:
        response = route.fetch()
        doc = response.json()
        doc["incoming"] = [i for i in doc["incoming"] if i["id"] != nest.sub_for_bob]
        route.fulfill(response=response, json=doc)

    bob = Page(chromium, nest, BOB)
    try:
        bob.page.route("**/v1/shares", hide)
        bob.shared_tab()
        assert "Accepted" in bob.accept(nest.team_share), bob.status()
        bob.share(nest.team_share).locator("button[data-action=open]").click()
        bob.page.wait_for_selector("#breadcrumb strong:text-is('@team')")
        bob.page.wait_for_selector("#listing tr[data-name='sub']")  # listed after the breadcrumb
        bob.page.evaluate("document.getElementById('status').textContent = ''")
        bob.page.locator("#listing tr[data-name='sub'] a.folder").click()
        bob.page.wait_for_selector("#status[data-state=error]", timeout=60_000)
        # (after Bob wrote there, his own signed root names the folder: "disappeared")
        refused = ("Integrity check failed", "A folder this browser has seen disappeared")
        assert any(r in bob.status() for r in refused), bob.status()
        assert bob.page.locator("#listing tr[data-name='inside.bin']").count() == 0
    finally:
        bob.close()


def test_owner_uploads_into_a_nested_share(chromium: Any, nest: Nest) -> None:
    """Alice uploads into /team/sub in the browser: the file goes into /team/sub's space,
    where Carol (who has only /team/sub) reads it, in the browser as in the CLI."""
    mine = secrets.token_bytes(40_000)
    (nest.work / "from-alice.bin").write_bytes(mine)
    alice = Page(chromium, nest, ALICE)
    try:
        alice.page.locator("#listing tr[data-name='team'] a.folder").click()
        alice.page.wait_for_selector("#breadcrumb strong:text-is('team')")
        alice.page.locator("#listing tr[data-name='sub'] a.folder").click()
        alice.page.wait_for_selector("#breadcrumb strong:text-is('sub')")
        alice.page.set_input_files("#upload-files", str(nest.work / "from-alice.bin"))
        transfer = alice.page.locator(".transfer").first
        transfer.and_(alice.page.locator("[data-state]")).wait_for(timeout=120_000)
        assert transfer.get_attribute("data-state") == "done", transfer.text_content()
    finally:
        alice.close()
    carol = Page(chromium, nest, CAROL)
    try:
        carol.shared_tab()
        assert "it is at @sub" in carol.accept(nest.sub_for_carol), carol.status()
        assert carol.page.locator("#shared tbody tr").count() == 1  # nothing of /team
        carol.share(nest.sub_for_carol).locator("button[data-action=open]").click()
        carol.page.wait_for_selector("#breadcrumb strong:text-is('@sub')")
        row = carol.page.locator("#listing tr[data-name='from-alice.bin']")
        got = carol.download(row.locator("button[data-action=download]"), nest.work / "c-in")
        assert sha(got) == sha(mine)
    finally:
        carol.close()
    number = json.loads(nest.cli(ALICE, "fingerprint", "--json"))["safety_number"]
    nest.cli(CAROL, "trust", ALICE, "--fingerprint", number)
    out = nest.work / "carol-out"
    out.mkdir()
    nest.cli(CAROL, "get", "@sub/from-alice.bin", str(out))
    assert sha((out / "from-alice.bin").read_bytes()) == sha(mine)


MALLORY = "mallory@example.org"
_LOOKALIKE = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from helpers.lookalike import main; main()"
)


def test_another_accounts_grant_on_the_same_node_is_not_the_nested_share(
    chromium: Any, nest: Nest
) -> None:
    """Mallory, a read-only member of /team whom Bob verified (he accepted a share of hers),
    shares with him a look-alike folder of hers with the node id of /team/other, a nested
    share he has not opened; the server lists her grant first under Alice's account id,
    serves her roster and her forged next version of /team/other (tests/helpers/lookalike.py).
    Bob's browser takes a nested share only from the owner of the share around it: refused,
    the injected file never listed."""
    nest.homes[MALLORY] = nest.work.parent / "mallory"
    nest.cli(MALLORY, "signup", "--server", nest.url, "--email", MALLORY)
    tofu = "--trust-on-first-use"
    nest.cli(ALICE, "share", "/team", "--with", MALLORY, tofu)
    (nest.work / "o.txt").write_bytes(b"other")
    nest.cli(ALICE, "mkdir", "/team/other")
    nest.cli(ALICE, "put", str(nest.work / "o.txt"), "/team/other")
    nest.cli(ALICE, "share", "/team/other", "--with", CAROL, tofu)
    nest.cli(MALLORY, "mkdir", "/hello")
    hello = json.loads(nest.cli(MALLORY, "share", "/hello", "--with", BOB, tofu, "--json"))["id"]
    tests = str(Path(__file__).resolve().parent.parent)
    lie = json.loads(subprocess.run(
        [sys.executable, "-c", _LOOKALIKE, tests, nest.url, PASSWORD, str(nest.homes[ALICE]),
         ALICE, str(nest.homes[MALLORY]), MALLORY, BOB, "/team/other"],
        capture_output=True, text=True, check=True, timeout=300,
    ).stdout)  # fmt: skip
    node = lie["node"]

    def listing(route: Any) -> None:
        response = route.fetch()
        doc = response.json()
        alice = next(i["owner"] for i in doc["incoming"] if i["owner_email"] == ALICE)
        hers = [{**i, "owner": alice} for i in doc["incoming"]
                if i["owner_email"] == MALLORY and i["space"] == node]  # fmt: skip
        doc["incoming"] = hers + [i for i in doc["incoming"] if i["space"] != node]
        route.fulfill(response=response, json=doc)

    bob = Page(chromium, nest, BOB)
    try:  # (lying from the start: Bob's browser never sees Alice's grant on /team/other)
        bob.context.route("**/v1/shares", listing)
        bob.context.route(f"**/v1/records/roster/{node}*", lambda r: r.fulfill(json=lie["roster"]))
        bob.context.route(
            f"**/v1/records/manifest/{node}*", lambda r: r.fulfill(json=lie["forged"])
        )
        bob.shared_tab()
        assert "Accepted" in bob.accept(nest.team_share), bob.status()
        assert "Accepted" in bob.accept(hello), bob.status()  # Bob verifies Mallory
        bob.share(nest.team_share).locator("button[data-action=open]").click()
        bob.page.wait_for_selector("#breadcrumb strong:text-is('@team')")
        bob.page.evaluate("document.getElementById('status').textContent = ''")
        bob.page.locator("#listing tr[data-name='other'] a.folder").click()
        bob.page.wait_for_selector("#status[data-state=error]", timeout=60_000)
        assert "Integrity check failed" in bob.status(), bob.status()
        assert bob.page.locator("#listing tr[data-name='injected.txt']").count() == 0
    finally:
        bob.close()
