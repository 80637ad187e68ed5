"""Database engine, start-up migrations, and translation of driver errors to 503."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

from blindvault.server.errors import unavailable
from blindvault.server.storage.sqlitewait import until_unlocked

_MIGRATIONS = Path(__file__).parent / "migrations"
POOL = 32  # PostgreSQL connections a process keeps open (8 more at most, closed when idle)
_LOCK_ID = 0x626C696E64  # "blind": serializes migrations of processes starting together


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: object, _record: object) -> None:
            cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cur.execute("PRAGMA busy_timeout=30000")
            until_unlocked(lambda: cur.execute("PRAGMA journal_mode=WAL"))
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # as many connections kept open as threads that can use one at once (anyio's 40 worker
    # threads): with 10, a 32-client load opened and closed a connection (a PostgreSQL
    # backend process) for most requests (issue 18, docs/bench/analysis.md)
    return create_engine(url, pool_pre_ping=True, pool_size=POOL, max_overflow=8)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe when several processes start at once."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


_WRITERS: dict[int, threading.RLock] = {}


def _one_at_a_time(engine: Engine) -> contextlib.AbstractContextManager[Any]:
    """SQLite: this process's transactions queue on a lock of their own. SQLite lets one
    writer in at a time and makes the others wait in its busy handler, which sleeps 1, 2,
    5, ... 100 ms between tries: with 32 clients most compare-and-swaps slept (issue 18,
    docs/bench/analysis.md). A thread waiting on a lock wakes as soon as it is free."""
    if engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    return _WRITERS.setdefault(id(engine), threading.RLock())


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction whose connection-level failures become a clean 503."""
    with _translated(), _one_at_a_time(engine), engine.begin() as conn:
        yield conn


@contextmanager
def statements(engine: Engine) -> Iterator[Connection]:
    """Single statements, each its own transaction: on PostgreSQL in autocommit (no BEGIN
    and COMMIT round trips: two of a token check's four), elsewhere a `transaction`. Only
    for work whose statements need no common snapshot (one read, one idempotent write)."""
    if engine.dialect.name != "postgresql":
        with transaction(engine) as conn:
            yield conn
        return
    with _translated(), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


@contextmanager
def _translated() -> Iterator[None]:
    """Connection-level failures (the database down, a connection lost) become a clean 503."""
    try:
        yield
    except OperationalError as exc:
        raise unavailable("database") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise unavailable("database") from exc
        raise


def insert_if_absent(conn: Connection, table: Table, row: dict[str, Any]) -> int:
    """INSERT … ON CONFLICT DO NOTHING; returns 1 if inserted, 0 if the key existed."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(**row).on_conflict_do_nothing()
    # rowcount is not reliable for this statement on every driver; RETURNING is
    inserted = conn.execute(stmt.returning(*table.primary_key.columns)).first()
    return 0 if inserted is None else 1


def insert_all_if_absent(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> int:
    """One multi-row INSERT … ON CONFLICT DO NOTHING; returns how many rows it inserted."""
    if not rows:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).values(rows).on_conflict_do_nothing()
    return len(conn.execute(stmt.returning(*table.primary_key.columns)).all())
