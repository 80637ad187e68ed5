"""Resumable downloads: a stable staging folder keeps the verified prefix of a file.

`fetch` decrypts a blob into `STAGING/content`. Every `CHECKPOINT` bytes, once the
decryptor released them (it releases only authenticated chunks), the file is fsynced and
`STAGING/state.json` records how many chunks it holds, the blob's header as the decryptor
checked it, and the SHA-256 of the plaintext prefix. A later `fetch` into the same folder
for the same blob (id and true size):

- keeps the prefix only if its bytes still hash to the recorded value (a staging file cut
  or changed meanwhile, or no state: start over) — unverified bytes are never kept;
- asks the server for the rest only (`Range`) and goes on with a decryptor resumed after
  those chunks under the header it checked the first time: a server that changed the
  blob meanwhile fails the next chunk's authentication (`IntegrityError`; the staging
  folder is then emptied, so the next try starts over).

The caller renames `content` into place only after `fetch` returned, i.e. after the final
chunk verified: nothing partial is ever visible under the file's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from blindvault.client.local.files import atomic_write
from blindvault.client.net.http import ApiClient
from blindvault.core.constants import CHUNK_SIZE, CONTENT_HEADER_SIZE
from blindvault.core.content import ContentDecryptor, blob_id
from blindvault.core.keys import FileKey
from blindvault.core.padme import padded_length
from blindvault.core.primitives import Sha256
from blindvault.errors import IntegrityError

__all__ = ["CHECKPOINT", "CONTENT", "STATE", "fetch"]

CHECKPOINT = 16 << 20  # plaintext bytes between two recorded positions (a multiple of chunks)
CONTENT, STATE = "content", "state.json"
READ = 1 << 20

Progress = Callable[[int], None]


def _noop(_: int) -> None:
    return None


@dataclass(frozen=True)
class _State:
    blob: str  # blob id (hex): a new version of the file is another blob
    size: int  # the true size from the signed manifest
    head: str  # hex of the blob's first CONTENT_HEADER_SIZE bytes, as checked
    chunks: int  # chunks whose plaintext is in CONTENT (all of them authenticated)
    sha256: str  # of CONTENT's first min(size, chunks * CHUNK_SIZE) bytes (all, if complete)
    complete: bool = False  # the final chunk verified too: CONTENT is the whole file

    @staticmethod
    def load(path: Path) -> _State | None:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return _State(str(d["blob"]), int(d["size"]), str(d["head"]), int(d["chunks"]),
                          str(d["sha256"]), d["complete"] is True)  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        atomic_write(path, json.dumps(asdict(self)).encode("utf-8"))


def _kept(folder: Path, bid: str, size: int) -> tuple[_State, Sha256] | None:
    """The recorded prefix of this very blob (or all of it), if the staging file still
    holds it intact."""
    state = _State.load(folder / STATE)
    content = folder / CONTENT
    if (
        state is None
        or (state.blob, state.size) != (bid, size)
        or len(state.head) != 2 * CONTENT_HEADER_SIZE
        or not 0 <= state.chunks * CHUNK_SIZE <= padded_length(size)
        or not (state.chunks or state.complete)
    ):
        return None
    length = size if state.complete else min(size, state.chunks * CHUNK_SIZE)
    hasher = Sha256()
    try:
        with content.open("r+b") as f:
            f.truncate(length)  # bytes written after the last checkpoint are not kept
            f.seek(0)
            while piece := f.read(READ):
                hasher.update(piece)
            if f.tell() != length:
                return None
    except OSError:
        return None
    if hasher.digest().hex() != state.sha256:  # mutant: partial.prefix-hash
        return None
    return state, hasher


def fetch(
    api: ApiClient,
    folder: Path,
    *,
    key: FileKey,
    node_id: bytes,
    version: int,
    size: int,
    progress: Progress = _noop,
) -> Path:
    """The verified file in `folder` (its own staging folder), resuming a kept prefix;
    returns the path of the complete file for the caller to rename into place."""
    folder.mkdir(parents=True, exist_ok=True)
    bid = blob_id(node_id, version).hex()
    kept = _kept(folder, bid, size)
    try:
        return _run(api, folder, kept, key=key, node_id=node_id, version=version, size=size,
                    progress=progress)  # fmt: skip
    except IntegrityError:
        (folder / STATE).unlink(missing_ok=True)
        (folder / CONTENT).unlink(missing_ok=True)
        raise


def _run(
    api: ApiClient,
    folder: Path,
    kept: tuple[_State, Sha256] | None,
    *,
    key: FileKey,
    node_id: bytes,
    version: int,
    size: int,
    progress: Progress,
) -> Path:
    bid = blob_id(node_id, version).hex()
    content, state_path = folder / CONTENT, folder / STATE
    if kept is None:
        state_path.unlink(missing_ok=True)
        content.write_bytes(b"")
        hasher, head = Sha256(), bytearray()
        dec = ContentDecryptor(key, node_id, version, size)
        start = 0
    elif kept[0].complete:  # verified to its end by a run killed before it was used
        return content
    else:
        state, hasher = kept
        head = bytearray(bytes.fromhex(state.head))
        dec = ContentDecryptor.resume(key, node_id, version, size, head=bytes(head),
                                      chunks=state.chunks)  # fmt: skip
        start = ContentDecryptor.resume_offset(state.chunks)
    out = bytearray(dec.output_bound(READ) + 2 * CHUNK_SIZE)
    mark = dec.verified
    headers = {"Range": f"bytes={start}-"} if start else None
    with content.open("ab") as f, api.stream(f"/v1/blobs/{bid}", headers) as response:
        skip = start if response.status_code == 200 else 0  # the server sent it all anyway
        for piece in response.iter_bytes(READ):
            view = memoryview(piece)[skip:]
            skip -= min(skip, len(piece))
            if len(head) < CONTENT_HEADER_SIZE:
                head += view[: CONTENT_HEADER_SIZE - len(head)]
            n = dec.update_into(view, out)
            if n:
                f.write(memoryview(out)[:n])
                hasher.update(memoryview(out)[:n])
            progress(len(view))
            if dec.verified - mark >= CHECKPOINT:
                mark = dec.verified
                done = _State(bid, size, bytes(head).hex(), mark // CHUNK_SIZE,
                              hasher.digest().hex())  # fmt: skip
                _checkpoint(f, state_path, done)
        tail = dec.finalize()
        f.write(tail)
        hasher.update(tail)
        done = _State(bid, size, bytes(head).hex(), dec.verified // CHUNK_SIZE,
                      hasher.digest().hex(), complete=True)  # fmt: skip
        _checkpoint(f, state_path, done)
    return content


def _checkpoint(f: BinaryIO, state_path: Path, state: _State) -> None:
    """The prefix on disk first, then the record that names it."""
    f.flush()
    os.fsync(f.fileno())
    state.save(state_path)
