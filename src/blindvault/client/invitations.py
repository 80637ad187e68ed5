"""Invitations (issue 19): sharing with an email that has no account yet.

    vault.invitations.create("/docs", "new@example.org")      # nothing is sealed to anyone
    # … they sign up and read you their safety number (`blindvault fingerprint`) …
    vault.invitations.complete("new@example.org", "1234 5678 …")   # pins, then shares

An invitation is a note on this device (its account state): the folder or file, the address and
the role. Nothing is sent to the server and no key is sealed while the address has no
account. Completing it needs the new account's key checked against the number the person
gives out of band (or, on a terminal, confirmed when shown): a server that signs the
address up itself serves a key whose number nobody gave you, so it is refused (exit 8)
and nothing is sealed. Only then is it shared as `share` does, with every check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from blindvault.client.files import Files
from blindvault.client.peers import fetch_bundle, trust
from blindvault.client.shares import Shares
from blindvault.core.kdf import normalize_email
from blindvault.core.manifest import FileEntry, FolderEntry
from blindvault.errors import NotFoundError, UsageError

__all__ = ["Completed", "Invitation", "Invitations"]

Confirm = Callable[[str, bytes], bool]


@dataclass(frozen=True)
class Invitation:
    email: str
    remote: str
    write: bool
    created_at: float


@dataclass(frozen=True)
class Completed:
    email: str
    remote: str
    share_id: str


class Invitations:
    def __init__(self, files: Files, shares: Shares) -> None:
        self.files = files
        self.shares = shares
        self.session = files.session

    def has_account(self, email: str) -> bool:
        """Whether the server knows the address (a hint: keys are checked on completion)."""
        try:
            fetch_bundle(self.session.api, normalize_email(email))
        except NotFoundError:
            return False
        return True

    def create(self, remote: str, email: str, *, write: bool = False) -> Invitation:
        """Remember to share the folder or file `remote` with `email` once it has an
        account."""
        email = normalize_email(email)
        if email == self.session.state.email:
            raise UsageError(f"you own {remote} already")
        if remote.lstrip("/").startswith("@"):
            raise UsageError("only the owner of a shared folder can invite to it")
        if not isinstance(self.files.stat(remote), FolderEntry | FileEntry):
            raise UsageError(f"{remote} is not a folder or file of yours")
        item = Invitation(email, remote, write, time.time())
        kept = [i for i in self.pending() if (i.email, i.remote) != (email, remote)]
        self._keep([*kept, item])
        return item

    def pending(self) -> list[Invitation]:
        return [Invitation(**raw) for raw in self.session.state.invitations]

    def ready(self) -> list[Invitation]:
        """Pending invitations whose address has an account now."""
        return [i for i in self.pending() if self.has_account(i.email)]

    def cancel(self, email: str) -> list[Invitation]:
        email = normalize_email(email)
        gone = [i for i in self.pending() if i.email == email]
        self._keep([i for i in self.pending() if i.email != email])
        return gone

    def complete(
        self, email: str, fingerprint: str | None = None, *, confirm: Confirm | None = None
    ) -> list[Completed]:
        """Check the new account's key against `fingerprint` (hex or safety number, given
        by the person out of band) — or, without one, against what `confirm` showed and
        the user accepted — pin it, then share everything they were invited to."""
        email = normalize_email(email)
        mine = [i for i in self.pending() if i.email == email]
        if not mine:
            raise UsageError(f"no pending invitation for {email}")
        if not self.has_account(email):
            raise UsageError(f"{email} has no account yet: the invitation stays pending")
        if fingerprint is None:
            seen = fetch_bundle(self.session.api, email)
            if confirm is None or not confirm(email, seen.fingerprint):
                raise UsageError(
                    f"compare {email}'s safety number out of band and give it with --fingerprint"
                )
            fingerprint = seen.fingerprint.hex()  # P-SHOWN: exactly the key shown
        trust(self.session, email, fingerprint)  # mutant: invitations.check-key
        done: list[Completed] = []
        for item in mine:
            share_id = self.shares.share(item.remote, email, write=item.write)
            done.append(Completed(email, item.remote, share_id))
            self._keep([i for i in self.pending() if i != item])
        return done

    def _keep(self, items: list[Invitation]) -> None:
        self.session.state.invitations = [asdict(i) for i in items]
        self.session.save()
