"""`blindvault admin recovery-key create` and `blindvault admin recover EMAIL`: the server
operator's organisation recovery key (issue 17, part 2). Run on the server host, against
the database, like the other `admin` commands; unlike them they need the crypto core.

    blindvault admin [--data DIR] [--db URL] recovery-key create [--name N] [--key-file F]
    blindvault admin [--data DIR] [--db URL] recover EMAIL [--key-file F]   (else words on stdin)

`create` makes the key pair and shows its private half once (24 words, and the file when
asked); the server then publishes the self-signed public document. `recover` opens the
account's escrow with the private key, wraps the vault key under NEW recovery words (the
only key change made; the password stays unknown to the operator), writes the account's
audit log ("org_recovery_used"), signs every device out, and prints the words to hand to
the user, who runs `blindvault recover` and sets a new password. The private key never
leaves this process. Exit codes: 0 done, 2 usage or wrong key, 4 no such account or no
escrow, 10 an escrow or key bundle that does not open.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from blindvault.core.kdf import account_id, normalize_email, recovery_auth_key
from blindvault.core.keybundle import KeyBundle
from blindvault.core.keys import RecoveryKey
from blindvault.core.orgkey import OrgKey, OrgPublic
from blindvault.core.recovery import recovery_key_from_words, recovery_words
from blindvault.errors import BlindvaultError, FormatError, IntegrityError

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = ["handles", "main"]

COMMANDS = ("recovery-key", "recover")


def handles(argv: list[str]) -> bool:
    """Does `admin argv` name one of these commands (after --data/--db and their values)?"""
    i = 0
    while i < len(argv) and argv[i] in ("--data", "--db"):
        i += 2
    while i < len(argv) and argv[i].startswith(("--data=", "--db=")):
        i += 1
    return i < len(argv) and argv[i] in COMMANDS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blindvault admin", description="Organisation recovery key.")
    p.add_argument("--data", default=None)
    p.add_argument("--db", default=None)
    sub = p.add_subparsers(dest="command", required=True)
    key = sub.add_parser("recovery-key", help="create the organisation recovery key")
    key.add_argument("action", choices=["create"])
    key.add_argument("--name", default="organisation recovery key")
    key.add_argument("--key-file", type=Path, help="also write the private key to this new file")
    rec = sub.add_parser("recover", help="give a user new recovery words from their escrow")
    rec.add_argument("email")
    rec.add_argument("--key-file", type=Path, help="the private key file (else words on stdin)")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from blindvault.server.cli import default_data
    from blindvault.server.storage.db import make_engine, migrate

    data = Path(args.data) if args.data else default_data()
    if args.db is None:
        data.mkdir(parents=True, exist_ok=True)
    engine = make_engine(args.db or f"sqlite:///{data / 'blindvault.sqlite3'}")
    try:
        migrate(engine)
        with engine.begin() as conn:
            return _create(conn, args) if args.command == "recovery-key" else _recover(conn, args)
    except (BlindvaultError, OSError) as exc:
        code = 10 if isinstance(exc, IntegrityError) else 4 if isinstance(exc, LookupError) else 2
        sys.stderr.write(f"blindvault admin: {exc}\n")
        return code
    finally:
        engine.dispose()


def _create(conn: Connection, args: argparse.Namespace) -> int:
    from blindvault.server.domain import orgkeys

    secret = RecoveryKey.generate()
    public = OrgKey.from_recovery(secret).public(args.name, int(time.time() * 1000))
    words = " ".join(recovery_words(secret))
    if args.key_file:
        fd = os.open(args.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(words + "\n")
    orgkeys.add_key(conn, public.key_id, public.document)
    sys.stdout.write(
        f"Organisation recovery key {public.key_id} created and published.\n"
        "Its PRIVATE half, shown only this once — keep it offline (a safe, not this host):\n"
        f"  {words}\n" + (f"(also written to {args.key_file})\n" if args.key_file else "")
    )
    return 0


class _MissingError(BlindvaultError, LookupError):
    pass


def _recover(conn: Connection, args: argparse.Namespace) -> int:
    from sqlalchemy import select, update

    from blindvault.server.domain import audit
    from blindvault.server.domain.credentials import hash_secret
    from blindvault.server.domain.keyhistory import push
    from blindvault.server.storage.schema import accounts, devices, org_escrows, org_keys

    email = normalize_email(args.email)
    row = conn.execute(select(accounts).where(accounts.c.email == email)).first()
    if row is None:
        raise _MissingError(f"no account {email}")
    escrow = conn.execute(select(org_escrows).where(org_escrows.c.owner == row.id)).first()
    if escrow is None:
        raise _MissingError(f"{email} has no escrow (no consent to organisation recovery)")
    doc = conn.execute(select(org_keys.c.document).where(org_keys.c.id == escrow.org_key)).first()
    if doc is None:
        raise _MissingError("the escrow's organisation key is not on this server")
    public = OrgPublic.decode(bytes(doc.document))
    text = args.key_file.read_text(encoding="utf-8") if args.key_file else sys.stdin.readline()
    key = OrgKey.from_recovery(recovery_key_from_words(text))
    if not key.matches(public):
        raise FormatError("that private key is not the organisation key of this escrow")
    owner = account_id(email)
    vault = key.open_escrow(bytes(escrow.escrow), public, owner, email)
    bundle = KeyBundle.decode(bytes(row.key_bundle))
    if bundle.owner != owner or bundle.version != row.key_bundle_version:
        raise IntegrityError("the stored key bundle is not this account's")
    recovery = RecoveryKey.generate()
    new = bundle.with_new_recovery(vault, recovery)
    new.open_with_recovery(recovery, email)  # the escrowed key really opens this account
    push(conn, row)
    conn.execute(
        update(accounts)
        .where(accounts.c.id == row.id)
        .values(key_bundle=new.encode(), key_bundle_version=new.version,
                recovery_hash=hash_secret(recovery_auth_key(recovery).material))
    )  # fmt: skip
    conn.execute(update(devices).where(devices.c.account_id == row.id).values(revoked=True))
    audit.record(conn, row.id, "org_recovery_used", org_key=public.key_id, version=new.version)
    sys.stdout.write(
        f"{email}: the vault key was re-wrapped under new recovery words (all devices signed "
        "out; this is in the account's audit log). Hand these to the user in person; they run "
        "`blindvault recover` and set a new password, then `blindvault recovery rotate`:\n"
        f"  {' '.join(recovery_words(recovery))}\n"
    )
    return 0
