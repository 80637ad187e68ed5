"""Issue 12 item 4: nobody locks another out; attempts are counted before they are checked;
signup is rate-limited per address and checks the email before it hashes anything.
Real server processes, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.accounts import (
    Server,
    b64,
    code,
    fresh_address,
    new_account,
    run_server,
    server,
    signup_body,
)

__all__ = ["server"]

LIMIT = 10  # Limits.login_failures, the per-(email, address) limit of a default server


def test_wrong_logins_from_elsewhere_never_lock_the_owner_out(server: Server) -> None:
    with server.client() as owner_side:
        victim = new_account(owner_side, login=False)
    with server.client() as attacker:
        answers = [
            attacker.post(
                "/v1/sessions", json={"email": victim.email, "auth_key": b64(os.urandom(32))}
            ).status_code
            for _ in range(LIMIT + 3)
        ]
    # the attacker's own address is stopped...
    assert answers[:LIMIT] == [401] * LIMIT and set(answers[LIMIT:]) == {429}, answers
    # ...and the owner, from their address, still gets in (slowed down, never refused)
    with server.client() as owner_side:
        started = time.monotonic()
        r = owner_side.post(
            "/v1/sessions", json={"email": victim.email, "auth_key": b64(victim.auth)}
        )
        took = time.monotonic() - started
    assert r.status_code == 201, r.text
    assert took >= 0.9  # Limits.slow_down: the email's counter is full
    # a wrong password from the owner's address is still just wrong (401, not 429)
    with server.client() as owner_side:
        r = owner_side.post(
            "/v1/sessions", json={"email": victim.email, "auth_key": b64(os.urandom(32))}
        )
    assert r.status_code == 401


def _parallel_wrong_logins(server: Server, email: str, n: int) -> Counter[int]:
    address = fresh_address()
    barrier = threading.Barrier(n)

    def attempt(_: int) -> int:
        with server.client(address) as c:
            c.get("/v1/health")  # connect first, then all send at once
            barrier.wait()
            body = {"email": email, "auth_key": b64(os.urandom(32))}
            return c.post("/v1/sessions", json=body).status_code

    with ThreadPoolExecutor(n) as pool:
        return Counter(pool.map(attempt, range(n)))


def test_parallel_attempts_never_pass_the_limit(server: Server) -> None:
    rounds, n = 5, 60
    checked = []
    for _ in range(rounds):
        with server.client() as c:
            victim = new_account(c, login=False)
        counts = _parallel_wrong_logins(server, victim.email, n)
        assert set(counts) <= {401, 429}, counts
        checked.append(counts[401])
    print(f"\n{rounds} rounds x {n} parallel wrong logins, limit {LIMIT}: checked {checked}")
    assert all(k == LIMIT for k in checked), checked


def test_recovery_login_and_password_check_share_the_limit(server: Server) -> None:
    address = fresh_address()
    with server.client(address) as c:
        acct = new_account(c)
        for _ in range(LIMIT):
            r = c.post(
                "/v1/recovery/sessions",
                json={"email": acct.email, "recovery_auth_key": b64(os.urandom(32))},
            )
            assert r.status_code == 401
        r = c.post("/v1/sessions/check", headers=acct.h, json={"auth_key": b64(acct.auth)})
        assert (r.status_code, code(r)) == (429, "rate_limited")
        assert int(r.headers["retry-after"]) > 0


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def strict_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp(f"strict-{request.param}")
    yield from run_server(request, tmp, request.param, "--signups-per-address", "3")


def test_signup_is_rate_limited_per_address(strict_server: Server) -> None:
    address = fresh_address()
    with strict_server.client(address) as c:
        for _ in range(3):
            new_account(c, login=False)
        body = signup_body("late@example.org", os.urandom(32), os.urandom(32))
        r = c.post("/v1/accounts", json=body)
        assert (r.status_code, code(r)) == (429, "rate_limited")
    with strict_server.client() as elsewhere:  # another address is not affected
        assert elsewhere.post("/v1/accounts", json=body).status_code == 201


def test_signup_of_an_existing_email_hashes_nothing(server: Server) -> None:
    """A duplicate signup answers 409 before its two scrypt hashes: faster than one login."""
    with server.client() as c:
        acct = new_account(c, login=False)
        dup = signup_body(acct.email, os.urandom(32), os.urandom(32))
        login = {"email": acct.email, "auth_key": b64(acct.auth)}
        signup_times, login_times = [], []
        for _ in range(7):
            started = time.perf_counter()
            assert c.post("/v1/accounts", json=dup).status_code == 409
            signup_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            assert c.post("/v1/sessions", json=login).status_code == 201
            login_times.append(time.perf_counter() - started)
    dup_median, login_median = statistics.median(signup_times), statistics.median(login_times)
    print(f"\nduplicate signup {dup_median * 1e3:.1f} ms, login {login_median * 1e3:.1f} ms")
    assert dup_median < 0.5 * login_median
