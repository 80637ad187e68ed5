"""`blindvault admin`: operator commands run on the server host, against the database.

    blindvault admin [--data DIR] [--db URL] invite [--valid-days N]
    blindvault admin [--data DIR] [--db URL] quota EMAIL SIZE
    blindvault admin [--data DIR] [--db URL] restore-keys EMAIL
    blindvault admin [--data DIR] ca create|show      (admin_ca.py)

`--data`/`--db` default as for `blindvault server`. Exit codes follow docs/guide.md:
0 done, 2 usage, 4 no such account / nothing to restore.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sqlalchemy import Connection, Engine, select, update

from blindvault.server import admin_ca
from blindvault.server.cli import default_data
from blindvault.server.domain import audit as audit_log
from blindvault.server.domain.changes import compact_all
from blindvault.server.domain.emails import normalize_email
from blindvault.server.domain.invites import new_invite
from blindvault.server.domain.keyhistory import NothingToRestoreError, restore
from blindvault.server.errors import ApiError
from blindvault.server.storage.db import make_engine, migrate
from blindvault.server.storage.schema import accounts

_UNITS = {"": 1, "B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_SIZE_RE = re.compile(r"^\s*([0-9]+)\s*([KMGT]?)(I?)B?\s*$")
_MAX_QUOTA = (1 << 63) - 1


def parse_size(text: str) -> int:
    """`100GiB`, `500M`, `1TB`, `12345` → bytes (K/M/G/T decimal, KiB/MiB/… binary)."""
    m = _SIZE_RE.match(text.upper())
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 500MiB, 100G, 1TB, 12345)")
    number, unit, binary = int(m.group(1)), m.group(2), m.group(3)
    if binary and not unit:
        raise ValueError(f"not a size: {text!r}")
    factor = 1024 ** ("KMGT".index(unit) + 1) if binary else _UNITS[unit]
    size = number * factor
    if size > _MAX_QUOTA:
        raise ValueError("size too large")
    return size


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="blindvault admin", description="Server operator commands.")
    p.add_argument("--data", default=None, help="data folder (as for `blindvault server`)")
    p.add_argument("--db", default=None, help="postgresql://… (default: SQLite in --data)")
    sub = p.add_subparsers(dest="command", required=True)
    inv = sub.add_parser("invite", help="create a single-use signup invite code")
    inv.add_argument("--valid-days", type=float, default=7.0, help="default 7")
    quota = sub.add_parser("quota", help="set an account's storage quota")
    quota.add_argument("email")
    quota.add_argument("size", help="e.g. 500MiB, 100GiB, 1TB, or bytes")
    keys = sub.add_parser(
        "restore-keys", help="put back an account's previous key bundle (signs all devices out)"
    )
    keys.add_argument("email")
    feed = sub.add_parser(
        "compact-feed", help="compact every account's change feed (older readers re-walk)"
    )
    feed.add_argument("--keep", type=int, default=10_000, help="newest entries kept whole")
    admin_ca.add_parser(sub)
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    data = Path(args.data) if args.data else default_data()
    if args.command == "ca":
        return admin_ca.run(args, data)
    if args.db is None:
        data.mkdir(parents=True, exist_ok=True)
    engine = make_engine(args.db or f"sqlite:///{data / 'blindvault.sqlite3'}")
    try:
        migrate(engine)
        return _run(args, engine)
    finally:
        engine.dispose()


def _account_id(conn: Connection, email: str) -> str | None:
    row = conn.execute(select(accounts.c.id).where(accounts.c.email == email)).first()
    return None if row is None else str(row.id)


def _run(args: argparse.Namespace, engine: Engine) -> int:
    if args.command == "invite":
        if not 0 < args.valid_days <= 3650:
            sys.stderr.write("blindvault admin: --valid-days must be between 0 and 3650\n")
            return 2
        with engine.begin() as conn:
            code = new_invite(conn, args.valid_days * 86400)
        sys.stdout.write(code + "\n")
        return 0
    if args.command == "compact-feed":
        if args.keep < 0:
            sys.stderr.write("blindvault admin: --keep must be 0 or more\n")
            return 2
        with engine.begin() as conn:
            dropped = compact_all(conn, args.keep)
        sys.stdout.write(f"change feed: {dropped} entries dropped\n")
        return 0
    try:
        email = normalize_email(args.email)
    except ApiError as exc:
        sys.stderr.write(f"blindvault admin: {exc.message}\n")
        return 2
    if args.command == "quota":
        try:
            size = parse_size(args.size)
        except ValueError as exc:
            sys.stderr.write(f"blindvault admin: {exc}\n")
            return 2
        with engine.begin() as conn:
            account_id = _account_id(conn, email)
            if account_id is None:
                sys.stderr.write(f"blindvault admin: no account {email}\n")
                return 4
            conn.execute(
                update(accounts).where(accounts.c.id == account_id).values(quota_bytes=size)
            )
            audit_log.record(conn, account_id, "quota_changed", quota_bytes=size)
        sys.stdout.write(f"{email}: quota {size} bytes\n")
        return 0
    with engine.begin() as conn:
        account_id = _account_id(conn, email)
        if account_id is None:
            sys.stderr.write(f"blindvault admin: no account {email}\n")
            return 4
        try:
            version = restore(conn, account_id)
        except NothingToRestoreError:
            sys.stderr.write(f"blindvault admin: {email} has no previous key bundle\n")
            return 4
    sys.stdout.write(
        f"{email}: previous key bundle (version {version}) restored; all devices signed out\n"
    )
    return 0
