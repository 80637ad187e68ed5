"""Reading the server's change feed (`GET /v1/changes`), page by page.

The feed is a hint: its pages are checked only for shape and order here (every seq after
`since`, strictly increasing, `next` = the last one), and whatever they say is confirmed
by the caller through signed state (`client/feed.py`). A page that breaks the order is a
server that replays or reorders: an integrity error, not something to guess around.
"""

from __future__ import annotations

from collections.abc import Iterator

from blindvault.client.net.http import ApiClient
from blindvault.errors import GoneError, IntegrityError
from blindvault.wire.changes import ChangePage

MAX_PAGES = 10_000  # 10 M entries: far beyond any account; a server that never ends is refused


class FeedResetError(Exception):
    """The server compacted its feed past `since` (410 `feed_reset`): walk everything, then
    follow the feed from `horizon` (a hint like the rest; None if the server gave none)."""

    def __init__(self, horizon: int | None = None) -> None:
        super().__init__("the change feed was compacted")
        self.horizon = horizon


def pages(api: ApiClient, since: int, root: str | None) -> Iterator[ChangePage]:
    """Every page after `since` (with the root record `root`, if named); raises
    `FeedResetError` or `IntegrityError`."""
    for _ in range(MAX_PAGES):
        params: dict[str, str | int] = {"since": since}
        if root is not None:
            params["root"] = root
        try:
            page = api.get_as(ChangePage, "/v1/changes", params=params)
        except GoneError as exc:
            if exc.code != "feed_reset":
                raise
            given = exc.extra.get("horizon")
            raise FeedResetError(given if isinstance(given, int) and given >= 0 else None) from None
        last = since
        for entry in page.changes:
            if entry.seq <= last:  # mutant: feed.order
                raise IntegrityError("the change feed went backwards (replayed or reordered)")
            last = entry.seq
        if page.next != last or (page.more and not page.changes):
            raise IntegrityError("the change feed's next position does not match its entries")
        yield page
        if not page.more:
            return
        since = last
    raise IntegrityError("the change feed does not end")
