"""`ContainerSpaces`: the paths of one app container, for `Files`, `Uploads`, `Downloads`.

A container is one more kind of `Space`: its tree hangs from its own root folder, whose key
is the per-(account, app) container key, and its records and blobs live in the container's
space (the root node id). Paths are relative to that root: "/" is the container's root.
Nothing below it switches to another space: no mounts, no shared sub-folders.
"""

from __future__ import annotations

from collections.abc import Collection

from blindvault.client.net.answers import Answer
from blindvault.client.session import Session
from blindvault.client.sharing.grants import Mount
from blindvault.client.spaces import Location, Spaces
from blindvault.client.tree import Space
from blindvault.core.identity import IdentityBundle
from blindvault.core.keys import FolderKey
from blindvault.core.manifest import FolderEntry
from blindvault.errors import PathNotFoundError

__all__ = ["Container", "ContainerSpaces"]


class Container:
    """Where a container is and how it opens: root node, key, key version, writers."""

    def __init__(
        self,
        session: Session,
        app_id: str,
        node_id: bytes,
        key: FolderKey,
        key_version: int,
        writers: dict[bytes, IdentityBundle],
        *,
        writable: bool = True,
    ) -> None:
        self.app_id = app_id
        self.node_id = node_id
        self.key = key
        self.key_version = key_version
        self.writable = writable
        self.space = Space(session.api.scoped(None, node_id.hex()), writers, node_id)


class ContainerSpaces(Spaces):
    def __init__(self, session: Session, container: Container) -> None:
        super().__init__(session)
        self.container = container

    def listing(self, *, fresh: bool = False) -> Answer:
        return Answer({"incoming": [], "outgoing": []})

    def is_shared(self, node: bytes) -> bool:
        return False

    def end_grants(self, node: bytes, keep: Collection[str] = ()) -> None:
        return None

    def members(self, space: Space) -> set[str]:
        return set()

    def own(self, node: bytes) -> Space:
        return self.container.space

    def below(self, space: Space, node: bytes) -> Space:
        return self.container.space

    def mounts(self) -> dict[str, Mount]:
        return {}

    def locate(self, parts: list[str]) -> Location:
        """The folder at `parts` below the container's root, without reading it."""
        c = self.container
        here = Location(c.node_id, c.key, c.key_version, c.space)
        for i, name in enumerate(parts):
            if name.startswith("@"):
                raise PathNotFoundError(f"no folder /{'/'.join(parts[: i + 1])}")
            folder, _ = self.session.tree.read(here.node_id, here.key, here.key_version, c.space)
            entry = folder.body.find(name)
            if not isinstance(entry, FolderEntry):
                raise PathNotFoundError(f"no folder /{'/'.join(parts[: i + 1])}")
            here = Location(entry.node_id, entry.folder_key, entry.key_version, c.space)
        return here
