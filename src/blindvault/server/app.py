"""The ASGI application: routers, one error-to-JSON mapping, and start-up migrations."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from blindvault import __version__
from blindvault.server import (
    maintenance,
    routes_accounts,
    routes_batch,
    routes_blobs,
    routes_links,
    routes_page,
    routes_records,
    routes_shares,
    routes_uploads,
)
from blindvault.server.blobstore import BlobStore, open_store
from blindvault.server.bodies import BodyLimit
from blindvault.server.context import Limits, ServerContext
from blindvault.server.db import make_engine, migrate
from blindvault.server.errors import ApiError
from blindvault.server.options import ServerOptions

log = logging.getLogger("blindvault.server")

_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    410: "gone",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
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
    )
    app.state.ctx = ctx
    app.state.body_timeout = opts.body_timeout
    for module in (
        routes_accounts,
        routes_records,
        routes_batch,
        routes_blobs,
        routes_uploads,
        routes_links,
        routes_shares,
        routes_page,
    ):
        app.include_router(module.router)

    @app.get("/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
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
    return create_app(ServerContext(engine, store, limits or Limits()), options)
