"""Names from a vault made safe to write on any OS (`get`).

A name in a manifest is authenticated, but its writer may use a name that another OS reads
as something else: `\\` is a path separator on Windows (`..\\x` escapes the target folder),
`:` names an alternate data stream, `CON`, `NUL`, `COM1`... (with any extension) are devices,
and a trailing dot or space is silently dropped. `get` refuses such a name with a clear
error (exit 2) on every OS, so a tree behaves the same wherever it is fetched, unless
`--escape-names` is given: then each of `\\ : * ? " < > |`, control characters and `%`
becomes `%XX` (its hex code), a reserved stem gets a `%` appended to it (`CON.txt` ->
`CON%.txt`), and a trailing dot or space becomes `%2E` / `%20`.
"""

from __future__ import annotations

import re

from blindvault.errors import UsageError

__all__ = ["local_name", "unsafe_reason"]

_BAD = re.compile(r'[\\:*?"<>|\x00-\x1f%]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in "123456789"}


def _reserved(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED


def unsafe_reason(name: str) -> str | None:
    """Why `name` is unsafe as a file name on some OS, or None."""
    found = {c for c in name if _BAD.match(c) and c != "%"}
    if found:
        return "contains " + " ".join(sorted(repr(c) for c in found))
    if _reserved(name):
        return "is a reserved device name on Windows"
    if name.endswith((".", " ")):
        return "ends with a dot or a space"
    return None


def _escaped(name: str) -> str:
    out = _BAD.sub(lambda m: f"%{ord(m.group(0)):02X}", name)
    if _reserved(out):
        stem, dot, rest = out.partition(".")
        out = f"{stem}%{dot}{rest}"
    if out.endswith((".", " ")):
        out = out[:-1] + f"%{ord(out[-1]):02X}"
    return out


def local_name(name: str, *, escape: bool, path: str) -> str:
    """The local file name for `name` (found at vault `path`); raises `UsageError` for an
    unsafe name unless `escape`."""
    reason = unsafe_reason(name)
    if reason is None:
        return name
    if not escape:
        raise UsageError(
            f"{path}: the name {reason}, which is not safe on every OS; "
            "run get with --escape-names to write it under an escaped name"
        )
    return _escaped(name)


def local_names(names: list[str], *, escape: bool, base: str) -> dict[str, str]:
    """Local names for one folder's entries (checked before anything is written there);
    two entries that would land on one local name are refused."""
    out = {n: local_name(n, escape=escape, path=f"{base.rstrip('/')}/{n}") for n in names}
    if len({v.casefold() for v in out.values()}) != len(out):
        raise UsageError(f"{base}: two names would be the same local file here")
    return out
