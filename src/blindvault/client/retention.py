"""Retention (issue 14): which earlier versions and trash items `forget` keeps.

`keep` is the pure policy, restic's `forget` semantics: everything written within
`keep_within` of now is kept; then, going from the newest item to the oldest, the newest
item of each of the last `daily` days, `weekly` ISO weeks and `monthly` months that have
an item is kept (each rule counts its own periods, an item kept by any rule is kept).
Unlike restic, `keep_within` counts back from now, not from the newest item (a version
is kept for 30 days after it was written, whatever comes later). Times are UTC. The
live version of a file is never dropped (it is what `get` reads); a trash item is kept
while it is younger than `keep_within` (the other rules do not apply to the trash).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from blindvault.client.trash import Trash, describe
from blindvault.client.tree import now_ms
from blindvault.core.manifest import Entry, FileEntry, ManifestBody
from blindvault.errors import UsageError

__all__ = ["DEFAULT_KEEP_WITHIN_MS", "Policy", "Retention", "keep"]

DEFAULT_KEEP_WITHIN_MS = 30 * 86400 * 1000


@dataclass(frozen=True)
class Policy:
    keep_within_ms: int = DEFAULT_KEEP_WITHIN_MS
    daily: int = 0
    weekly: int = 0
    monthly: int = 0

    def __post_init__(self) -> None:
        if min(self.keep_within_ms, self.daily, self.weekly, self.monthly) < 0:
            raise UsageError("retention counts and durations cannot be negative")


def _buckets() -> list[Callable[[datetime], tuple[int, ...]]]:
    return [
        lambda d: (d.year, d.month, d.day),
        lambda d: tuple(d.isocalendar())[:2],
        lambda d: (d.year, d.month),
    ]


def keep(times_ms: Sequence[int], policy: Policy, now: int) -> set[int]:
    """The indexes of `times_ms` (ms since the epoch) the policy keeps."""
    kept = {i for i, t in enumerate(times_ms) if t > now - policy.keep_within_ms}
    order = sorted(range(len(times_ms)), key=lambda i: -times_ms[i])
    for bucket, count in zip(
        _buckets(), (policy.daily, policy.weekly, policy.monthly), strict=True
    ):
        seen: set[tuple[int, ...]] = set()
        for i in order:
            if len(seen) >= count:
                break
            period = bucket(datetime.fromtimestamp(times_ms[i] / 1000, tz=UTC))
            if period not in seen:
                seen.add(period)
                kept.add(i)
    return kept


def _forget_versions(body: ManifestBody, policy: Policy, now: int) -> ManifestBody:
    entries: list[Entry] = []
    for e in body.entries:
        if not isinstance(e, FileEntry) or not e.history:
            entries.append(e)
            continue
        every = (e.as_version(), *e.history)
        chosen = keep([v.written_ms or v.mtime_ms for v in every], policy, now)
        history = tuple(v for i, v in enumerate(every) if i and i in chosen)
        entries.append(dataclasses.replace(e, history=history))
    return dataclasses.replace(body, entries=tuple(entries))


class Retention:
    def __init__(self, trash: Trash) -> None:
        self.trash = trash

    def forget(
        self, policy: Policy, *, dry_run: bool = False
    ) -> dict[str, list[dict[str, object]]]:
        """Drop the earlier versions and trash items the policy does not keep, from the signed
        manifests. A dropped version's blob stays until `prune`; a dropped trash item is
        deleted for good at once, as `trash empty` does."""
        now = now_ms()
        versions: list[dict[str, object]] = []
        for parts, folder in list(self.trash.folders()):
            after = _forget_versions(folder.body, policy, now)
            base = "/" + "/".join(parts)
            for old, new in zip(folder.body.entries, after.entries, strict=True):
                if isinstance(old, FileEntry) and isinstance(new, FileEntry):
                    gone = {v.content_version for v in old.history} - {
                        v.content_version for v in new.history
                    }
                    path = f"{base.rstrip('/')}/{old.name}"
                    versions.extend(
                        {"path": path, "version": v} for v in sorted(gone, reverse=True)
                    )
            if after != folder.body and not dry_run:
                self.trash.files.update(parts, partial(_forget_versions, policy=policy, now=now))
        if dry_run:
            cutoff = now - policy.keep_within_ms
            expired = [(p, i) for p, i in self.trash.items() if i.deleted_ms <= cutoff]
            trash = [dataclasses.asdict(describe(i, p)) for p, i in expired]
        else:
            trash = [
                dataclasses.asdict(t) for t in self.trash.empty(older_than_ms=policy.keep_within_ms)
            ]
        return {"versions": versions, "trash": trash}
