"""`Spaces`: where a path's records and blobs live and who may have written them.

Every folder is in exactly one `Space`: the private space (the account's own namespace),
a shared folder of one's own (its subtree, from that folder down), or an accepted
incoming share mounted as `@name`. `locate` walks a path from the signed root (or from a
verified mount) to the folder it names, switching to a shared space below a folder of
one's own that is shared. The server's grant list (`GET /v1/shares`) is cached per command
and is a hint only: a space is entered only through a verified roster or envelope.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from blindvault.client.net.answers import Answer
from blindvault.client.session import Session
from blindvault.client.sharing.grants import Mount, open_incoming
from blindvault.client.sharing.mounts import bind_name
from blindvault.client.sharing.rosters import load_roster, writers
from blindvault.client.tree import Folder, Space
from blindvault.core.kdf import normalize_email
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FolderEntry
from blindvault.errors import BlindvaultError, NotFoundError, PathNotFoundError

__all__ = ["Location", "Spaces"]


@dataclass(frozen=True)
class Location:
    """A folder found by path, not yet read: node, key, key version and space."""

    node_id: bytes
    key: FolderKey
    key_version: int
    space: Space


class Spaces:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._listing: Answer | None = None
        self._own: dict[bytes, Space] = {}
        self._mounts: dict[str, Mount] | None = None

    @property
    def private(self) -> Space:
        return self.session.tree.private

    # --- what the server lists ------------------------------------------------------------

    def listing(self, *, fresh: bool = False) -> Answer:
        """The server's grants (`incoming`, `outgoing`); cached until `fresh`."""
        if self._listing is None or fresh:
            # a hint only, read field by field (a missing field is FormatError): a grant
            # the server adds or garbles must not hide the verified ones
            self._listing = self.session.api.get_json("/v1/shares")
            self._own.clear()
            self._mounts = None
        return self._listing

    def is_shared(self, node: bytes) -> bool:
        """Whether a folder of one's own is shared (listed, or with a roster seen here)."""
        spaces = {g["space"] for g in self.listing()["outgoing"]}
        return node.hex() in spaces or node.hex() in self.session.state.rosters

    def forget_roster(self, node: bytes) -> None:
        """A new roster was written for `node`: its writers are read again when needed."""
        self._own.pop(node, None)

    def end_grants(self, node: bytes) -> None:
        """A shared folder of one's own was removed: end every member's grant on it."""
        if not self.is_shared(node):
            return
        for g in self.listing(fresh=True)["outgoing"]:
            if g["space"] == node.hex():
                with contextlib.suppress(NotFoundError):
                    self.session.api.request("DELETE", f"/v1/shares/{g['id']}")
        self.listing(fresh=True)

    # --- spaces -----------------------------------------------------------------------------

    def own(self, node: bytes) -> Space:
        """The space of one of this account's folders: its shared space if it is shared
        (with a verified roster), else the private space."""
        if not self.is_shared(node):
            return self.private
        if node not in self._own:
            me = self.session.identity.bundle
            roster, _ = load_roster(self.session, self.session.api, self.session.owner, node, me)
            if roster is None:
                return self.private
            api = self.session.api.scoped(None, node.hex())
            self._own[node] = Space(api, writers(self.session, roster, me), node)
        return self._own[node]

    def below(self, space: Space, node: bytes) -> Space:
        """The space of sub-folder `node` of a folder in `space`."""
        return space if space.shared else self.own(node)

    def mounts(self) -> dict[str, Mount]:
        """Accepted, verified incoming shares by the mount name bound on this device."""
        if self._mounts is None:
            found: list[tuple[str, str, Mount, str]] = []
            for item in self.listing()["incoming"]:
                if not item["accepted"]:
                    continue
                try:
                    mount, name = open_incoming(self.session, item)
                except BlindvaultError:
                    continue  # reported by `shares`; never shown unverified
                owner = normalize_email(str(item["owner_email"]))
                found.append((owner, mount.node_id.hex(), mount, name))
            bindings = self.session.state.mounts
            self._mounts = {}
            for owner, node, mount, name in sorted(found, key=lambda f: (f[0], f[1])):
                self._mounts[bind_name(bindings, name, owner, node)] = mount
        return self._mounts

    def mount(self, name: str) -> Mount:
        found = self.mounts().get(name)
        if found is None:
            raise PathNotFoundError(f"no accepted share named @{name}")
        return found

    # --- paths ------------------------------------------------------------------------------

    def locate(self, parts: list[str]) -> Location:
        """The folder at `parts`, without reading it.

        A first component `@name` is an accepted incoming share; a folder of one's own that
        is shared switches to its shared space for everything below it."""
        tree = self.session.tree
        if parts and parts[0].startswith("@"):
            m = self.mount(parts[0][1:])
            here, skip = Location(m.node_id, m.key, m.key_version, m.space), 1
        else:
            opened = self.session.keys()
            here, skip = Location(opened.bundle.root_node, opened.root_key, 1, self.private), 0
        for i in range(skip, len(parts)):
            folder, _ = tree.read(here.node_id, here.key, here.key_version, here.space)
            entry = folder.body.find(parts[i])
            if not isinstance(entry, FolderEntry):
                raise PathNotFoundError(f"no folder /{'/'.join(parts[: i + 1])}")
            space = self.below(here.space, entry.node_id)
            here = Location(entry.node_id, entry.folder_key, entry.key_version, space)
        return here

    def folder(self, parts: list[str]) -> Folder:
        """The verified folder at `parts`."""
        at = self.locate(parts)
        folder, _ = self.session.tree.read(at.node_id, at.key, at.key_version, at.space)
        return folder

    def space(self, parts: list[str]) -> Space:
        return self.locate(parts).space
