"""Who is calling: the authenticated account and device (and, for an app credential, the
container it is confined to). Its own module so the token cache and the server context can
both name it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    account_id: str
    device_id: str
    app_space: str | None = None  # an app credential: confined to this container (issue 16)
    app_id: str | None = None
