"""Large blobs in resumable parts, committed atomically (the rules: `domain.uploads`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from blindvault.server.bodies import exact_body, spool_body
from blindvault.server.codec import check_id
from blindvault.server.deps import Ctx, InScope, UploadId
from blindvault.server.domain import uploads
from blindvault.server.errors import invalid
from blindvault.wire.blobs import BlobStored
from blindvault.wire.uploads import Part, UploadStart, UploadStarted, UploadStatus

router = APIRouter(prefix="/v1", tags=["blobs"])


@router.post("/uploads", status_code=201, response_model=UploadStarted)
def start_upload(body: UploadStart, scope: InScope, ctx: Ctx) -> UploadStarted:
    check_id(body.blob_id, "blob id")
    scope.check_write()
    upload_id, part = uploads.start(ctx, scope, body.blob_id, body.size)
    return UploadStarted(
        upload_id=upload_id, part_size=part, parts=uploads.part_count(body.size, part)
    )


@router.get("/uploads/{upload_id}", response_model=UploadStatus)
def upload_status(upload_id: UploadId, scope: InScope, ctx: Ctx) -> UploadStatus:
    """What has arrived so far: an interrupted client resumes from here."""
    up, parts = uploads.status(ctx, scope, upload_id)
    return UploadStatus(
        upload_id=upload_id,
        blob_id=up.blob_id,
        size=up.size,
        part_size=up.part_size,
        state=up.state,
        received=[Part(number=p.number, size=p.size) for p in parts],
    )


@router.put("/uploads/{upload_id}/parts/{number}", response_model=Part)
async def put_part(
    upload_id: UploadId, number: int, request: Request, scope: InScope, ctx: Ctx
) -> Part:
    """Store one part (idempotent: sending a part again replaces it)."""
    scope.check_write()
    up = await run_in_threadpool(uploads.load_open, ctx, scope, upload_id)
    want = uploads.expected_part_size(up, number)
    wrong = invalid(f"part {number} must be exactly {want} bytes")
    streamer = uploads.part_streamer(ctx)
    if streamer is not None:  # S3: passed on as it arrives, no spooling
        chunks = exact_body(request, want, wrong)
        etag = await uploads.stream_part(streamer, up, number, want, chunks)
        await run_in_threadpool(uploads.record_part, ctx, up, number, want, etag)
        return Part(number=number, size=want)
    with await spool_body(request, want) as body:
        if body.size != want:
            raise wrong
        # written from the spooled file: the part is never held in memory whole
        await run_in_threadpool(uploads.store_part, ctx, up, number, body.file, body.size)
    return Part(number=number, size=want)


@router.post("/uploads/{upload_id}/commit", status_code=201, response_model=BlobStored)
def commit_upload(upload_id: UploadId, scope: InScope, ctx: Ctx) -> BlobStored:
    """Make the blob visible, atomically, once every part has arrived. Idempotent: a
    repeated commit answers the same and never writes the object again."""
    scope.check_write()
    up = uploads.commit(ctx, scope, upload_id)
    return BlobStored(blob_id=up.blob_id, size=up.size)


@router.delete("/uploads/{upload_id}", status_code=204)
def abort_upload(upload_id: UploadId, scope: InScope, ctx: Ctx) -> Response:
    scope.check_write()
    uploads.abort(ctx, scope, upload_id)
    return Response(status_code=204)
