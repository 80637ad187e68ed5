"""API errors: one exception type with an HTTP status, a stable code and a message.

ApiError
 ├── 400 invalid_request     malformed JSON body values, ids, kinds or parameters
 ├── 401 unauthorized        missing, unknown or revoked token; wrong credentials
 ├── 403 forbidden           authenticated, but not allowed (also proof_required, …)
 ├── 404 not_found           no such object *for this account* (no existence oracle)
 ├── 408 timeout             a request body stalled
 ├── 409 stale_version       compare-and-swap lost; body has the current version
 ├── 409 conflict            the object exists already, or a lock is held
 ├── 410 link_*              a share link that no longer works
 ├── 410 feed_reset          the change feed was compacted past `since`
 ├── 413 too_large           body over the limit
 ├── 416 bad_range           unsatisfiable Range header
 ├── 422 invalid_request     the body does not match its schema
 ├── 429 rate_limited        too many attempts; Retry-After says when to retry
 ├── 503 unavailable         the database or the object store is unreachable
 └── 507 quota_exceeded      over quota (also object_limit)

`CODES` is the one table of the code each status gets when the framework (not a route)
refuses a request; `docs/api.md` lists every code a route gives.
"""

from __future__ import annotations

from typing import Any

CODES: dict[int, str] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "timeout",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


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
