"""Issue 11 item 6: a link's download limit holds whatever Range header is sent; a download
resumed with a Range still costs one use in all. Real server processes, both databases."""

from __future__ import annotations

import base64
import os

import pytest

from helpers.real_server import Real, new_id

SIZE = 300_000


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def real(shared_real: Real) -> Real:
    """The run's shared server on each backend (SQLite, PostgreSQL): fresh accounts only."""
    return shared_real


def _link(real: Real, max_downloads: int) -> tuple[str, dict[str, str], str, bytes]:
    acct = real.account()
    data = os.urandom(SIZE)
    bid = new_id()
    with acct.client() as c:
        assert c.put(f"/v1/blobs/{bid}", content=data).status_code == 201
        link_id, token = b64u(os.urandom(16)), b64u(os.urandom(32))
        r = c.post(
            "/v1/links",
            json={
                "id": link_id,
                "token": token,
                "descriptor": base64.b64encode(b"sealed").decode(),
                "kind": "file",
                "blobs": [bid],
                "max_downloads": max_downloads,
            },
        )
        assert r.status_code == 201, r.text
    return f"{real.url}/v1/l/{link_id}/blob/{bid}", {"X-Link-Token": token}, link_id, data


@pytest.mark.parametrize(
    "ranges",
    [
        ["bytes=-300000"],
        ["bytes=1-"],
        ["bytes=-150000", "bytes=1-149999"],
    ],
)
def test_no_range_gets_more_than_the_limit(real: Real, ranges: list[str]) -> None:
    import httpx

    url, h, _, data = _link(real, max_downloads=2)
    got = 0
    answers = []
    with httpx.Client(timeout=60) as c:
        for _ in range(10):  # repeat the pattern well past the limit
            for rng in ranges:
                r = c.get(url, headers={**h, "Range": rng})
                answers.append(r.status_code)
                if r.status_code == 206:
                    got += len(r.content)
    print(f"range {ranges}: {got} bytes served of a {SIZE}-byte file, limit 2 downloads")
    assert got <= 2 * len(data)
    assert answers[-1] == 410


def test_a_resumed_download_costs_one_use(real: Real) -> None:
    import httpx

    url, h, link_id, data = _link(real, max_downloads=2)
    with httpx.Client(timeout=60) as c:
        first = c.get(url, headers={**h, "Range": "bytes=0-99999"})
        rest = c.get(url, headers={**h, "Range": "bytes=100000-"})
        assert first.status_code == rest.status_code == 206
        assert first.content + rest.content == data
        meta = c.get(f"{real.url}/v1/l/{link_id}", headers=h).json()
        assert meta["downloads_left"] == 1
        assert c.get(url, headers=h).content == data  # the second use, whole
        assert c.get(url, headers=h).status_code == 410
        assert c.get(url, headers={**h, "Range": "bytes=-10"}).status_code == 410


def test_a_dropped_download_gives_back_what_it_did_not_send(real: Real) -> None:
    import time

    import httpx

    acct = real.account()
    size = 32 << 20
    data = os.urandom(size)
    bid = new_id()
    with acct.client() as c:
        up = c.post("/v1/uploads", json={"blob_id": bid, "size": size}).json()
        part = up["part_size"]
        for n in range(up["parts"]):
            chunk = data[n * part : (n + 1) * part]
            assert c.put(f"/v1/uploads/{up['upload_id']}/parts/{n + 1}", content=chunk).is_success
        assert c.post(f"/v1/uploads/{up['upload_id']}/commit").status_code == 201
        link_id, token = b64u(os.urandom(16)), b64u(os.urandom(32))
        body = {"id": link_id, "token": token, "descriptor": "eA==", "kind": "file",
                "blobs": [bid], "max_downloads": 1}  # fmt: skip
        assert c.post("/v1/links", json=body).status_code == 201
    h = {"X-Link-Token": token}
    url = f"{real.url}/v1/l/{link_id}/blob/{bid}"
    with httpx.Client(timeout=60) as c:
        with c.stream("GET", url, headers=h) as r:
            got = next(r.iter_bytes(1 << 20))
            assert got == data[: len(got)]
        # the server notices the closed connection and refunds what it never handed out
        left = 0
        for _ in range(200):
            # 410 link_exhausted while the whole file is still reserved
            left = c.get(f"{real.url}/v1/l/{link_id}", headers=h).json().get("downloads_left", 0)
            if left == 1:
                break
            time.sleep(0.05)
        print(f"dropped download: downloads_left back to {left}")
        assert left == 1
        tail = c.get(url, headers={**h, "Range": "bytes=-1000"})
        assert tail.status_code == 206 and tail.content == data[-1000:]


def test_parallel_downloads_never_pass_the_limit(real: Real) -> None:
    import threading

    import httpx

    rounds, racers = 10, 8
    over = 0
    for _ in range(rounds):
        url, h, _, data = _link(real, max_downloads=2)
        gate = threading.Barrier(racers)
        served: list[int] = []

        def fetch(
            url: str = url,
            gate: threading.Barrier = gate,
            served: list[int] = served,
            h: dict[str, str] = h,
        ) -> None:
            with httpx.Client(timeout=60) as c:
                gate.wait()
                r = c.get(url, headers={**h, "Range": "bytes=1-"} if len(served) % 2 else h)
                if r.status_code in (200, 206):
                    served.append(len(r.content))

        threads = [threading.Thread(target=fetch) for _ in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        over += sum(served) > 2 * len(data)
    print(f"parallel link downloads: {over} of {rounds} rounds served more than the limit")
    assert over == 0
