"""`sync --watch`: run a sync when the local folder changed (filesystem events through
`watchdog`, debounced) and at least every `rescan` seconds (remote changes, and any
local event the OS dropped). Our own temporary files do not trigger a run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from blindvault.sync.apply import TMP

__all__ = ["watch"]

TICK = 0.2  # how often the loop looks at `stop` and the rescan clock (s)


class _Poke(FileSystemEventHandler):
    def __init__(self, changed: threading.Event) -> None:
        self.changed = changed

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type == "modified":
            return  # a folder's own mtime: its child's event says what changed
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads (ours too) change nothing
        if TMP not in str(event.src_path) + str(event.dest_path):
            self.changed.set()


def watch(
    roots: list[Path],
    run: Callable[[], None],
    *,
    debounce: float = 2.0,
    rescan: float = 60.0,
    stop: threading.Event | None = None,
) -> None:
    """Call `run` now, then after each quiet `debounce` following a change, and every
    `rescan` seconds; until `stop` is set (or Ctrl-C)."""
    stop = stop or threading.Event()
    changed = threading.Event()
    observer = Observer()
    for root in roots:
        observer.schedule(_Poke(changed), str(root), recursive=True)
    observer.start()
    try:
        run()
        last = time.monotonic()
        while not stop.is_set():
            if changed.wait(TICK):
                while changed.is_set() and not stop.is_set():  # quiet for `debounce`
                    changed.clear()
                    stop.wait(debounce)
            elif time.monotonic() - last < rescan:
                continue
            if stop.is_set():
                break
            run()
            changed.clear()  # what that run itself wrote
            last = time.monotonic()
    finally:
        observer.stop()
        observer.join()
