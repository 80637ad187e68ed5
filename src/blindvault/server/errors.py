"""API errors: one exception type with an HTTP status, a stable code and a message.

ApiError
 ├── 400 invalid_request     malformed JSON, ids or parameters (also 422 from validation)
 ├── 401 unauthorized        missing, unknown or revoked token; wrong credentials
 ├── 403 forbidden           authenticated, but not allowed
 ├── 404 not_found           no such object *for this account* (no existence oracle)
 ├── 409 stale_version       compare-and-swap lost; body has the current version
 ├── 409 conflict            the object exists already, or a lock is held
 ├── 413 too_large           body over the limit; 507 quota_exceeded when over quota
 ├── 416 bad_range           unsatisfiable Range header
 ├── 429 rate_limited        too many login failures; Retry-After says when to retry
 └── 503 unavailable         the database or the object store is unreachable
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def not_found(what: str = "object") -> ApiError:
    return ApiError(404, "not_found", f"no such {what}")


def unauthorized(message: str = "missing, unknown or revoked token") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request", message)


def unavailable(what: str) -> ApiError:
    return ApiError(503, "unavailable", f"the {what} is unavailable; retry later")
