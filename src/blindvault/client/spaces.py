"""`Spaces`: where a path's records and blobs live and who may have written them.

Every folder is in exactly one `Space`: the private space (the account's own namespace),
a shared folder of one's own (its subtree, from that folder down), or an accepted
incoming share mounted as `@name`. `locate` walks a path from the signed root (or from a
verified mount) to the folder it names, switching to a shared space below a folder of
one's own that is shared. The server's grant list (`GET /v1/shares`) is cached per command
and is a hint only: a space is entered only through a verified roster or envelope.

A single file shared with people (issue 19) lives in a holder (`sharing/fileshares.py`):
the owner's own path names it as before, and `holder_at` / `current` give the holder's
(newer) version; a file shared with this account is `@shared/NAME`.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Collection
from dataclasses import dataclass

from blindvault.client.net.answers import Answer
from blindvault.client.session import Session
from blindvault.client.sharing.fileshares import Holder, own_holder, read_holder
from blindvault.client.sharing.grants import Mount, open_incoming
from blindvault.client.sharing.mounts import FILES, bind_file_name, bind_name, bound_name
from blindvault.client.sharing.rosters import load_roster, writers
from blindvault.client.tree import Folder, Space
from blindvault.core.fileshare import the_file
from blindvault.core.kdf import normalize_email
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import BlindvaultError, IntegrityError, NotFoundError, PathNotFoundError

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
        self._own: dict[bytes, tuple[Space, int]] = {}  # with the roster's key version
        self._mounts: dict[str, Mount] | None = None
        self._nested: dict[tuple[str, str], Mount | None] = {}

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
            self._nested = {}
        return self._listing

    def is_shared(self, node: bytes) -> bool:
        """Whether a folder (or file) of one's own is shared: listed, with a roster seen
        here, or with a roster the owner's signed root names."""
        spaces = {g["space"] for g in self.listing()["outgoing"]}
        if node.hex() in spaces or node.hex() in self.session.state.rosters:
            return True
        return self.session.tree.roster_head(node) is not None

    def forget_roster(self, node: bytes) -> None:
        """A new roster was written for `node`: its writers are read again when needed."""
        self._own.pop(node, None)

    def end_grants(self, node: bytes, keep: Collection[str] = ()) -> None:
        """A shared folder of one's own was removed: end every member's grant on it, but
        those of `keep` (the members of a shared folder around it, who read its trash)."""
        if not self.is_shared(node):
            return
        for g in self.listing(fresh=True)["outgoing"]:
            if g["space"] == node.hex() and g["member_email"] not in keep:
                with contextlib.suppress(NotFoundError):
                    self.session.api.request("DELETE", f"/v1/shares/{g['id']}")
        self.session.api.request("DELETE", f"/v1/groups/spaces/{node.hex()}")  # issue 19
        self.listing(fresh=True)

    def members(self, space: Space) -> set[str]:
        """The emails of the owner-signed roster of a shared folder of one's own (none for
        the private space or another account's share)."""
        if not space.shared or space.node_id is None or "owner" in space.api.params:
            return set()
        s = self.session
        roster, _ = load_roster(s, s.api, s.owner, space.node_id, s.identity.bundle)
        return {m.email for m in roster.members} if roster else set()

    # --- spaces -----------------------------------------------------------------------------

    def own(self, node: bytes) -> Space:
        """The space of one of this account's folders: its shared space if it is shared
        (with a verified roster), else the private space."""
        found = self._own_space(node)
        return found[0] if found else self.private

    def _own_space(self, node: bytes) -> tuple[Space, int] | None:
        """A shared node of one's own: its space and its roster's key version."""
        if not self.is_shared(node):
            return None
        if node not in self._own:
            me = self.session.identity.bundle
            roster, _ = load_roster(self.session, self.session.api, self.session.owner, node, me)
            if roster is None:
                return None
            api = self.session.api.scoped(None, node.hex())
            space = Space(api, writers(self.session, roster, me), node)
            self._own[node] = (space, roster.key_version)
        return self._own[node]

    def shared_file(self, entry: FileEntry) -> Holder | None:
        """The holder of a file of one's own (in the private space) that is shared."""
        found = self._own_space(entry.node_id)
        if found is None:
            return None
        return own_holder(self.session, entry.node_id, found[1], found[0])

    def current(self, entry: FileEntry, space: Space) -> FileEntry:
        """A file as listed in a folder of `space`, or, if it is one of one's own files
        that is shared, the holder's version of it under the listed name."""
        if space.shared:
            return entry
        holder = self.shared_file(entry)
        return entry if holder is None else dataclasses.replace(holder.entry, name=entry.name)

    def holder_at(self, parts: list[str]) -> Holder | None:
        """The shared file at `parts`: `@shared/NAME`, or a shared file of one's own."""
        if len(parts) >= 1 and parts[0] == "@" + FILES:
            found = self.file_mounts().get("/".join(parts[1:]))
            if found is None or len(parts) != 2:
                raise PathNotFoundError(f"no file shared with you as /{'/'.join(parts)}")
            return read_holder(self.session, found.node_id, found.key, found.key_version,
                               found.space)  # fmt: skip
        if not parts or parts[0].startswith("@"):
            return None
        at = self.locate(parts[:-1])
        if at.space.shared:
            return None
        folder, _ = self.session.tree.read(
            at.node_id, at.key, at.key_version, at.space, names=parts[-1:]
        )
        entry = folder.body.find(parts[-1])
        return self.shared_file(entry) if isinstance(entry, FileEntry) else None

    def file_space(self, parts: list[str]) -> Space:
        """Where the blobs of the file at `parts` live: a shared file's holder's space, else
        its folder's."""
        holder = self.holder_at(parts)
        return holder.space if holder is not None else self.space(parts[:-1])

    def below(self, space: Space, node: bytes) -> Space:
        """The space of sub-folder `node` of a folder in `space`: its own if it is shared
        on its own (a nested share, issue 19), else `space`.

        In one's own tree that is decided by one's own verified roster (and the signed root
        that names it); in another account's share by a grant on `node` from the same
        owner, opened and checked like any incoming share (envelope from the pinned owner,
        confirmed by the owner-signed roster). A grant the server hides leaves the folder
        in `space`, where its manifest is not found: an integrity error, never a guess."""
        if not space.shared:
            return self.own(node)
        owner = space.api.params.get("owner")
        # a shared folder of one's own: a nested share has its own space (its roster)
        if owner is None:  # mutant: sharing.nested-own-space
            found = self._own_space(node)
            return found[0] if found else space
        nested = self.nested_mount(space.owner_email, node)
        return nested.space if nested is not None else space

    def nested_mount(self, owner_email: str, node: bytes) -> Mount | None:
        """The verified grant on `node` inside a share of `owner_email` (accepted or not: a
        member of a folder is granted the nested shares inside it by its owner).

        Only a grant that names that owner is opened, and it opens only if that owner
        (pinned here) sealed it and signed its roster. A grant another account made on a
        folder with the same node id (node ids are the client's choice), which the server
        could list first and under this owner's account id, is never opened here: it could
        name its own writers, and nothing it says is remembered."""
        if (owner_email, node.hex()) in self._nested:
            return self._nested[(owner_email, node.hex())]
        mount = None
        for item in self.listing()["incoming"]:
            # mutant: sharing.nested-same-owner
            if normalize_email(str(item["owner_email"])) != owner_email:
                continue
            if item["space"] != node.hex():
                continue
            try:
                mount, _ = open_incoming(self.session, item)
            except BlindvaultError:
                continue  # reported by `shares`; never entered unverified
            break
        self._nested[(owner_email, node.hex())] = mount
        return mount

    def mounts(self) -> dict[str, Mount]:
        """Accepted, verified incoming folder shares by the mount name bound on this device."""
        return {n: m for n, m in self._all_mounts().items() if not n.startswith(FILES + "/")}

    def file_mounts(self) -> dict[str, Mount]:
        """Accepted, verified single files shared with this account, by `@shared/` name."""
        prefix = FILES + "/"
        return {
            n.removeprefix(prefix): m for n, m in self._all_mounts().items() if n.startswith(prefix)
        }

    def bind(self, owner: str, mount: Mount, name: str) -> str:
        """The name (owner, node) is bound to on this device; a new binding is a file
        (`shared/NAME`) if the share's top manifest is a holder of its own file."""
        bindings = self.session.state.mounts
        node = mount.node_id.hex()
        if bound_name(bindings, owner, node) is None and self._is_holder(mount):
            return bind_file_name(bindings, name, owner, node)
        return bind_name(bindings, name, owner, node)

    def _is_holder(self, mount: Mount) -> bool:
        folder, _ = self.session.tree.read(mount.node_id, mount.key, mount.key_version,
                                           mount.space)  # fmt: skip
        try:
            the_file(folder.body, mount.node_id)
        except IntegrityError:
            return False
        return True

    def _all_mounts(self) -> dict[str, Mount]:
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
            self._mounts = {}
            for owner, _, mount, name in sorted(found, key=lambda f: (f[0], f[1])):
                try:
                    self._mounts[self.bind(owner, mount, name)] = mount
                except BlindvaultError:
                    continue  # its top folder does not verify: never shown
        return self._mounts

    def mount(self, name: str) -> Mount:
        found = self.mounts().get(name)
        if found is None and name in self.session.state.mounts:  # known here, gone now
            raise PathNotFoundError(
                f"@{name} is not shared with you any more (its owner, or a group's owner, may "
                "have removed you); `blindvault shares` lists what is"
            )
        if found is None:
            raise PathNotFoundError(f"no accepted share named @{name} (see `blindvault shares`)")
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
            folder, _ = tree.read(
                here.node_id, here.key, here.key_version, here.space, names=parts[i : i + 1]
            )
            entry = folder.body.find(parts[i])
            if not isinstance(entry, FolderEntry):
                raise PathNotFoundError(f"no folder /{'/'.join(parts[: i + 1])}")
            space = self.below(here.space, entry.node_id)
            here = Location(entry.node_id, entry.folder_key, entry.key_version, space)
        return here

    def folder(self, parts: list[str], names: Collection[str] | None = None) -> Folder:
        """The verified folder at `parts`; with `names`, a paged folder's body may hold only
        the entries of the pages those names fall in (`Tree.read`)."""
        at = self.locate(parts)
        folder, _ = self.session.tree.read(
            at.node_id, at.key, at.key_version, at.space, names=names
        )
        return folder

    def space(self, parts: list[str]) -> Space:
        return self.locate(parts).space
