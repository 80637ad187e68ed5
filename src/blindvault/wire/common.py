"""Bounds and shapes shared by several resources."""

from __future__ import annotations

from pydantic import BaseModel

MAX_VERSION = (1 << 63) - 1  # versions are signed 64-bit integers in the database
ID_PATTERN = r"^[0-9a-f]{32}$"  # ids chosen by clients: 16 random bytes, lowercase hex
KIND_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"  # record kinds


class Model(BaseModel):
    """Base of every wire model (fields a newer peer adds are ignored, not refused)."""


class ErrorDetail(Model):
    code: str
    message: str


class ErrorAnswer(Model):
    """Every 4xx/5xx answer: `{"error": {"code", "message", ...}}` (extra fields such as
    `current_version`, `missing` or `expires_at` depend on the code)."""

    error: ErrorDetail
