"""`python -m blindvault.bench SUITE`: run a benchmark suite and print its report."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    sys.stderr.write(f"no benchmark suite yet: {' '.join(args)}\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
