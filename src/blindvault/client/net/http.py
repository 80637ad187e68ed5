"""The HTTP transport: httpx with retries on transient failures, errors translated here.

Only this module knows httpx; callers see `RemoteError` subclasses. Plain HTTP is refused
for any host that is not loopback unless the caller says `insecure=True`.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import os
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import httpx

from blindvault import __version__
from blindvault.client.net.answers import Answer, M, parse_answer, parse_model
from blindvault.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    FormatError,
    GoneError,
    InsecureTransportError,
    NotFoundError,
    RemoteError,
    UnavailableError,
)

__all__ = ["ApiClient", "StreamedBody", "b64d", "b64e"]

RETRY_STATUS = {429, 502, 503, 504}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: object) -> bytes:
    """Standard base64 from the server; anything else is a `FormatError`."""
    if not isinstance(text, str):
        raise FormatError("the server sent a malformed answer (expected base64 text)")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise FormatError("the server sent a malformed answer (bad base64)") from None


def _json(response: httpx.Response) -> Answer:
    return parse_answer(response.content)


_PIECE = 256 * 1024


def _length(content: bytes | bytearray | StreamedBody) -> int:
    return content.length if isinstance(content, StreamedBody) else len(content)


def _pieces(data: bytes | bytearray) -> Iterator[bytes]:
    """A large body in 256 KiB pieces: httpx copies a single big body several times over,
    which made a 1 GiB upload peak near 280 MiB of RSS; pieces keep it flat. A fresh
    generator per attempt keeps retries possible."""
    view = memoryview(data)
    for i in range(0, len(data), _PIECE):
        yield bytes(view[i : i + _PIECE])


@dataclass(frozen=True)
class StreamedBody:
    """A request body made as it is sent (never whole in memory): `length` bytes from a
    fresh `pieces()` per attempt, which must yield the same bytes each time."""

    length: int
    pieces: Callable[[], Iterator[bytes]]


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        err = response.json()["error"]
        if isinstance(err, str):  # the short form {"error": "code"}
            err = {"code": err}
        code, message = str(err.get("code", "error")), str(err.get("message", ""))
        extra = {k: v for k, v in err.items() if k not in ("code", "message")}
    except (ValueError, KeyError, TypeError, AttributeError):
        code, message, extra = "error", response.reason_phrase, {}
    status = response.status_code
    cls: type[RemoteError]
    if status == 401:
        cls = AuthError
    elif status == 403:
        cls = ForbiddenError
    elif status == 404:
        cls = NotFoundError
    elif status == 410:
        cls = GoneError
    elif status == 409:
        cls = ConflictError
    elif status in RETRY_STATUS or status >= 500:
        cls = UnavailableError
    else:
        cls = RemoteError
    raise cls(status, code, message, extra)


@functools.lru_cache(maxsize=4)
def tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    """httpx's default verifying context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), made
    once per process and trust setting: loading the CA bundle costs ~45 ms, more than a
    whole unlocked `ls` run by the agent (issue 18), which makes it before it forks."""
    del cert_file, cert_dir  # the cache key: httpx reads the same variables
    return httpx.create_ssl_context()


class ApiClient:
    """A session with one server; `token` is the device's bearer token once logged in."""

    def __init__(
        self,
        base_url: str,
        token: str = "",
        *,
        insecure: bool = False,
        retries: int = 4,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`transport` replaces the network (e.g. an in-process ASGI app in tests)."""
        url = urlparse(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InsecureTransportError(f"not a server URL: {base_url}")
        if url.scheme == "http" and url.hostname not in LOOPBACK and not insecure:
            raise InsecureTransportError(
                f"refusing plain HTTP to {url.hostname}; use https:// (or --insecure)"
            )
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retries = retries
        self.params: dict[str, str] = {}
        self._owns_http = True
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": f"blindvault/{__version__}"},
            follow_redirects=False,
            transport=transport,
            verify=tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")),
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __del__(self) -> None:  # a client dropped after an error still releases its sockets
        http = getattr(self, "_http", None)
        if http is not None and getattr(self, "_owns_http", False):
            http.close()

    def scoped(self, owner: str | None, space: str) -> ApiClient:
        """The same session acting on a shared space (record and blob routes): another
        account's (`owner` = its server account id) or, with `owner` None, one's own."""
        other = copy.copy(self)
        other.params = {"space": space} if owner is None else {"owner": owner, "space": space}
        other._owns_http = False
        return other

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | bytearray | StreamedBody | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send with retries on network errors and 429/502/503/504; raise on errors."""
        delay = 0.2
        big = isinstance(content, StreamedBody) or (content is not None and len(content) > _PIECE)
        extra = dict(headers or {})
        if big and content is not None:
            extra["Content-Length"] = str(_length(content))
        for attempt in range(self.retries + 1):
            body: Iterator[bytes] | bytes | None
            if isinstance(content, StreamedBody):
                body = content.pieces()
            elif big and content is not None:
                body = _pieces(content)
            else:
                body = bytes(content) if isinstance(content, bytearray) else content
            try:
                response = self._http.request(
                    method,
                    path,
                    json=json,
                    content=body,
                    params={**self.params, **(params or {})},
                    headers=self._headers(extra),
                )
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise UnavailableError(0, "network", f"cannot reach {self.base_url}") from exc
            else:
                if response.status_code not in RETRY_STATUS or attempt == self.retries:
                    _raise_for(response)
                    return response
                retry_after = response.headers.get("retry-after", "")
                if response.status_code == 429 and retry_after.isdigit():
                    _raise_for(response)  # a rate limit is not waited out silently
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise UnavailableError(0, "network", f"cannot reach {self.base_url}")  # pragma: no cover

    def get_as(self, model: type[M], path: str, **kw: Any) -> M:
        """GET an answer that must match its wire model."""
        return parse_model(self.get_json(path, **kw), model)

    def post_as(self, model: type[M], path: str, body: Any) -> M:
        return parse_model(self.post_json(path, body), model)

    def put_as(self, model: type[M], path: str, body: Any) -> M:
        return parse_model(self.put_json(path, body), model)

    def get_json(self, path: str, **kw: Any) -> Answer:
        return _json(self.request("GET", path, **kw))

    def post_json(self, path: str, body: Any) -> Answer:
        """The answer's object; an empty body reads as an empty object."""
        response = self.request("POST", path, json=body)
        return _json(response) if response.content else Answer()

    def put_json(self, path: str, body: Any) -> Answer:
        return _json(self.request("PUT", path, json=body))

    @contextmanager
    def stream(self, path: str, headers: dict[str, str] | None = None) -> Iterator[httpx.Response]:
        """A streamed GET (for blobs); errors raised before the body is read."""
        try:
            with self._http.stream(
                "GET", path, headers=self._headers(headers), params=self.params
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for(response)
                yield response
        except httpx.TransportError as exc:
            raise UnavailableError(0, "network", f"cannot reach {self.base_url}") from exc
