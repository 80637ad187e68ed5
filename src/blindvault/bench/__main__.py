"""`python -m blindvault.bench SUITE` (also `blindvault bench SUITE`): run and print a report."""

from __future__ import annotations

import argparse
import json
import sys

from blindvault.bench.core import run_core


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="blindvault bench", description=__doc__)
    sub = parser.add_subparsers(dest="suite", required=True)
    core = sub.add_parser("core", help="crypto core vs the bare AES-GCM loop; KDF timings")
    core.add_argument("--size", type=int, default=2**30, help="bytes to encrypt (default 1 GiB)")
    core.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    core.add_argument(
        "--quick", action="store_true", help="skip the 1M-iteration PBKDF2 (for smoke runs)"
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    iterations = (1_000, 10_000) if args.quick else (1_000, 10_000, 100_000, 600_000, 1_000_000)
    report = run_core(args.size, pbkdf2_iterations=iterations)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(report.markdown(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
