"""The ASGI application: routers, one error-to-JSON mapping, and start-up migrations."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from blindvault import __version__
from blindvault.server import maintenance
from blindvault.server.api import (
    accounts,
    apps,
    audit,
    blob_batch,
    blobs,
    changes,
    devices,
    drops,
    groups,
    health,
    identities,
    link_access,
    links,
    locks,
    orgkey,
    page,
    pairing,
    records,
    recovery,
    sessions,
    shares,
    spaces,
    sw,
    totp,
    uploads,
    webapp,
)
from blindvault.server.bodies import BodyLimit
from blindvault.server.ca import from_data
from blindvault.server.context import Limits, ServerContext
from blindvault.server.errors import CODES, ApiError
from blindvault.server.fastpath import FastBlobGet
from blindvault.server.fastwrite import FastRecordPut
from blindvault.server.guard import Guard
from blindvault.server.options import ServerOptions
from blindvault.server.storage.blobstore import BlobStore, open_store
from blindvault.server.storage.db import make_engine, migrate
from blindvault.server.storage.revocations import RevocationEpoch, watch
from blindvault.server.tokens import TokenCache
from blindvault.wire.common import ErrorAnswer

# one router per resource; the batch routes before `/blobs/{blob_id}`
ROUTERS = (
    health, accounts, sessions, totp, devices, identities, audit, records, changes, locks,
    blob_batch, blobs, uploads, links, link_access, drops, shares, groups, spaces, apps, recovery,
    orgkey, pairing, page, sw, webapp,
)  # fmt: skip
log = logging.getLogger("blindvault.server")


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _bad_url_value(error: dict[str, Any]) -> bool:
    loc = tuple(error.get("loc", ()))
    return (
        len(loc) > 0
        and loc[0] in ("path", "query")
        and (error.get("type") == "string_pattern_mismatch")
    )


class BlindvaultApp(FastAPI):
    """FastAPI, with the short path for a device's own small blob in front of everything
    (`fastpath`): it answers that one success case or passes the request on untouched."""

    fast: FastBlobGet | None = None
    fast_put: FastRecordPut | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast is not None and await self.fast.answer(scope, send):
            return
        if self.fast_put is not None:
            taken, receive = await self.fast_put.answer(scope, receive, send)
            if taken:
                return
        await super().__call__(scope, receive, send)


def create_app(ctx: ServerContext, options: ServerOptions | None = None) -> FastAPI:
    opts = options or ServerOptions()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(maintenance.loop(ctx))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = BlindvaultApp(
        title="blindvault",
        version=__version__,
        description="Blind storage API: the server stores ciphertext and opaque records only.",
        # the API reference pages load third-party scripts and would share an origin with
        # the link page: not served (the schema stays at /openapi.json)
        docs_url=None,
        redoc_url=None,
        # a trailing-slash redirect would be built from the Host header
        redirect_slashes=False,
        lifespan=lifespan,
        # every refusal has the one error shape (the codes: docs/api.md, errors.CODES)
        responses={
            "4XX": {"model": ErrorAnswer, "description": "refused: see error.code"},
            "5XX": {"model": ErrorAnswer, "description": "unavailable or a server bug"},
        },
    )
    app.state.ctx = ctx
    app.state.body_timeout = opts.body_timeout
    for module in ROUTERS:
        app.include_router(module.router)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        # a malformed id or kind in the path or query (typed in `deps`) is a 400, as a
        # malformed value inside a body is; a body that does not match its schema a 422
        status = 400 if _bad_url_value(dict(first)) else 422
        return _error(status, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    app.add_middleware(Guard, tls=opts.tls)  # headers and the no-details 500
    # outermost: oversized or stalled bodies are refused before any route parses them
    app.add_middleware(BodyLimit, json_limit=ctx.limits.json_body, body_timeout=opts.body_timeout)
    # before all: a device's own small blob, from a checked token (anything else goes on)
    app.fast = FastBlobGet(ctx=ctx, tls=opts.tls)
    # and a device's compare-and-swap of its own small record, from a checked token
    app.fast_put = FastRecordPut(
        ctx=ctx, tls=opts.tls, writer=records.writer(ctx.engine), body_timeout=opts.body_timeout
    )
    return app


def build(
    data: Path,
    db_url: str | None,
    blobs: str | None,
    limits: Limits | None = None,
    options: ServerOptions | None = None,
) -> FastAPI:
    """Open (and migrate) the database and the blob store, then make the app."""
    if options is not None:
        limits = dataclasses.replace(limits or Limits(), token_ttl=options.token_ttl)
    data.mkdir(parents=True, exist_ok=True)
    engine = make_engine(db_url or f"sqlite:///{data / 'blindvault.sqlite3'}")
    migrate(engine)
    store: BlobStore = open_store(blobs, data)
    ca = from_data(data)  # the CA of identity certificates, if `admin ca create` made one
    limits = limits or Limits()
    tokens = None
    if engine.dialect.name == "sqlite":  # one host: its processes share the epoch file
        epoch = RevocationEpoch(data)
        watch(engine, epoch)
        tokens = TokenCache(epoch, limits.token_ttl)
    inline = engine.dialect.name == "sqlite" and blobs is None
    return create_app(ServerContext(engine, store, limits, ca, tokens, inline), options)
