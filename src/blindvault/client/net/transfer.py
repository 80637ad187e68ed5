"""Streaming transfers: constant memory whatever the file size.

Upload: the file is read with `readinto` into a reused buffer, encrypted chunk by chunk
and sent in parts of the server's part size; small blobs go in one request. An upload
that stops is resumed by the next `put` of the same file: the resume record (upload id,
salt, and the file key *wrapped under the vault key*) lives in the state folder; the
stream is re-encrypted deterministically and parts the server already has are skipped.

Download: the blob streams through the decryptor into a temporary file beside the
destination, which is renamed into place only after the last chunk verified; a writer
thread writes and fsyncs it as it arrives (`sink`), so the disk works while the network
does.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from blindvault.client.local.files import atomic_file, atomic_write
from blindvault.client.net.http import ApiClient
from blindvault.client.net.resume_proof import PartGuard, StaleResumeError
from blindvault.client.net.sink import FileSink
from blindvault.core import wrap
from blindvault.core.constants import SEALED_CHUNK_SIZE
from blindvault.core.content import ContentDecryptor, ContentEncryptor, blob_id, sealed_size
from blindvault.core.keys import FileKey, VaultKey
from blindvault.errors import ConflictError, FormatError, LocalError, NotFoundError
from blindvault.wire.uploads import UploadStarted, UploadStatus

__all__ = ["Progress", "download", "pending_upload", "resume_upload", "upload", "verify_blob"]

READ_SIZE = 1 << 20
PIECE = 256 << 10  # most bytes decrypted in one call (received pieces are usually 64 KiB)
SMALL_BLOB = 8 << 20
IN_FLIGHT = 2  # parts on the wire while the next one is encrypted
# room for one more sealed chunk (16 KiB + tag) in every en/decryption output buffer
SLACK = SEALED_CHUNK_SIZE

Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


@dataclass
class _Resume:
    path: Path  # where the resume record lives

    def load(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, record: dict[str, object]) -> None:
        atomic_write(self.path, json.dumps(record).encode("utf-8"))

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def _stream_encrypted(src: Path, enc: ContentEncryptor, emit: Callable[[bytes], None]) -> None:
    buf = bytearray(READ_SIZE)
    view = memoryview(buf)
    out = bytearray(enc.output_bound(READ_SIZE) + SLACK)
    emit(enc.header)
    with src.open("rb") as f:
        while n := f.readinto(buf):
            m = enc.update_into(view[:n], out)
            if m:
                emit(bytes(out[:m]))
    emit(enc.finalize())


class _PartSender:
    """Cuts the encrypted stream into parts and sends the ones the server lacks.

    Up to `IN_FLIGHT` parts go out on worker threads while the next one is encrypted,
    so the network, the server's disk and this CPU overlap; memory stays bounded by
    (IN_FLIGHT + 1) parts. A failed part raises here, in the caller's thread."""

    def __init__(
        self,
        api: ApiClient,
        upload_id: str,
        part_size: int,
        have: set[int],
        progress: Progress,
        guard: PartGuard,
    ):
        self.api, self.upload_id, self.part_size = api, upload_id, part_size
        self.have, self.progress, self.guard = have, progress, guard
        self.buf = bytearray(part_size)  # the part being filled; handed over when full
        self.size = 0
        self.number = 1
        self.pool = ThreadPoolExecutor(max_workers=IN_FLIGHT)
        self.flying: deque[Future[None]] = deque()

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self.part_size - self.size)
            self.buf[self.size : self.size + take] = view[:take]
            self.size += take
            view = view[take:]
            if self.size == self.part_size:
                full, self.buf, self.size = self.buf, bytearray(self.part_size), 0
                self._send(full)

    def close(self) -> None:
        try:
            if self.size or self.number == 1:
                self._send(bytes(self.buf[: self.size]))
                self.size = 0
            while self.flying:
                self.flying.popleft().result()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def abandon(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, part: bytes | bytearray) -> None:
        number = self.number
        self.guard(number, part)  # recorded before it is sent; a changed part raises
        self.number += 1
        if number in self.have:
            self.progress(len(part))
            return
        while len(self.flying) >= IN_FLIGHT:
            self.flying.popleft().result()
        self.flying.append(self.pool.submit(self._put, number, part))

    def _put(self, number: int, part: bytes | bytearray) -> None:
        self.api.request("PUT", f"/v1/uploads/{self.upload_id}/parts/{number}", content=part)
        self.progress(len(part))


def seal_small(src: Path, *, key: FileKey, node_id: bytes, version: int) -> tuple[bytes, int]:
    """A small file's whole blob in memory, and the file's true size."""
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise LocalError(f"cannot read {src}: {exc.strerror}") from None
    chunks: list[bytes] = []
    _stream_encrypted(src, ContentEncryptor(key, node_id, version), chunks.append)
    blob = b"".join(chunks)
    if len(blob) != sealed_size(size):
        raise LocalError(f"{src} changed while it was read")
    return blob, size


def send_batch(api: ApiClient, items: list[tuple[bytes, bytes]]) -> None:
    """Store several small blobs, keyed by blob id, in one request (all or nothing)."""
    body = b"".join(bid.hex().encode() + len(b).to_bytes(4, "big") + b for bid, b in items)
    api.request("POST", "/v1/blobs/batch", content=body)


def fetch_batch(api: ApiClient, ids: list[bytes]) -> dict[bytes, bytes]:
    """Several small blobs in one request; ids the server does not have are absent."""
    data = api.request("POST", "/v1/blobs/batch-get", json={"ids": [i.hex() for i in ids]}).content
    out: dict[bytes, bytes] = {}
    pos = 0
    while pos < len(data):
        if len(data) - pos < 36:
            raise FormatError("the server sent a malformed batch")
        try:
            bid = bytes.fromhex(data[pos : pos + 32].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise FormatError("the server sent a malformed batch") from None
        size = int.from_bytes(data[pos + 32 : pos + 36], "big")
        pos += 36
        if len(data) - pos < size or bid in out:  # mutant: transfer.batch-framing
            raise FormatError("the server sent a malformed batch")
        out[bid] = data[pos : pos + size]
        pos += size
    return out


def write_verified(
    blob: bytes, dest: Path, *, key: FileKey, node_id: bytes, version: int, size: int
) -> None:
    """Decrypt a whole small blob and write it; `dest` appears only if it all verified."""
    dec = ContentDecryptor(key, node_id, version, size)
    out = bytearray(dec.output_bound(len(blob)) + SLACK)
    n = dec.update_into(blob, out)
    plain = bytes(out[:n]) + dec.finalize()
    with atomic_file(dest) as f:
        f.write(plain)


def upload(
    api: ApiClient,
    src: Path,
    *,
    key: FileKey,
    node_id: bytes,
    version: int,
    vault: VaultKey,
    owner: bytes,
    resume_dir: Path,
    progress: Progress = _noop,
) -> int:
    """Encrypt `src` and store it as the blob of (node_id, version); returns its true size."""
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise LocalError(f"cannot read {src}: {exc.strerror}") from None
    bid = blob_id(node_id, version).hex()
    total = sealed_size(size)
    if total <= SMALL_BLOB:
        blob, size = seal_small(src, key=key, node_id=node_id, version=version)
        api.request("PUT", f"/v1/blobs/{bid}", content=blob)
        progress(total)
        return size
    start = api.post_as(UploadStarted, "/v1/uploads", {"blob_id": bid, "size": total})
    resume = _Resume(resume_dir / f"{start.upload_id}.json")
    salt = os.urandom(24)
    parts: dict[str, str] = {}
    record: dict[str, object] = {
        "upload_id": start.upload_id,
        "blob_id": bid,
        "salt": salt.hex(),
        "wrapped_key": wrap.wrap_file_key(vault, key, owner, node_id, version).hex(),
        "node_id": node_id.hex(),
        "version": version,
        "source": str(src.resolve()),
        "size": size,
        "mtime_ns": src.stat().st_mtime_ns,
        "part_size": start.part_size,
        "parts": parts,
    }
    resume.save(record)
    _send_parts(
        api,
        src,
        key,
        node_id,
        version,
        salt,
        start.upload_id,
        start.part_size,
        set(),
        progress,
        PartGuard(key, parts, lambda: resume.save(record)),
    )
    resume.clear()
    return size


def _send_parts(
    api: ApiClient,
    src: Path,
    key: FileKey,
    node_id: bytes,
    version: int,
    salt: bytes,
    upload_id: str,
    part_size: int,
    have: set[int],
    progress: Progress,
    guard: PartGuard,
) -> None:
    sender = _PartSender(api, upload_id, part_size, have, progress, guard)
    try:
        _stream_encrypted(src, ContentEncryptor(key, node_id, version, salt=salt), sender.feed)
    except BaseException:
        sender.abandon()
        raise
    sender.close()
    api.request("POST", f"/v1/uploads/{upload_id}/commit")


def pending_upload(resume_dir: Path, src: Path) -> list[dict[str, object]]:
    """Resume records of interrupted uploads of this very file (same path, size, mtime)."""
    found: list[dict[str, object]] = []
    if not resume_dir.is_dir():
        return found
    st = src.stat()
    for path in sorted(resume_dir.glob("*.json")):
        rec = _Resume(path).load()
        if (
            rec
            and rec.get("source") == str(src.resolve())
            and rec.get("size") == st.st_size
            and rec.get("mtime_ns") == st.st_mtime_ns
        ):
            rec["_path"] = str(path)
            found.append(rec)
    return found


def resume_upload(
    api: ApiClient,
    rec: dict[str, object],
    src: Path,
    *,
    vault: VaultKey,
    owner: bytes,
    progress: Progress = _noop,
) -> tuple[bytes, FileKey, int, int] | None:
    """Finish an interrupted upload; returns (node_id, key, version, size) or None if stale."""
    record = _Resume(Path(str(rec["_path"])))
    node_id, version = bytes.fromhex(str(rec["node_id"])), int(str(rec["version"]))
    key = wrap.unwrap_file_key(
        vault, bytes.fromhex(str(rec["wrapped_key"])), owner, node_id, version
    )
    upload_id = str(rec["upload_id"])
    try:
        status = api.get_as(UploadStatus, f"/v1/uploads/{upload_id}")
    except NotFoundError:
        record.clear()
        return None
    parts = rec.get("parts")
    if not isinstance(parts, dict) or rec.get("part_size") != status.part_size:
        record.clear()  # no proof of what was sent (or parts cut differently): start over
        return None
    clean = {k: v for k, v in rec.items() if k != "_path"}
    guard = PartGuard(key, parts, lambda: record.save(clean))
    have = {p.number for p in status.received}
    done = sum(p.size for p in status.received)
    progress(done)
    try:
        _send_parts(
            api,
            src,
            key,
            node_id,
            version,
            bytes.fromhex(str(rec["salt"])),
            upload_id,
            status.part_size,
            have,
            lambda n: None,
            guard,
        )
    except (ConflictError, StaleResumeError):
        record.clear()  # a fresh key and salt for the new upload (P-NONCE)
        return None
    progress(status.size - done)
    record.clear()
    return node_id, key, version, int(str(rec["size"]))


def download(
    api: ApiClient,
    dest: Path,
    *,
    key: FileKey,
    node_id: bytes,
    version: int,
    size: int,
    progress: Progress = _noop,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Fetch, verify and write a file; `dest` appears only once every chunk verified.

    `path` and `headers` fetch the blob another way (a share link's route and token)."""
    dec = ContentDecryptor(key, node_id, version, size)
    with atomic_file(dest) as f:
        where = path or f"/v1/blobs/{blob_id(node_id, version).hex()}"
        sink = FileSink(f)  # writes and fsyncs on its own thread, overlapping the network
        try:
            with api.stream(where, headers) as response:
                for chunk in response.iter_bytes():  # as received: no re-chunking copy
                    view = memoryview(chunk)
                    for at in range(0, len(view), PIECE):
                        piece = view[at : at + PIECE]
                        sink.ensure(dec.output_bound(len(piece)) + SLACK)
                        sink.commit(dec.update_into(piece, sink.view()))
                    progress(len(chunk))
            tail = dec.finalize()
        except BaseException:
            sink.abandon()
            raise
        sink.close()
        f.write(tail)


def verify_blob(api: ApiClient, *, key: FileKey, node_id: bytes, version: int, size: int) -> None:
    """Download and authenticate a blob without writing it anywhere."""
    dec = ContentDecryptor(key, node_id, version, size)
    out = bytearray(dec.output_bound(PIECE) + SLACK)
    with api.stream(f"/v1/blobs/{blob_id(node_id, version).hex()}") as response:
        for chunk in response.iter_bytes():
            view = memoryview(chunk)
            for at in range(0, len(view), PIECE):
                dec.update_into(view[at : at + PIECE], out)
    dec.finalize()
