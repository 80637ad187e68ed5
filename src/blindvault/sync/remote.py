"""The remote side of a pair: a complete, verified listing of the remote folder.

Now a full walk of the signed manifests (every read is verified by the client; any
failure raises, so a partial listing is never returned and never read as deletes).
HOOK: when `Vault.changes(since)` (the blind change feed) lands, `listing` can start
from the previous listing kept in the index and re-read only the folders the feed names;
the feed stays a hint — what is listed still comes from the signed manifests."""

from __future__ import annotations

from dataclasses import dataclass, field

from blindvault.client.local.names import unsafe_reason
from blindvault.client.vault import Vault
from blindvault.core.manifest import FileEntry
from blindvault.sync.plan import Remote

__all__ = ["Listing", "join", "listing"]


def join(root: str, rel: str) -> str:
    return f"{root.rstrip('/')}/{rel}" if rel else root


@dataclass
class Listing:
    files: dict[str, Remote] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def listing(vault: Vault, root: str) -> Listing:
    """Every file under `root` (relative POSIX paths), with its node and content version.

    A name that is not safe on this OS, or two names that differ only by case, are left
    out with a warning (they would land on one local file)."""
    out = Listing()
    if not vault.exists(root):
        return out
    top = root.strip("/")  # listed paths are absolute: "/@team/a.txt" under "@team"
    prefix = top + "/" if top else ""
    folded: dict[str, str] = {}
    for e in vault.walk(root):
        if e.kind != "file":
            continue
        rel = e.path.lstrip("/")[len(prefix) :]
        bad = next((r for part in rel.split("/") if (r := unsafe_reason(part))), None)
        if bad is not None:
            out.warnings.append(f"skipped {e.path}: the name {bad}, not safe on this OS")
            continue
        other = folded.setdefault(rel.casefold(), rel)
        if other != rel:
            out.warnings.append(f"skipped {e.path}: differs only by case from {other}")
            out.files.pop(other, None)
            continue
        found = vault.stat(e.path)
        if isinstance(found, FileEntry):
            out.files[rel] = Remote(found.node_id, found.content_version, found.size)
    return out
