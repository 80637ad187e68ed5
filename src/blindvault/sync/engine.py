"""One sync of one pair: scan, list, merge, apply (or only show, with `dry_run`)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from blindvault.client.vault import Vault
from blindvault.errors import UsageError
from blindvault.sync.apply import Applier, Outcome
from blindvault.sync.index import Index, Pair
from blindvault.sync.plan import Action, plan
from blindvault.sync.remote import Snapshot, listing
from blindvault.sync.scan import scan

__all__ = ["DEVICE_ENV", "Report", "device_name", "index_path", "sync_once"]

DEVICE_ENV = "BLINDVAULT_DEVICE_NAME"


def device_name() -> str:
    """The DEVICE in conflict copies' names: $BLINDVAULT_DEVICE_NAME, else the host name."""
    raw = os.environ.get(DEVICE_ENV) or socket.gethostname().split(".")[0] or "device"
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in raw)[:40]


def index_path(home: Path) -> Path:
    return home / "sync" / "index.sqlite"


@dataclass
class Report:
    local: str
    remote: str
    planned: list[Action] = field(default_factory=list)
    outcome: Outcome = field(default_factory=Outcome)
    hashed: int = 0
    read_folders: int = 0  # remote folders read (an unchanged remote: 0, one feed request)
    dry_run: bool = False

    def as_json(self) -> dict[str, object]:
        acts = self.planned if self.dry_run else self.outcome.done
        return {
            "local": self.local,
            "remote": self.remote,
            "dry_run": self.dry_run,
            "actions": [{"action": str(a.kind), "path": a.path, "to": a.to} for a in acts],
            "conflicts": self.outcome.conflicts,
            "warnings": self.outcome.warnings,
            "hashed": self.hashed,
            "read_folders": self.read_folders,
        }


def sync_once(vault: Vault, index: Index, pair: Pair, *, dry_run: bool = False) -> Report:
    """List the remote first (verified, complete — an integrity error stops here, before
    anything local changes; cheap through the change feed, see `sync.remote`), then scan,
    merge and apply."""
    root = Path(pair.local)
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder")
    kept = index.snapshot(pair)
    remote, snap = listing(vault, pair.remote, Snapshot.loads(kept) if kept else None)
    if not dry_run:  # the remote as of the feed position: our own writes show up next time
        index.keep(pair, snap.dumps() if snap is not None else None)
    local = scan(root, index.stats(pair))
    actions = plan(index.bases(pair), local.files, remote.files)
    report = Report(pair.local, pair.remote, actions, hashed=local.hashed, dry_run=dry_run)
    report.read_folders = remote.reads
    report.outcome.warnings += remote.warnings + local.warnings
    if dry_run:
        return report
    sizes = {rel: r.size for rel, r in remote.files.items()}
    Applier(vault, index, pair, local, device_name(), report.outcome, sizes=sizes).run(actions)
    return report
