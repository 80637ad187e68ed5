"""Issue 14: the forget policy (restic's semantics), as a table like restic's own tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blindvault.client.retention import Policy, _forget_versions, keep
from blindvault.client.trash import parse_age
from blindvault.core.keys import FileKey
from blindvault.core.manifest import FileEntry, FileVersion, ManifestBody
from blindvault.errors import UsageError

DAY = 86400 * 1000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


NOW = ms("2026-12-04T12:00:00")
TIMES = [
    ms("2026-12-04T10:00:00"),  # 0 today, newest
    ms("2026-12-04T08:00:00"),  # 1 today
    ms("2026-12-03T23:00:00"),  # 2 yesterday (Thursday, ISO week 49)
    ms("2026-11-30T09:00:00"),  # 3 Monday, week 49
    ms("2026-11-29T09:00:00"),  # 4 Sunday, week 48, November
    ms("2026-11-05T09:00:00"),  # 5 week 45, November
    ms("2026-10-15T09:00:00"),  # 6 October
    ms("2025-12-25T09:00:00"),  # 7 a year ago
]

CASES = [
    # (policy, kept indexes)
    (Policy(), {0, 1, 2, 3, 4, 5}),  # default: everything younger than 30 days
    (Policy(keep_within_ms=0), set()),
    (Policy(keep_within_ms=DAY), {0, 1, 2}),
    (Policy(keep_within_ms=0, daily=1), {0}),
    (Policy(keep_within_ms=0, daily=3), {0, 2, 3}),  # the newest of each day that has one
    (Policy(keep_within_ms=0, weekly=2), {0, 4}),  # weeks 49 and 48
    (Policy(keep_within_ms=0, weekly=3), {0, 4, 5}),
    (Policy(keep_within_ms=0, monthly=2), {0, 3}),  # December, November (its newest)
    (Policy(keep_within_ms=0, monthly=3), {0, 3, 6}),  # and October
    (Policy(keep_within_ms=0, monthly=99), {0, 3, 6, 7}),  # and last December
    (Policy(keep_within_ms=0, daily=2, weekly=2, monthly=3), {0, 2, 3, 4, 6}),
    (Policy(keep_within_ms=DAY, monthly=2), {0, 1, 2, 3}),
]


@pytest.mark.parametrize(("policy", "kept"), CASES)
def test_policy_table(policy: Policy, kept: set[int]) -> None:
    assert keep(TIMES, policy, NOW) == kept
    # the order the items come in does not matter
    rev = TIMES[::-1]
    assert {len(TIMES) - 1 - i for i in keep(rev, policy, NOW)} == kept


def test_bad_policies_and_ages() -> None:
    with pytest.raises(UsageError):
        Policy(daily=-1)
    assert parse_age("30d") == 30 * DAY and parse_age("12h") == 12 * 3600 * 1000
    assert parse_age("2w") == 14 * DAY and parse_age("90") == 90 * 1000
    for bad in ("", "d", "3x", "-1d", "1.5d"):
        with pytest.raises(UsageError):
            parse_age(bad)


def test_forget_never_drops_the_live_version() -> None:
    """Versions written at TIMES[i]; with nothing kept by the policy, only the live one stays."""
    history = tuple(
        FileVersion(len(TIMES) - i, FileKey.generate(), 1, t, t, bytes(32))
        for i, t in enumerate(TIMES[1:], 1)
    )
    live = FileEntry(
        "a", b"\x01" * 16, FileKey.generate(), 9, 1, TIMES[0], TIMES[0], bytes(32), history
    )
    body = ManifestBody((live,))
    (got,) = _forget_versions(body, Policy(keep_within_ms=0), NOW).entries
    assert isinstance(got, FileEntry) and got.content_version == 9 and got.history == ()
    (got,) = _forget_versions(body, Policy(keep_within_ms=0, daily=3), NOW).entries
    assert isinstance(got, FileEntry)
    assert [v.written_ms for v in got.history] == [TIMES[2], TIMES[3]]
    assert _forget_versions(body, Policy(keep_within_ms=400 * DAY), NOW) == body  # all young
