"""CLI commands that replace key material: passwd [--new-recovery], recovery rotate.

Both send proof of the current password (or, after `recover`, of the recovery words) with
the change (P-KEYPROOF); a refusal exits 8 and changes nothing."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from blindvault.cli import _open, _print, password


def _show_words(args: argparse.Namespace, words: list[str]) -> str:
    phrase = " ".join(words)
    if args.recovery_file:
        fd = os.open(args.recovery_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(phrase + "\n")
        return f"New recovery words written to {args.recovery_file} (keep them offline)."
    return (
        "Your NEW 24 recovery words (the old ones no longer work) — write them down now; "
        "they are shown only once:\n\n  "
        + "\n  ".join(" ".join(words[i : i + 6]) for i in range(0, 24, 6))
    )


def cmd_passwd(args: argparse.Namespace) -> int:
    vault = _open(args)
    words = vault.change_password(
        password(args, new=True), new_recovery=args.new_recovery, totp=args.totp
    )
    text = "Password changed (the vault key was re-wrapped; other devices are signed out)."
    if words:
        text += "\n" + _show_words(args, words)
    data: dict[str, object] = {"objects_written": 1}
    if args.new_recovery:
        data["recovery_words"] = None if args.recovery_file else words
    _print(args, data, text)
    return 0


def cmd_recovery(args: argparse.Namespace) -> int:
    vault = _open(args)
    secret = password(args)  # the same password: only the recovery wrap and hash change
    words = vault.change_password(secret, new_recovery=True, totp=args.totp) or []
    _print(
        args,
        {"recovery_words": None if args.recovery_file else words, "objects_written": 1},
        _show_words(args, words),
    )
    return 0


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    s = add("passwd", cmd_passwd, "change the password (re-wraps one key)")
    s.add_argument("--new-recovery", action="store_true", help="also make new recovery words")
    s.add_argument("--recovery-file", type=Path, help="write the new words to this new file")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
    s = add("recovery", cmd_recovery, "`recovery rotate`: new recovery words; old ones stop")
    s.add_argument("action", choices=["rotate"])
    s.add_argument("--recovery-file", type=Path, help="write the new words to this new file")
    s.add_argument("--totp", help="the 6-digit code, if the account has TOTP")
