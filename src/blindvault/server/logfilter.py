"""One log line per burst, not per failed accept.

When the process runs out of file descriptors, asyncio logs every failed `accept()`
("socket.accept() out of system resource", with a traceback) — 126,899 lines in one
measured attack. This filter lets one such line through per `EVERY` seconds per process
and counts the rest into it."""

from __future__ import annotations

import logging
import time

EVERY = 60.0


class _AcceptErrors(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.last = 0.0
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if "accept" not in str(record.msg):
            return True
        now = time.monotonic()
        if now - self.last < EVERY:
            self.dropped += 1
            return False
        record.msg = f"{record.msg} (and {self.dropped} more like it since the last report)"
        record.exc_info = None
        self.last, self.dropped = now, 0
        return True


def quiet_accept_errors() -> None:
    logging.getLogger("asyncio").addFilter(_AcceptErrors())
