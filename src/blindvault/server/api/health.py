"""`GET /v1/health`: the server answers, and its version."""

from __future__ import annotations

from fastapi import APIRouter

from blindvault import __version__
from blindvault.wire.health import Health

router = APIRouter(prefix="/v1", tags=["meta"])


@router.get("/health", response_model=Health)
def health() -> Health:
    return Health(status="ok", version=__version__)
