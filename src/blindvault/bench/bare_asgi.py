"""The baseline of `bench server`: a bare Starlette app that serves a 4 KiB body (the size
of the blob blindvault serves in the same run) and answers /v1/health for start-up."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = os.urandom(4096)


async def blob(_: Request) -> Response:
    return Response(BODY, media_type="application/octet-stream")


async def health(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(routes=[Route("/v1/blobs/{blob_id}", blob), Route("/v1/health", health)])
