"""The ASGI application: routers, one error-to-JSON mapping, and start-up migrations."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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
from blindvault.server.options import ServerOptions
from blindvault.server.storage.blobstore import BlobStore, open_store
from blindvault.server.storage.db import make_engine, migrate
from blindvault.wire.common import ErrorAnswer

# one router per resource; the batch routes before `/blobs/{blob_id}`
ROUTERS = (
    health, accounts, sessions, totp, devices, identities, audit, records, changes, locks,
    blob_batch, blobs, uploads, links, link_access, shares, spaces, apps, recovery, orgkey,
    pairing, page, sw, webapp,
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

    app = FastAPI(
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

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = uuid.uuid4().hex[:12]
        try:
            response = await call_next(request)
        except ApiError as exc:  # raised while streaming a body
            response = JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)
        except Exception:
            log.exception("request %s failed", request_id)  # no body, no token in the log
            response = _error(500, "internal", f"internal error (request {request_id})")
        response.headers["X-Request-Id"] = request_id
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        if opts.tls:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response

    # outermost: oversized or stalled bodies are refused before any route parses them
    app.add_middleware(BodyLimit, json_limit=ctx.limits.json_body, body_timeout=opts.body_timeout)
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
    return create_app(ServerContext(engine, store, limits or Limits(), ca), options)
