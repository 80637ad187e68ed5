"""Issue 12 item 1: stored objects that no row references are swept (local disk and S3);
referenced ones, and fresh ones whose row may still be on its way, are kept."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.real_server import Real, new_id, real_server
from helpers.servers import s3_spec


@pytest.fixture(params=["sqlite-local", "postgres-s3"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Real, str | None]]:
    data = tmp_path / "data"
    if request.param == "sqlite-local":
        with real_server(data, None) as r:
            yield r, None
    else:
        blobs = s3_spec(request.getfixturevalue("weed"))
        with real_server(data, request.getfixturevalue("pg_url"), "--blobs", blobs) as r:
            yield r, blobs


def test_unreferenced_objects_are_swept(setup: tuple[Real, str | None]) -> None:
    from blindvault.server.app import build
    from blindvault.server.maintenance import sweep_orphans
    from blindvault.server.storage.blobstore import new_storage_key

    real, blobs = setup
    acct = real.account()
    with acct.client() as c:
        kept = new_id()
        assert c.put(f"/v1/blobs/{kept}", content=b"kept").status_code == 201
    # the same database and store the server process uses, opened here to run one sweep
    app = build(real.data, real.db_url, blobs)
    ctx = app.state.ctx
    try:
        orphan, fresh = new_storage_key(), new_storage_key()
        ctx.store.put(orphan, b"referenced by nothing")
        ctx.store.put(fresh, b"its row may still be on its way")
        # within the grace period (an hour) nothing fresh is touched: a small blob is
        # stored before its row is inserted
        assert sweep_orphans(ctx) == 0
        assert ctx.store.size(orphan) is not None
        time.sleep(1.1)
        removed = sweep_orphans(ctx, grace=0.0)
        assert ctx.store.size(orphan) is None and ctx.store.size(fresh) is None
        assert removed == 2
        key = real.sql("SELECT storage_key FROM blobs WHERE id = ?", kept)[0][0]
        assert ctx.store.size(key) == 4
        with acct.client() as c:
            assert c.get(f"/v1/blobs/{kept}").content == b"kept"
    finally:
        ctx.engine.dispose()


def test_maintenance_prunes_old_login_failures(tmp_path: Path) -> None:
    """Item 10: `prune_failures` runs (hourly in every process; here one run of the loop)."""
    from blindvault.server.app import build
    from blindvault.server.maintenance import run_once

    with real_server(tmp_path / "data", None) as real:
        real.sql("INSERT INTO login_failures (key, at) VALUES ('addr:192.0.2.1', 0)")
        real.sql("INSERT INTO login_failures (key, at) VALUES ('addr:192.0.2.2', ?)", time.time())
        app = build(real.data, None, None)
        try:
            run_once(app.state.ctx)
        finally:
            app.state.ctx.engine.dispose()
        left = real.sql("SELECT key FROM login_failures ORDER BY key")
        assert left == [("addr:192.0.2.2",)]
