"""Smoke run of `blindvault bench core` on a tiny size: it runs and reports every row.
No timing is asserted: benchmarks report, tests check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blindvault.__main__ import main


def test_core_bench_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "core", "--size", str(4 * 2**20), "--quick"]) == 0
    out = capsys.readouterr().out
    for row in ("ceiling: bare AES-256-GCM", "blindvault format v1", "ratio", "Argon2id", "PBKDF2"):
        assert row in out


def test_core_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "core", "--size", str(4 * 2**20), "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["size"] == 4 * 2**20
    assert report["format_encrypt_mbs"] > 0
    assert report["encrypt_ratio"] > 0
    assert set(report["pbkdf2_ms"]) == {"1000", "10000"}


def test_work_folder_is_created(tmp_path: Path) -> None:
    """`--work DIR` makes DIR (and its parents) when it does not exist, and cleans up."""
    work = tmp_path / "new" / "scratch"
    assert main(["bench", "core", "--size", str(1 << 20), "--quick", "--work", str(work)]) == 0
    assert work.is_dir() and list(work.iterdir()) == []
