"""`blindvault webapp-hashes`: the SHA-384 of every file of the browser app in this release.

Anyone can compare them with what a server serves (`--check URL` does it): the page at
`/app/` is rendered the same on every server, so its hash is part of the release too. A
mismatch means the server runs other code than this release (exit 10, as any integrity
failure); an unreachable server exits 6.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys

import httpx

from blindvault import __version__
from blindvault.server.api.webapp import release_digest, served_hashes

__all__ = ["main"]

EXIT_MISMATCH = 10
EXIT_UNREACHABLE = 6


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="blindvault webapp-hashes",
        description="Print the expected hashes of the web app this release serves at /app/.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--check", metavar="URL", help="fetch every file from the server at URL and compare"
    )
    return p


def _sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def _check(base: str, expected: dict[str, str]) -> dict[str, str]:
    """path -> what the server served ('ok', 'differs', or 'HTTP nnn')."""
    out: dict[str, str] = {}
    with httpx.Client(base_url=base.rstrip("/"), timeout=30, follow_redirects=False) as client:
        for path, want in expected.items():
            r = client.get(path)
            if r.status_code != 200:
                out[path] = f"HTTP {r.status_code}"
            else:
                out[path] = "ok" if _sri(r.content) == want else "differs"
    return out


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    hashes = served_hashes()
    result: dict[str, object] = {
        "version": __version__,
        "release": release_digest(),
        "files": hashes,
    }
    code = 0
    if args.check:
        try:
            checked = _check(args.check, hashes)
        except httpx.HTTPError as exc:
            print(f"blindvault webapp-hashes: cannot reach {args.check}: {exc}", file=sys.stderr)
            return EXIT_UNREACHABLE
        result["check"] = checked
        if any(v != "ok" for v in checked.values()):
            code = EXIT_MISMATCH
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(f"blindvault {__version__} web app, release {result['release']}")
        for path, digest in hashes.items():
            status = f"  {checked[path]}" if args.check else ""
            print(f"{digest}  {path}{status}")
        if args.check:
            print("the server serves this release" if code == 0 else "MISMATCH: see above")
    return code
