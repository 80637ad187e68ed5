"""`blindvault bench browser --quick` as a smoke run: both legs in Chromium, byte-exact,
beside the CLI, with heaps measured and the table rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blindvault.bench import browser


def test_quick_browser_bench(tmp_path: Path, chromium: Any) -> None:
    result = browser.run_browser(tmp_path, quick=True, browser=chromium)
    rows = result["rows"]
    assert [r["size"] for r in rows] == list(browser.QUICK_SIZES)
    for r in rows:
        assert r["browser_byte_exact"] is True  # the worker's blob decrypts back exactly
        assert r["browser_upload_s"] > 0
        assert r["browser_download_s"] > 0
        assert r["cli_put_s"] > 0
        assert r["cli_get_s"] > 0
        # the ratio is rounded to 2 decimals (0.06 for 0.0575): compare to that precision
        ratio = r["browser_upload_s"] / r["cli_put_s"]
        assert r["upload_vs_cli"] == pytest.approx(ratio, rel=0.02, abs=0.005)
        assert r["browser_memory_upload"]["samples"] >= 1
        assert r["browser_memory_download"]["service_worker_mib"] > 0
    table = browser.markdown(result)
    assert table.count("\n") == 2 + len(rows)
    assert "| 1 MB |" in table
