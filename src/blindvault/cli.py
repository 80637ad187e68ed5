"""The `blindvault` command line, on the SDK (`blindvault.client.vault.Vault`).

Exit codes (one per kind of failure; `docs/guide.md` lists them):
    0 success · 1 other error · 2 usage · 3 authentication · 4 not found · 5 conflict
    6 server unreachable or busy · 7 local file error · 8 refused by policy (KDF floor,
    pinned key changed, plain HTTP) · 9 malformed input · 10 integrity/authenticity
    failure (tampering, rollback): nothing unverified was written.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blindvault.client.state import StateStore
from blindvault.core.identity import safety_number
from blindvault.core.kdf import AccountKeys, KdfParams, derive_account_keys, normalize_email
from blindvault.errors import (
    AuthError,
    BlindvaultError,
    ConflictError,
    ForbiddenError,
    FormatError,
    IntegrityError,
    LocalError,
    NotFoundError,
    PolicyError,
    UnavailableError,
    UsageError,
)

if TYPE_CHECKING:
    from blindvault.client.vault import Vault

EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (IntegrityError, 10),
    (FormatError, 9),
    (PolicyError, 8),
    (LocalError, 7),
    (OSError, 7),
    (UnavailableError, 6),
    (ConflictError, 5),
    (NotFoundError, 4),
    (AuthError, 3),
    (ForbiddenError, 3),
    (UsageError, 2),
    (BlindvaultError, 1),
]


def exit_code(exc: BaseException) -> int:
    """The one place where failures become exit codes."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def message(exc: BaseException) -> str:
    if isinstance(exc, IntegrityError):
        return f"{exc}: the data was tampered with or damaged; nothing unverified was written"
    if isinstance(exc, OSError) and not isinstance(exc, BlindvaultError):
        return f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
    return str(exc)


# --- passwords -----------------------------------------------------------------------------

_STDIN: list[list[str]] = []


def _stdin_line() -> str:
    """The next line of standard input (read once: password, new password, words)."""
    if not _STDIN:
        _STDIN.append(sys.stdin.read().splitlines())
    if not _STDIN[0]:
        raise UsageError("expected a line on standard input")
    return _STDIN[0].pop(0)


def password(args: argparse.Namespace, *, new: bool = False) -> str:
    env = "BLINDVAULT_NEW_PASSWORD" if new else "BLINDVAULT_PASSWORD"
    if getattr(args, "password_stdin", False):
        return _stdin_line()
    if os.environ.get(env):
        return os.environ[env]
    if sys.stdin.isatty():
        first = getpass.getpass("New password: " if new else "Password: ")
        if new and getpass.getpass("Repeat it: ") != first:
            raise UsageError("the passwords differ")
        return first
    raise UsageError(f"no password: set {env}, use --password-stdin, or run on a terminal")


# --- progress ----------------------------------------------------------------------------------


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    if not sys.stderr.isatty() or total < (4 << 20):
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(
        total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, leave=False
    ) as bar:

        def advance(n: int) -> None:
            bar.update(n)

        yield advance


def _local_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


# --- commands ------------------------------------------------------------------------------------


def _store() -> StateStore:
    return StateStore()


_OPEN: list[Vault] = []


def _open(args: argparse.Namespace) -> Vault:
    store = _store()
    current = store.current()
    server = args.server or (current[0] if current else None)
    email = args.email or (current[1] if current else None)
    if not server or not email:
        raise AuthError(401, "not_logged_in", "not logged in: run `blindvault login` first")
    secret = password(args)
    early = _derive_early(store, server, email, secret)
    from blindvault.client.vault import Vault  # the HTTP stack loads after Argon2id ran

    vault = Vault.open(server, email, secret, store=store, insecure=args.insecure, derived=early)
    _OPEN.append(vault)
    return vault


def _derive_early(
    store: StateStore, server: str, email: str, secret: str
) -> tuple[KdfParams, AccountKeys] | None:
    """Run Argon2id with this device's pinned parameters before anything else is loaded.

    Its 64 MiB then come and go while the process is still small, which keeps the peak
    memory of every command under 100 MiB; `Vault.open` re-derives only if the server's
    parameters turn out to differ from the pin (and it checks them either way)."""
    state = store.load(server.rstrip("/"), normalize_email(email))
    if not state.kdf_pin or not state.token:
        return None
    params = KdfParams.from_json(state.kdf_pin)
    return params, derive_account_keys(secret, normalize_email(email), params, params)


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, indent=1, default=str))
    elif text:
        print(text)


def cmd_signup(args: argparse.Namespace) -> int:
    if not args.server or not args.email:
        raise UsageError("signup needs --server and --email")
    from blindvault.client.vault import Vault

    vault, words = Vault.signup(
        args.server,
        args.email,
        password(args, new=True),
        store=_store(),
        insecure=args.insecure,
        post_quantum=args.pq,
    )
    _OPEN.append(vault)
    phrase = " ".join(words)
    if args.recovery_file:
        fd = os.open(args.recovery_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(phrase + "\n")
        shown = f"Recovery words written to {args.recovery_file} (keep them offline)."
    else:
        shown = (
            "Your 24 recovery words — write them down now; they are shown only once:\n\n  "
            + "\n  ".join(" ".join(words[i : i + 6]) for i in range(0, 24, 6))
        )
    _print(
        args,
        {
            "email": vault.state.email,
            "server": vault.state.server,
            "fingerprint": vault.fingerprint.hex(),
            "recovery_words": None if args.recovery_file else words,
        },
        f"Account {vault.state.email} created on {vault.state.server}.\n{shown}",
    )
    return 0


def cmd_login(args: argparse.Namespace) -> int:
    if not args.server or not args.email:
        raise UsageError("login needs --server and --email")
    store = _store()
    state = store.load(args.server.rstrip("/"), args.email)
    state.token = ""  # a new device session
    store.save(state)
    from blindvault.client.vault import Vault

    vault = Vault.open(
        args.server,
        args.email,
        password(args),
        store=store,
        insecure=args.insecure,
        device_name=args.device_name,
        totp=args.totp,
    )
    _print(
        args,
        {"email": vault.state.email, "device_id": vault.state.device_id},
        f"Logged in as {vault.state.email} (device {vault.state.device_id}).",
    )
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    _open(args).logout()
    _print(args, {"logged_out": True}, "Logged out; this device's token is revoked.")
    return 0


def cmd_whoami(args: argparse.Namespace) -> int:
    vault = _open(args)
    fp = vault.fingerprint
    _print(
        args,
        {
            "email": vault.state.email,
            "server": vault.state.server,
            "device_id": vault.state.device_id,
            "fingerprint": fp.hex(),
            "safety_number": safety_number(fp),
        },
        f"{vault.state.email} on {vault.state.server}\nsafety number: {safety_number(fp)}",
    )
    return 0


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def cmd_ls(args: argparse.Namespace) -> int:
    entries = _open(args).ls(args.remote)
    if args.long:
        text = "\n".join(
            f"{'d' if e.kind == 'folder' else '-'} {e.size:>12} {_when(e.mtime_ms)} {e.name}"
            for e in entries
        )
    else:
        text = "\n".join(e.name + ("/" if e.kind == "folder" else "") for e in entries)
    _print(args, [asdict(e) for e in entries], text)
    return 0


def cmd_tree(args: argparse.Namespace) -> int:
    entries = list(_open(args).walk(args.remote))
    lines = []
    for e in entries:
        depth = e.path.count("/") - 1
        lines.append("  " * depth + e.name + ("/" if e.kind == "folder" else f"  ({e.size} B)"))
    _print(args, [asdict(e) for e in entries], "\n".join(lines))
    return 0


def cmd_mkdir(args: argparse.Namespace) -> int:
    _open(args).mkdir(args.remote, parents=args.parents)
    return 0


def cmd_put(args: argparse.Namespace) -> int:
    vault = _open(args)
    locals_ = [Path(p) for p in args.paths[:-1]]
    remote = args.paths[-1]
    if len(locals_) > 1 and not vault.is_folder(remote):
        raise UsageError(f"{remote} must be an existing folder when putting several items")
    made: list[str] = []
    for local in locals_:
        with progress_bar(_local_size(local) if local.exists() else 0, local.name) as bar:
            made += vault.put(local, remote, progress=bar)
    _print(args, made, "")
    return 0


def cmd_get(args: argparse.Namespace) -> int:
    vault = _open(args)
    remotes, local = args.paths[:-1], Path(args.paths[-1])
    if len(remotes) > 1 and not local.is_dir():
        raise UsageError(f"{local} must be an existing folder when getting several items")
    written: list[str] = []
    for remote in remotes:
        total = (
            sum(e.size for e in vault.walk(remote))
            if vault.is_folder(remote)
            else vault.ls(remote)[0].size
        )
        with progress_bar(total, remote) as bar:
            got = vault.get(remote, local, progress=bar, escape_names=args.escape_names)
            written += [str(p) for p in got]
    _print(args, written, "")
    return 0


def cmd_mv(args: argparse.Namespace) -> int:
    _open(args).mv(args.src, args.dst)
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    vault = _open(args)
    for remote in args.remote:
        vault.rm(remote, recursive=args.recursive)
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    if not args.server or not args.email:
        raise UsageError("recover needs --server and --email")
    words = _stdin_line() if not sys.stdin.isatty() else getpass.getpass("Recovery words: ")
    new = password(args, new=True)
    from blindvault.client.vault import Vault

    vault = Vault.recover(
        args.server, args.email, words, new, store=_store(), insecure=args.insecure, totp=args.totp
    )
    _OPEN.append(vault)
    _print(args, {"email": vault.state.email}, "Recovered; the new password is set.")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    vault = _open(args)
    if args.action == "revoke":
        if not args.id:
            raise UsageError("devices revoke needs a device ID")
        vault.revoke_device(args.id)
        _print(args, {"revoked": args.id}, f"Device {args.id} revoked.")
        return 0
    devices = vault.devices()
    text = "\n".join(
        f"{d['id']}  {d['name']:<20} last seen {_when(int(float(str(d['last_seen'])) * 1000))}"
        f"{'  (this device)' if d['current'] else ''}{'  revoked' if d['revoked'] else ''}"
        for d in devices
    )
    _print(args, devices, text)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    folders, files, problems = _open(args).verify(args.remote)
    text = "\n".join(f"PROBLEM {p.path}: {p.message}" for p in problems)
    text += f"\nverified {folders} folders and {files} files: {len(problems)} problem(s)"
    _print(
        args,
        {"folders": folders, "files": files, "problems": [asdict(p) for p in problems]},
        text.strip(),
    )
    return 10 if problems else 0


def cmd_trust(args: argparse.Namespace) -> int:
    vault = _open(args)
    shown = args.fingerprint
    if shown is None and not args.trust_on_first_use:
        if not sys.stdin.isatty():
            raise UsageError("give --fingerprint (checked out of band) or --trust-on-first-use")
        from blindvault.client.peers import fetch_bundle

        seen = fetch_bundle(vault.api, args.peer)
        sys.stderr.write(f"{args.peer}: safety number {safety_number(seen.fingerprint)}\n")
        if input("Does it match what they see? [y/N] ").strip().lower() != "y":
            raise UsageError("not trusted")
        shown = seen.fingerprint.hex()  # P-SHOWN: pin exactly this key, or refuse
    bundle = vault.trust(args.peer, shown, replace=args.replace)
    fp = bundle.fingerprint
    _print(
        args,
        {"email": bundle.email, "fingerprint": fp.hex(), "safety_number": safety_number(fp)},
        f"Trusted {bundle.email}: {safety_number(fp)}",
    )
    return 0


def cmd_fingerprint(args: argparse.Namespace) -> int:
    vault = _open(args)
    if args.peer:
        bundle, pinned = vault.peer(args.peer)
        fp = bundle.fingerprint
        _print(
            args,
            {
                "email": bundle.email,
                "fingerprint": fp.hex(),
                "safety_number": safety_number(fp),
                "pinned": pinned,
            },
            f"{safety_number(fp)}\n{fp.hex()}{'' if pinned else '  (not pinned)'}",
        )
        return 0
    fp = vault.fingerprint
    _print(
        args,
        {"fingerprint": fp.hex(), "safety_number": safety_number(fp)},
        f"{safety_number(fp)}\n{fp.hex()}",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", help="server URL (default: the logged-in one)")
    common.add_argument("--email", help="account email (default: the logged-in one)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument(
        "--password-stdin", action="store_true", help="read the password(s) from stdin"
    )
    common.add_argument(
        "--insecure", action="store_true", help="allow plain HTTP to a non-loopback host"
    )
    p = argparse.ArgumentParser(
        prog="blindvault",
        description="End-to-end encrypted storage.",
        epilog="Also: `blindvault server`, `blindvault bench`.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, parents=[common], help=help_, description=help_)
        sp.set_defaults(func=fn)
        return sp

    s = add("signup", cmd_signup, "create an account; shows the 24 recovery words once")
    s.add_argument("--recovery-file", type=Path, help="write the recovery words to this new file")
    s.add_argument(
        "--pq",
        action="store_true",
        help="post-quantum identity: shares to you are sealed with ML-KEM-768+X25519",
    )
    s = add("login", cmd_login, "log this device in")
    s.add_argument("--device-name", default=os.uname().nodename)
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    add("logout", cmd_logout, "revoke this device's session")
    add("whoami", cmd_whoami, "show the account and its safety number")
    s = add("fingerprint", cmd_fingerprint, "show your (or a peer's) safety number and fingerprint")
    s.add_argument("peer", nargs="?", help="a peer's email")
    s = add("trust", cmd_trust, "pin a peer's key after checking its safety number out of band")
    s.add_argument("peer", help="the peer's email")
    s.add_argument("--fingerprint", help="the fingerprint (hex) or safety number they read to you")
    s.add_argument("--trust-on-first-use", action="store_true", help="pin without a check")
    s.add_argument("--replace", action="store_true", help="re-pin a peer whose key changed")
    s = add("ls", cmd_ls, "list a folder")
    s.add_argument("remote", nargs="?", default="/")
    s.add_argument("-l", "--long", action="store_true")
    s = add("tree", cmd_tree, "list a folder recursively")
    s.add_argument("remote", nargs="?", default="/")
    s = add("mkdir", cmd_mkdir, "create a folder")
    s.add_argument("remote")
    s.add_argument("-p", "--parents", action="store_true")
    s = add("put", cmd_put, "upload files or folders: put LOCAL... REMOTE")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s = add("get", cmd_get, "download files or folders: get REMOTE... LOCAL")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--escape-names", action="store_true", help="write unsafe names as %%XX")
    s = add("mv", cmd_mv, "move or rename")
    s.add_argument("src")
    s.add_argument("dst")
    s = add("rm", cmd_rm, "remove files (and folders with -r)")
    s.add_argument("remote", nargs="+")
    s.add_argument("-r", "--recursive", action="store_true")
    s = add("recover", cmd_recover, "set a new password with the recovery words (read from stdin)")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    s = add("devices", cmd_devices, "list devices, or `devices revoke ID`")
    s.add_argument("action", nargs="?", choices=["list", "revoke"], default="list")
    s.add_argument("id", nargs="?")
    s = add("verify", cmd_verify, "download and authenticate every manifest and blob")
    s.add_argument("remote", nargs="?", default="/")
    from blindvault import cli_account, cli_links, cli_share

    cli_account.register(add)
    cli_links.register(add)
    cli_share.register(add)
    return p


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command in ("put", "get") and len(args.paths) < 2:
        sys.stderr.write(f"blindvault {args.command}: needs a source and a destination\n")
        return 2
    try:
        return int(args.func(args))
    except (BlindvaultError, OSError) as exc:
        sys.stderr.write(f"blindvault {args.command}: {message(exc)}\n")
        return exit_code(exc)
    except (KeyError, TypeError, ValueError, AttributeError):
        # a field of the server's answer missing or of the wrong type: fail closed, as a
        # malformed answer (everything read so far was verified; nothing was written)
        sys.stderr.write(f"blindvault {args.command}: the server sent a malformed answer\n")
        return exit_code(FormatError())
    except KeyboardInterrupt:
        sys.stderr.write(
            "interrupted; an unfinished upload resumes when you run the same put again\n"
        )
        return 130
    finally:
        _finish()


def _finish() -> None:
    """Keep what this command verified (high-water marks, roots, rosters) and close.

    The state only ever holds verified facts (nothing is remembered before it checks out),
    so it is saved after a failure too; a failed save is reported, never silent."""
    while _OPEN:
        vault = _OPEN.pop()
        try:
            if vault.state.token:
                vault.store.save(vault.state)
        except OSError as exc:
            sys.stderr.write(f"blindvault: could not save local state: {exc}\n")
        finally:
            vault.close()
