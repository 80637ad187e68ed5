"""A small notes program that stores its notes in its own blindvault app container.

It runs on an app credential only: it never sees the account's password, vault key or
files, and the server lets its token reach nothing but the container of
`com.example.notes` (and containers the user grants it).

    blindvault apps authorize com.example.notes --out notes.cred      # the user, once
    python examples/notes_app.py --credential notes.cred add groceries "milk, eggs"
    python examples/notes_app.py --credential notes.cred list
    python examples/notes_app.py --credential notes.cred show groceries
    python examples/notes_app.py --credential notes.cred rm groceries
    # with a read grant from another app (`apps grant com.example.notes com.example.b --read`):
    python examples/notes_app.py --credential notes.cred list --from com.example.b
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from blindvault.client.vault import Vault
from blindvault.errors import BlindvaultError

FOLDER = "/notes"


def _container(vault: Vault, other: str | None) -> Vault:
    """This app's own container, or one another app's container granted to it."""
    return vault.app(other) if other else vault


def add(vault: Vault, title: str, text: str) -> None:
    if not vault.exists(FOLDER):
        vault.mkdir(FOLDER)
    with tempfile.TemporaryDirectory() as tmp:
        note = Path(tmp) / f"{title}.txt"
        note.write_text(text, encoding="utf-8")
        vault.put(note, FOLDER)  # a new version if it exists: earlier ones are kept


def show(vault: Vault, title: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "note.txt"
        vault.get(f"{FOLDER}/{title}.txt", out)
        return out.read_text(encoding="utf-8")


def titles(vault: Vault) -> list[str]:
    if not vault.exists(FOLDER):
        return []
    return [e.name.removesuffix(".txt") for e in vault.ls(FOLDER) if e.kind == "file"]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--credential", type=Path, required=True, help="the app credential file")
    p.add_argument("--from", dest="other", help="read another app's (granted) container")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("add")
    a.add_argument("title")
    a.add_argument("text")
    sub.add_parser("list")
    s = sub.add_parser("show")
    s.add_argument("title")
    r = sub.add_parser("rm")
    r.add_argument("title")
    args = p.parse_args(argv)
    try:
        with Vault.open_app(args.credential) as vault:
            box = _container(vault, args.other)
            if args.cmd == "add":
                add(box, args.title, args.text)
            elif args.cmd == "list":
                print("\n".join(titles(box)))
            elif args.cmd == "show":
                print(show(box, args.title))
            else:
                box.rm(f"{FOLDER}/{args.title}.txt")
            vault.save()
    except BlindvaultError as exc:
        print(f"notes: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
