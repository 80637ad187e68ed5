"""A malicious server for tests: a programmable reverse proxy on loopback in front of a real
`blindvault server`.

The proxy forwards every request unchanged, then lets the test's *rules* rewrite the answer
(or refuse to forward at all). It logs every request the client sent, so a test can check
what the client did after it was lied to (the oracle check of ATTACKS.md), and it keeps every
answer it forwarded, so a test can replay an older state later.

    proxy.add(on_record("manifest", flip_byte(200)))   # every manifest read is tampered
    proxy.add(on_blob(truncate(-16400)))              # blobs lose their last chunk

A rule is a callable `rule(exchange)`; it may change `exchange.status`, `.headers` and
`.body`, set `exchange.drop = True` (the connection is closed without an answer), or
set `exchange.mutated = True` to mark the moment the lie was told. Rules run in the order
they were added, on every exchange, until removed with `proxy.reset()`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer"}


class _QuietServer(ThreadingHTTPServer):
    """A client that stops reading a lie it refused (it closes the connection mid-answer)
    is expected; anything else is still printed."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


@dataclass
class Exchange:
    """One request and the answer the proxy is about to send back."""

    method: str
    path: str  # without the query
    query: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    forward: bool = True  # False: a rule answers by itself, upstream never sees the request
    mutated: bool = False

    def json(self) -> Any:
        return json.loads(self.body)

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value).encode()
        self.headers["content-type"] = "application/json"


@dataclass(frozen=True)
class Seen:
    """What the client sent: enough to compare two runs, nothing that varies by chance."""

    method: str
    path: str
    query: str
    body_sha256: str
    status: int
    mutated: bool

    @property
    def request(self) -> tuple[str, str, str, str]:
        return (self.method, self.path, self.query, self.body_sha256)


Rule = Callable[[Exchange], None]
PreRule = Callable[[Exchange], None]


class Proxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[Rule] = []
        self.pre: list[PreRule] = []  # run before forwarding (may answer, drop, or kill)
        self.log: list[Seen] = []
        self.history: dict[tuple[str, str], list[bytes]] = {}  # honest answers, oldest first
        self.uploads: dict[str, bytes] = {}  # blob id -> the bytes the client sent
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=120.0)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    out = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return bytes(out)
                        out += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("content-length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                path, _, query = self.path.partition("?")
                ex = Exchange(
                    self.command,
                    path,
                    query,
                    {k.lower(): v for k, v in self.headers.items()},
                    self._body(),
                )
                proxy._serve(ex)
                if ex.drop:
                    self.close_connection = True
                    return
                self.send_response(ex.status)
                for k, v in ex.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(ex.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(ex.body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _handle  # noqa: N815

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # --- programming ------------------------------------------------------------------------

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def before(self, rule: PreRule) -> None:
        self.pre.append(rule)

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.pre.clear()
            self.log.clear()
            self.uploads.clear()

    def after_lie(self) -> list[tuple[str, str, str, str]]:
        """The requests the client sent after the first mutated answer."""
        with self._lock:
            marks = [i for i, s in enumerate(self.log) if s.mutated]
            if not marks:
                raise AssertionError("no rule changed anything: the attack never happened")
            return [s.request for s in self.log[marks[0] + 1 :]]

    def writes_after_lie(self) -> list[tuple[str, str, str, str]]:
        return [r for r in self.after_lie() if r[0] != "GET" and r[0] != "HEAD"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self._http.close()

    # --- serving -----------------------------------------------------------------------------

    def _serve(self, ex: Exchange) -> None:
        m = BLOB.match(ex.path)
        if m and ex.method == "PUT":
            with self._lock:
                self.uploads[m.group(1)] = ex.request_body
        for pre in list(self.pre):
            pre(ex)
        if ex.forward and not ex.drop:
            headers = {
                k: v for k, v in ex.request_headers.items() if k not in HOP_BY_HOP and k != "host"
            }
            url = self.upstream + ex.path + (f"?{ex.query}" if ex.query else "")
            try:
                r = self._http.request(ex.method, url, content=ex.request_body, headers=headers)
            except httpx.HTTPError:
                ex.drop = True
            else:
                ex.status, ex.body = r.status_code, r.content
                ex.headers = {k.lower(): v for k, v in r.headers.items()}
                if ex.method == "GET" and r.status_code == 200:
                    with self._lock:
                        self.history.setdefault((ex.method, ex.path), []).append(r.content)
        if not ex.drop:
            for rule in list(self.rules):
                rule(ex)
        with self._lock:
            self.log.append(
                Seen(
                    ex.method,
                    ex.path,
                    ex.query,
                    hashlib.sha256(ex.request_body).hexdigest(),
                    ex.status,
                    ex.mutated,
                )
            )


# --- mutation operators ---------------------------------------------------------------------------

RECORD = re.compile(r"^/v1/records/([a-z][a-z0-9-]*)/([0-9a-f]{32})$")
BLOB = re.compile(r"^/v1/blobs/([0-9a-f]{32})$")

Bytes = Callable[[bytes], bytes]


def flip_bit(offset: int, bit: int = 0) -> Bytes:
    def op(data: bytes) -> bytes:
        out = bytearray(data)
        out[offset] ^= 1 << bit
        return bytes(out)

    return op


def truncate(length: int) -> Bytes:
    """Keep the first `length` bytes (negative: drop that many from the end)."""
    return lambda data: data[:length]


def append(extra: bytes) -> Bytes:
    return lambda data: data + extra


def replace(value: bytes) -> Bytes:
    return lambda _: value


def on_record(kind: str, op: Bytes, node: str | None = None) -> Rule:
    """Change the sealed bytes of every (or one) record of `kind` the client reads."""

    def rule(ex: Exchange) -> None:
        m = RECORD.match(ex.path)
        if ex.method != "GET" or ex.status != 200 or not m or m.group(1) != kind:
            return
        if node is not None and m.group(2) != node:
            return
        doc = ex.json()
        doc["data"] = base64.b64encode(op(base64.b64decode(doc["data"]))).decode()
        ex.set_json(doc)
        ex.mutated = True

    return rule


def on_blob(op: Bytes, blob: str | None = None) -> Rule:
    def rule(ex: Exchange) -> None:
        m = BLOB.match(ex.path)
        if ex.method != "GET" or ex.status not in (200, 206) or not m:
            return
        if blob is not None and m.group(1) != blob:
            return
        ex.body = op(ex.body)
        ex.mutated = True

    return rule


def on_json(method: str, path: str, change: Callable[[Any], Any]) -> Rule:
    """Rewrite a JSON answer: `change(doc)` returns the new document (any JSON value)."""

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path != path or ex.status >= 300:
            return
        ex.set_json(change(ex.json()))
        ex.mutated = True

    return rule


def on_raw(method: str, path: str, status: int, body: bytes, ctype: str) -> Rule:
    """Answer with exactly these bytes (malformed JSON, HTML error pages, …)."""

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path != path:
            return
        ex.status, ex.body = status, body
        ex.headers = {"content-type": ctype}
        ex.mutated = True

    return rule


def swap_paths(method: str, a: str, b: str, answers: dict[str, bytes]) -> Rule:
    """Serve `b`'s honest answer for `a` and the reverse (answers recorded beforehand)."""

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path not in (a, b):
            return
        ex.body = answers[b if ex.path == a else a]
        ex.status = 200
        ex.mutated = True

    return rule


def missing(method: str, path: str) -> Rule:
    """The server 'lost' an object: a well-formed 404."""

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path != path:
            return
        ex.status = 404
        ex.set_json({"error": {"code": "not_found", "message": "no such object"}})
        ex.mutated = True

    return rule


def capture(method: str, path: str, into: list[Any]) -> PreRule:
    """Keep the JSON body of every matching request the client sends (a pre-rule)."""

    def rule(ex: Exchange) -> None:
        if ex.method == method and ex.path == path and ex.request_body:
            into.append(json.loads(ex.request_body))

    return rule


def nth_answer(method: str, path: str, n: int, change: Callable[[Any], Any]) -> Rule:
    """Rewrite only the `n`-th (1-based) JSON answer to `method path`, from the rule's start."""
    seen = [0]

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path != path or ex.status >= 300:
            return
        seen[0] += 1
        if seen[0] == n:
            ex.set_json(change(ex.json()))
            ex.mutated = True

    return rule


def refuse(method: str, path: str, status: int, doc: Any) -> PreRule:
    """Answer `method path` with this JSON error without forwarding it (a pre-rule)."""

    def rule(ex: Exchange) -> None:
        if ex.method != method or ex.path != path:
            return
        ex.forward = False
        ex.status = status
        ex.set_json(doc)

    return rule


BATCH_GET = "/v1/blobs/batch-get"
BatchItems = list[tuple[str, bytes]]


def parse_batch(body: bytes) -> BatchItems:
    """A `batch-get` answer: per blob its id (32 hex characters), u32 length, bytes."""
    items, pos = [], 0
    while pos < len(body):
        size = int.from_bytes(body[pos + 32 : pos + 36], "big")
        items.append((body[pos : pos + 32].decode(), body[pos + 36 : pos + 36 + size]))
        pos += 36 + size
    return items


def encode_batch(items: BatchItems) -> bytes:
    return b"".join(i.encode() + len(b).to_bytes(4, "big") + b for i, b in items)


def on_batch(change: Callable[[BatchItems], BatchItems]) -> Rule:
    """Rewrite the blobs of every `POST /v1/blobs/batch-get` answer (drop one, repeat one,
    swap two, ...); `change` gets and returns (id, bytes) pairs in answer order."""

    def rule(ex: Exchange) -> None:
        if ex.method != "POST" or ex.path != BATCH_GET or ex.status != 200:
            return
        ex.body = encode_batch(change(parse_batch(ex.body)))
        ex.mutated = True

    return rule
