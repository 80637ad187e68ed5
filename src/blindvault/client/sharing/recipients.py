"""Who a folder key may be sealed to: the owner-signed roster and this device's pins only.

The server's grant list (`GET /v1/shares`) is a hint for routing (share ids, the server's
account ids); it never decides who receives a key (P-RESEAL, P-PEERKEY, P-ROSTER):

- a recipient is a member of the verified, owner-signed roster;
- the key served for them must be the one the roster names (the owner vouched for it)
  *and* the one this device pinned; a member this device never pinned is refused unless
  the user confirms the roster's key interactively or passes `--trust-on-first-use`, or a
  member the owner lets re-share added them (a checked addition, P-RESHARE: the owner
  delegated that check to the re-sharing member), and is pinned once the work is done;
- a grant the server lists that the roster does not name is reported, never sealed to.

Everything is decided before anything is changed, so a refusal (exit 8) leaves the folder,
its keys and its grants as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from blindvault.core.group import is_group_email
from blindvault.core.identity import IdentityBundle
from blindvault.core.roster import Member, Roster
from blindvault.errors import PolicyError

__all__ = ["Recipient", "Recipients", "choose_recipients"]

Confirm = Callable[[str, bytes], bool]
Fetch = Callable[[str], IdentityBundle]  # the server's (self-signed, unpinned) bundle


@dataclass(frozen=True)
class Recipient:
    member: Member
    bundle: IdentityBundle  # equals the roster's fingerprint and this device's pin
    grant: dict[str, Any] | None  # the server's grant for this member, if it lists one


@dataclass(frozen=True)
class Recipients:
    chosen: list[Recipient]
    strangers: list[str]  # emails the server lists as grantees but the roster does not name
    newly_pinned: dict[str, str]  # email -> fingerprint hex, to pin once the work is done


def choose_recipients(
    roster: Roster,
    pins: dict[str, str],
    grants: Iterable[dict[str, Any]],
    fetch: Fetch,
    *,
    drop: str | None = None,
    trust_on_first_use: bool = False,
    confirm: Confirm | None = None,
) -> Recipients:
    """The members of `roster` (except `drop`) a key may be sealed to, with the server's
    grants matched to them; raises `PolicyError` for a member whose key is not pinned
    here (unless confirmed) or whose served key is not the roster's and the pin's."""
    by_email = {str(g.get("member_email", "")): g for g in grants}
    # a group's entry (issue 19) is re-sealed to the group by `client/groups.py`
    members = [m for m in roster.members if m.email != drop and not is_group_email(m.email)]
    named = {m.email for m in members} | ({drop} if drop else set())
    strangers = sorted(e for e in by_email if e not in named)
    chosen: list[Recipient] = []
    newly: dict[str, str] = {}
    for m in members:
        bundle = fetch(m.email)
        if bundle.email != m.email or bundle.fingerprint != m.fingerprint:
            raise PolicyError(
                f"the server serves a key for {m.email} that is not the one in the signed "
                "member list; nothing was sealed"
            )
        pinned = pins.get(m.email)
        if pinned is not None and pinned != m.fingerprint.hex():
            raise PolicyError(
                f"the key of {m.email} in the member list is not the one you verified; "
                "compare safety numbers, then `blindvault trust` again"
            )
        if pinned is None:
            # a member a re-sharing member added (a checked, signed addition): vouched for
            vouched = roster.granter(m.fingerprint) is not None
            ok = vouched or trust_on_first_use
            ok = ok or (confirm is not None and confirm(m.email, m.fingerprint))
            if not ok:
                raise PolicyError(
                    f"{m.email} is a member but not verified on this device: compare safety "
                    f"numbers, then `blindvault trust {m.email} --fingerprint ...`, or pass "
                    "--trust-on-first-use; nothing was changed"
                )
            newly[m.email] = m.fingerprint.hex()
        chosen.append(Recipient(m, bundle, by_email.get(m.email)))
    return Recipients(chosen, strangers, newly)
