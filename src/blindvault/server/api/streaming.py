"""Blob bytes out: whole or one HTTP range, streamed from the store, optionally counted
(a share link's download budget is charged per byte sent)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import Response
from fastapi.responses import StreamingResponse
from starlette.types import Send

from blindvault.server.context import ServerContext
from blindvault.server.errors import ApiError

INLINE = 64 << 10  # bodies up to this size are read whole, not streamed
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    if header is None:
        return None
    m = _RANGE.match(header.strip()) if len(header) <= 64 else None  # no 4,300-digit numbers
    if m is None or (not m.group(1) and not m.group(2)):
        raise ApiError(
            416,
            "bad_range",
            "only one bytes=START-END range is supported",
            headers={"Content-Range": f"bytes */{size}"},
        )
    if m.group(1):
        start = int(m.group(1))
        end = min(int(m.group(2)) + 1, size) if m.group(2) else size
    else:
        start, end = max(0, size - int(m.group(2))), size
    if start >= size or end <= start:
        raise ApiError(
            416, "bad_range", "range not satisfiable", headers={"Content-Range": f"bytes */{size}"}
        )
    return start, end


def stream_blob(
    ctx: ServerContext,
    row: Any,
    range_header: str | None,
    on_close: Callable[[int], None] | None = None,
) -> Response:
    """The stored bytes of a blob row, whole or one range, streamed from the store;
    `on_close` is told how many bytes were sent once the response ends (or is dropped)."""
    span = parse_range(range_header, row.size)
    start, end = span or (0, row.size)
    first: Iterator[bytes] = ctx.store.read(row.storage_key, start, end)
    headers = {"Accept-Ranges": "bytes"}
    if span:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{row.size}"
    if on_close is None and end - start <= INLINE:
        # a small body is read here, in the caller's worker thread, and sent in one
        # message: a streamed one costs a thread hop per chunk and one for its end
        return Response(
            b"".join(first),
            status_code=206 if span else 200,
            headers=headers,
            media_type="application/octet-stream",
        )
    headers["Content-Length"] = str(end - start)
    if on_close is not None:
        return CountedResponse(
            first,
            on_close,
            status_code=206 if span else 200,
            headers=headers,
            media_type="application/octet-stream",
        )
    return StreamingResponse(
        first,
        status_code=206 if span else 200,
        headers=headers,
        media_type="application/octet-stream",
    )


COUNT_PIECE = 64 << 10


class CountedResponse(StreamingResponse):
    """A streamed body that reports, exactly once and as soon as the response ends (done,
    failed or cancelled by a disconnect), how many bytes it handed to the server. Each
    small piece is counted *before* it leaves, so a client that stops is charged at most
    what reached its socket."""

    def __init__(
        self, chunks: Iterator[bytes], on_close: Callable[[int], None], **kwargs: Any
    ) -> None:
        super().__init__(chunks, **kwargs)
        self.on_close = on_close

    async def stream_response(self, send: Send) -> None:
        sent = 0
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code,
                 "headers": self.raw_headers}
            )  # fmt: skip
            async for chunk in self.body_iterator:
                view = memoryview(chunk.encode() if isinstance(chunk, str) else chunk)
                for at in range(0, len(view), COUNT_PIECE):
                    piece = bytes(view[at : at + COUNT_PIECE])
                    sent += len(piece)
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self.on_close(sent)
