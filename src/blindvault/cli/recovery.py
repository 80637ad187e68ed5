"""`blindvault recovery ACTION`: recovery words and social (k-of-n) recovery (issue 17).

    recovery rotate                                   new recovery words; old ones stop
    recovery setup --threshold K --to EMAIL… [--wait 72h] [--print N]
    recovery status                                   the setup and requests (owner), or
                                                      this device's own request
    recovery veto ID                                  an owner device refuses a request
    recovery start --server URL --email E             a new device asks (id + code)
    recovery requests [--json]                        a contact lists requests naming them
    recovery approve ID --code CODE                   … and approves one (again later to
                                                      release once the wait is over)
    recovery finish [--request ID] [--shares-file F]  the new device sets a new password
    recovery cancel [--request ID]                    the new device withdraws its request

Refusals: a wrong code, a veto, an owner or contact not pinned here, fewer shares than the
threshold: exit 8, nothing sent or changed. Tampered objects: exit 10.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from blindvault.cli.account import password_flags, show_words
from blindvault.cli.context import Context
from blindvault.cli.prompts import when
from blindvault.core.identity import safety_number
from blindvault.core.social import parse_wait
from blindvault.errors import UsageError

__all__ = ["register"]


def _rotate(ctx: Context) -> int:
    args = ctx.args
    vault = ctx.open(password=True)
    secret = ctx.password()  # the same password: only the recovery wrap and hash change
    words = vault.change_password(secret, new_recovery=True, totp=args.totp) or []
    ctx.show(
        {"recovery_words": None if args.recovery_file else words, "objects_written": 1},
        show_words(args, words, new=True),
    )
    return 0


def _setup(ctx: Context) -> int:
    from blindvault.client import social

    args = ctx.args
    if args.threshold is None:
        raise UsageError("recovery setup needs --threshold K")
    contacts = list(args.to or [])
    wait_s = parse_wait(args.wait)
    vault = ctx.open(password=True)
    done = social.setup(
        vault.session, ctx.password(), contacts, threshold=args.threshold, wait_s=wait_s,
        printed=args.print or 0, totp=args.totp,
    )  # fmt: skip
    text = (
        f"Social recovery: any {args.threshold} of {len(contacts) + len(done.printed)} shares "
        f"recover the account, after a wait of {args.wait}; shares sealed to "
        f"{', '.join(contacts) or 'nobody'}.\n" + show_words(args, done.words, new=True)
    )
    for i, share in enumerate(done.printed, 1):
        text += f"\n\nPrinted share {i} (give it to an offline custodian):\n  {share}"
    ctx.show(
        {
            "threshold": args.threshold, "wait_seconds": wait_s, "contacts": contacts,
            "printed_shares": done.printed,
            "recovery_words": None if args.recovery_file else done.words,
        },
        text,
    )  # fmt: skip
    return 0


def _status(ctx: Context) -> int:
    from blindvault.client import requester, social

    folder = ctx.store().home / "recovery"
    if ctx.args.request or (folder.is_dir() and any(folder.glob("*.json"))):
        req = requester.load(ctx.store(), ctx.args.request)
        got = requester.collect(req, insecure=ctx.args.insecure)
        data = {
            "request_id": req.request_id, "email": req.email, "code": req.code,
            "state": got.state, "shares": len(got.shares), "threshold": got.threshold,
            "rejected": got.rejected,
        }  # fmt: skip
        ctx.show(
            data,
            f"request {req.request_id} for {req.email}: {got.state}; code {req.code}\n"
            f"{len(got.shares)} share(s) received (threshold {got.threshold or 'unknown yet'})",
        )
        return 0
    vault = ctx.open()
    setup, pending = social.status(vault.session)
    info: dict[str, object] = {"setup": None, "requests": [p.model_dump() for p in pending]}
    lines = []
    if setup is None:
        lines.append("No social recovery is set up.")
    else:
        info["setup"] = {
            "threshold": setup.threshold, "wait_seconds": setup.wait_s,
            "contacts": [c.email for c in setup.contacts], "printed": setup.printed,
        }  # fmt: skip
        lines.append(
            f"Social recovery: {setup.threshold} of {len(setup.contacts) + setup.printed}, "
            f"wait {setup.wait_s}s; contacts: {', '.join(c.email for c in setup.contacts)}"
        )
    for p in pending:
        lines.append(
            f"REQUEST {p.request_id} from {when(p.created_at)}: {p.state}, "
            f"{p.approvals} approval(s)" + ("" if p.state != "open" else
            " — not you? run `blindvault recovery veto " + p.request_id + "`")
        )  # fmt: skip
    ctx.show(info, "\n".join(lines))
    return 0


def _veto(ctx: Context) -> int:
    from blindvault.client import social

    if not ctx.args.id:
        raise UsageError("recovery veto needs the request ID")
    vault = ctx.open()
    social.veto(vault.session, ctx.args.id)
    ctx.show({"vetoed": ctx.args.id}, f"Request {ctx.args.id} vetoed.")
    return 0


def _start(ctx: Context) -> int:
    from blindvault.client import requester

    args = ctx.args
    if not args.server or not args.email:
        raise UsageError("recovery start needs --server and --email")
    req = requester.start(args.server, args.email, store=ctx.store(), insecure=args.insecure)
    ctx.show(
        {"request_id": req.request_id, "code": req.code},
        f"Recovery request {req.request_id}\ncode: {req.code}\n"
        "Tell each contact this code yourself (phone, in person); they approve with\n"
        f"  blindvault recovery approve {req.request_id} --code {req.code}\n"
        "then run `blindvault recovery finish`.",
    )
    return 0


def _requests(ctx: Context) -> int:
    from blindvault.client import social

    vault = ctx.open()
    listed, refused = social.incoming(vault.session)
    data = [
        {
            "request_id": i.request_id, "email": i.owner, "code": i.code,
            "vetoed": i.vetoed, "approved": i.approved_here, "released": i.released,
            "release_at": i.release_at_ms / 1000, "threshold": i.setup.threshold,
        }
        for i in listed
    ] + [{"request_id": r, "email": e, "refused": why} for r, e, why in refused]  # fmt: skip
    lines = [
        f"{i.request_id}  {i.owner}  "
        + ("VETOED by the owner" if i.vetoed else
           "released" if i.released else f"share released from {when(i.release_at_ms / 1000)}")
        + "\n  compare the code with the requester before approving (you do not see it here)"
        for i in listed
    ] + [f"{r}  {e}  cannot be approved: {why}" for r, e, why in refused]  # fmt: skip
    ctx.show(data, "\n".join(lines) or "No recovery requests name you.")
    return 0


def _approve(ctx: Context) -> int:
    from blindvault.client import social

    if not ctx.args.id:
        raise UsageError("recovery approve needs the request ID")
    vault = ctx.open()
    req = social.approve(vault.session, ctx.args.id, ctx.args.code)
    text = (
        "Approved: your share is sealed to the requesting device."
        if req.released
        else f"Code confirmed. Your share is released after {when(req.release_at_ms / 1000)} "
        f"(the owner's waiting period): run `blindvault recovery approve {req.request_id}` again."
    )
    ctx.show({"request_id": req.request_id, "released": req.released,
              "release_at": req.release_at_ms / 1000}, text)  # fmt: skip
    return 0


def _finish(ctx: Context) -> int:
    from blindvault.client import requester
    from blindvault.client.vault import Vault

    args = ctx.args
    req = requester.load(ctx.store(), args.request)
    printed = _read_shares(args.shares_file) if args.shares_file else None
    from blindvault.cli.account import new_password, shown_password

    password, made = new_password(ctx, req.email)  # the same strength rule as signup
    session = requester.finish(
        req, password, store=ctx.store(), insecure=args.insecure, printed=printed
    )
    vault = ctx.keep(Vault(session))
    ctx.store().set_current(vault.state.server, vault.state.email)
    number = safety_number(vault.fingerprint)
    ctx.show(
        {"email": req.email, "safety_number": number}
        | ({} if made is None else {"generated_password": made}),
        f"Recovered {req.email}; the new password is set.\nsafety number: {number}\n"
        "Compare it with a contact who verified you (`blindvault fingerprint EMAIL`)."
        + shown_password(made),
    )
    return 0


def _read_shares(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def _cancel(ctx: Context) -> int:
    from blindvault.client import requester

    req = requester.load(ctx.store(), ctx.args.request)
    requester.cancel(req, store=ctx.store(), insecure=ctx.args.insecure)
    ctx.show({"cancelled": req.request_id}, f"Request {req.request_id} cancelled.")
    return 0


ACTIONS: dict[str, Callable[[Context], int]] = {
    "rotate": _rotate, "setup": _setup, "status": _status, "veto": _veto, "start": _start,
    "requests": _requests, "approve": _approve, "finish": _finish, "cancel": _cancel,
}  # fmt: skip


def cmd_recovery(ctx: Context) -> int:
    return ACTIONS[ctx.args.action](ctx)


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("recovery", cmd_recovery, "recovery words (`rotate`) and social recovery")
    s.add_argument("action", choices=list(ACTIONS))
    s.add_argument("id", nargs="?", help="request ID (veto, approve)")
    s.add_argument("--threshold", type=int, help="setup: shares needed (K)")
    s.add_argument("--to", nargs="+", metavar="EMAIL", help="setup: the contacts (pinned)")
    s.add_argument("--wait", default="72h", help="setup: waiting period (72h, 2d, 0s)")
    s.add_argument("--print", type=int, metavar="N", help="setup: N printed shares too")
    s.add_argument("--code", help="approve: the code the requester read out to you")
    s.add_argument("--request", help="status/finish/cancel: which request of this device")
    s.add_argument("--shares-file", type=Path, help="finish: printed shares, one per line")
    s.add_argument("--recovery-file", type=Path, help="write the new words to this new file")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    password_flags(s)  # finish: the new password's strength check
