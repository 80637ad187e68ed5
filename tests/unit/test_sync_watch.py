"""`sync --watch` (issue 14): a run at start, one after a burst of local changes has been
quiet for the debounce, none for our own staging folders, and one per rescan period."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from blindvault.sync.watch import watch


def test_watch_debounces_changes_ignores_staging_and_rescans(tmp_path: Path) -> None:
    runs: list[float] = []
    stop = threading.Event()
    t = threading.Thread(
        target=watch,
        args=([tmp_path], lambda: runs.append(time.monotonic())),
        kwargs={"debounce": 0.3, "rescan": 60.0, "stop": stop},
    )
    t.start()
    try:
        time.sleep(0.5)
        assert len(runs) == 1  # the first sync, at start
        (tmp_path / ".blindvault-tmp-x").mkdir()  # our own staging: no run
        time.sleep(0.8)
        assert len(runs) == 1
        for i in range(5):  # a burst: one run after it is quiet
            (tmp_path / f"f{i}").write_text("x")
            time.sleep(0.05)
        time.sleep(1.2)
        assert len(runs) == 2
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()


def test_watch_rescans_periodically(tmp_path: Path) -> None:
    runs: list[float] = []
    stop = threading.Event()
    t = threading.Thread(
        target=watch,
        args=([tmp_path], lambda: runs.append(time.monotonic())),
        kwargs={"debounce": 0.1, "rescan": 0.3, "stop": stop},
    )
    t.start()
    time.sleep(1.1)
    stop.set()
    t.join(5)
    assert len(runs) >= 3  # at start and about every 0.3 s with no local change
