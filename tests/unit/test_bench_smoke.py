"""Smoke run of `blindvault bench core` on a tiny size: it runs and reports every row.
No timing is asserted: benchmarks report, tests check."""

from __future__ import annotations

import json

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
