"""The look-alike folder attack on nested shares (issue 19), for the CLI's and the browser's
adversarial tests: Mallory, a read-only member of /team, makes a folder of her own with the
node id of a nested share inside /team (node ids are the client's choice) and shares it
with another member, then forges the nested share's next version, signed by herself under
its real key (she reads that key in /team's manifest). A server that lists her grant as the
owner's and serves her roster would make her a writer of the owner's folder, unless the
member's device takes a nested share only from the owner of the share around it.

In a test process (`lookalike`, `forged_next`), or in a process of its own for the browser
tests (`python -c ... main URL PASSWORD OWNER_HOME OWNER MALLORY_HOME MALLORY VICTIM PATH`,
which prints the roster and the forged record as JSON)."""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Any

from blindvault.client.net.http import b64d, b64e
from blindvault.client.state import StateStore
from blindvault.client.tree import edits, now_ms
from blindvault.client.vault import Vault
from blindvault.core.keys import FileKey, FolderKey
from blindvault.core.manifest import (
    FileEntry,
    FolderEntry,
    ManifestBody,
    manifest_hash,
    seal_manifest,
)

__all__ = ["forged_next", "lookalike", "main"]


def lookalike(mallory: Vault, node: bytes, victim: str) -> dict[str, Any]:
    """Mallory's folder with `node` as its node id, shared with `victim`; her roster of it
    (the record as the server answers it)."""
    key = FolderKey.generate()
    mallory.session.tree.update(node, key, lambda b: b, 1, mallory.spaces.private, create=True)
    entry = FolderEntry("lookalike", node, key, 1, now_ms())
    mallory.files.update([], partial(edits.add_folder, entry=entry, where="/", exist_ok=False))
    mallory.shares.share("/lookalike", victim, trust_on_first_use=True)
    return dict(mallory.session.api.get_json(f"/v1/records/roster/{node.hex()}"))


def forged_next(owner: Vault, mallory: Vault, path: str) -> tuple[bytes, dict[str, Any]]:
    """The owner's folder at `path` (its node id) and its next version as a record, with a
    file `injected.txt` added, signed by Mallory under the folder's real key."""
    folder = owner.stat(path)
    if not isinstance(folder, FolderEntry):
        raise TypeError(f"{path} is not a folder")
    files = [
        f for e in owner.ls(path) if isinstance(f := owner.stat(f"{path}/{e.name}"), FileEntry)
    ]
    node = folder.node_id
    rec = dict(owner.session.api.get_json(f"/v1/records/manifest/{node.hex()}"))
    injected = FileEntry("injected.txt", os.urandom(16), FileKey.generate(), 1, 5, 1)
    entries = sorted([*files, injected], key=lambda e: e.name.encode())
    version = int(rec["version"]) + 1
    forged = seal_manifest(
        ManifestBody(tuple(entries), ()), folder.folder_key, node_id=node, version=version,
        key_version=folder.key_version, prev_hash=manifest_hash(b64d(rec["data"])),
        writer=mallory.opened.identity,
    )  # fmt: skip
    return node, {**rec, "version": version, "data": b64e(forged)}


def main() -> None:
    url, password, owner_home, owner, mallory_home, mallory, victim, path = sys.argv[1:9]
    with (
        Vault.open(url, owner, password, store=StateStore(Path(owner_home))) as o,
        Vault.open(url, mallory, password, store=StateStore(Path(mallory_home))) as m,
    ):
        node, forged = forged_next(o, m, path)
        roster = lookalike(m, node, victim)
    print(json.dumps({"node": node.hex(), "roster": roster, "forged": forged}))
