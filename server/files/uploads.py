"""Resumable uploads (断点续传): create, inspect, append to, finish, concatenate, terminate and expire
uploads, whatever the protocol they came in by (tus today, see `server.files.tus`).

An upload is bound at creation to its owner (the user), the owner's enterprise (quota) and its target
(a drawing catalogue entry, checked for write access then). Bytes stream to the storage's part file;
the durable offset moves in PostgreSQL only after they were fsynced, so a kill -9 loses at most the
chunk in flight, and bytes past the durable offset are dropped when the next writer opens the part.
The first bytes are checked against the allowed types as soon as they arrive. A finished upload is
placed in the SM3-addressed store and recorded as the entry's next version in one transaction.
Must not: parse HTTP (the protocol module does), hold a pooled connection while a body streams.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from server.bim.checks import bid_accepts_models, create_check, model_size_limit
from server.config import Settings
from server.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TongbanError,
)
from server.files import sql, versions
from server.files.access import write_files
from server.files.locks import UploadLocks
from server.files.sniff import (
    HEAD_BYTES,
    IFC,
    ZIP,
    FileType,
    UnsupportedFileType,
    check_content,
    sanitise_name,
)
from server.files.storage import Storage, StoredBlob
from server.files.versions import add_version
from server.identity.models import CurrentUser
from server.security.sm3 import Sm3

logger = logging.getLogger(__name__)

Kind = Literal["single", "partial", "final"]
CHECKSUMS = ("sha256", "sm3", "sha1")  # sha1 only because tuspy's checksum option knows no other
MAX_METADATA_BYTES = 4096
MAX_PARTS = 64
DRAWING_UPLOAD = "drawing.upload"
CHECK_JOB = "run_bim_check"  # server.bim.jobs
BIM_SUBMIT = "bim.submit"
HASHERS_KEPT = 10_000


class QuotaExceeded(PayloadTooLarge):
    code, message = "quota_exceeded", "本单位的存储配额不足"


@dataclass(frozen=True)
class Upload:
    id: UUID
    owner_id: UUID
    org_id: UUID
    kind: Kind
    drawing_id: UUID | None
    bid_id: UUID | None
    length: int
    offset: int
    metadata: dict[str, str]
    file_name: str
    media_type: str | None
    parts: list[UUID] | None
    blob_sm3: str | None
    completed_at: datetime | None
    expires_at: datetime

    @classmethod
    def of(cls, row: Any) -> Upload:
        return cls(
            id=row["id"], owner_id=row["owner_id"], org_id=row["org_id"], kind=row["kind"],
            drawing_id=row["drawing_id"], bid_id=row["bid_id"], length=row["upload_length"],
            offset=row["upload_offset"],
            metadata=row["metadata"], file_name=row["file_name"], media_type=row["media_type"],
            parts=list(row["parts"]) if row["parts"] is not None else None, blob_sm3=row["blob_sm3"],
            completed_at=row["completed_at"], expires_at=row["expires_at"],
        )  # fmt: skip

    @property
    def done(self) -> bool:
        return self.offset == self.length


@dataclass(frozen=True)
class Checksum:
    algorithm: str
    digest: bytes

    @classmethod
    def parse(cls, header: str) -> Checksum:
        algorithm, _, encoded = header.strip().partition(" ")
        if algorithm not in CHECKSUMS:
            raise BadRequest(f"不支持的校验算法 {algorithm[:20]!r}（支持 sha256、sm3、sha1）")
        try:
            digest = base64.b64decode(encoded.strip(), validate=True)
        except ValueError as exc:
            raise BadRequest("Upload-Checksum 的值不是 base64") from exc
        return cls(algorithm, digest)

    def hasher(self) -> Any:
        if self.algorithm == "sm3":
            return Sm3()
        return hashlib.new(self.algorithm)


@dataclass(frozen=True)
class Caller:
    user: CurrentUser
    ip: str | None
    read_any: bool  # holds drawing.read_any
    grants: frozenset[str] = frozenset()  # which of the targets' permissions the caller holds


@dataclass(frozen=True)
class Target:
    """What a finished upload becomes: the next version of a drawing catalogue entry, or a BIM model
    submitted to a bid session for checking."""

    drawing_id: UUID | None = None
    bid_id: UUID | None = None
    max_bytes: int | None = None  # a bid's rule set limits the model's size


class Uploads:
    """The upload service of one server process."""

    def __init__(
        self, pool: Any, storage: Storage, locks: UploadLocks, settings: Settings, audit_key: bytes, arq: Any
    ) -> None:
        self.pool = pool
        self.arq = arq  # to enqueue the check of a submitted BIM model
        self.storage = storage
        self.locks = locks
        self.settings = settings
        self.audit_key = audit_key
        # SM3 of the bytes received so far, for uploads written in order by this process: saves reading
        # the file again at the end (a restart or a rolled-back chunk just means one more read).
        self._hashers: OrderedDict[UUID, tuple[int, Sm3]] = OrderedDict()

    def _expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.settings.files_upload_ttl_s)

    # -- creation -------------------------------------------------------------------------------------

    async def create(
        self, caller: Caller, *, length: int | None, metadata: dict[str, str], concat: Kind, parts: list[UUID]
    ) -> Upload:
        """A new upload; `concat`: single, partial (a piece) or final (the concatenation of `parts`)."""
        if len(str(metadata)) > MAX_METADATA_BYTES:
            raise BadRequest("Upload-Metadata 过长")
        raw_name = metadata.get("filename", "")
        if concat != "partial" and not raw_name:
            raise InvalidInput("缺少文件名（Upload-Metadata filename）", fields=[
                {"field": "filename", "message": "必填", "type": "missing"}])  # fmt: skip
        file_name = sanitise_name(raw_name) if raw_name else ""
        target = Target() if concat == "partial" else await self._target(caller, metadata)
        if concat == "final":
            return await self._concatenate(caller, parts, metadata, file_name, target)
        if length is None:
            raise BadRequest("缺少 Upload-Length")
        self._check_size(length, target)
        async with self.pool.acquire() as conn, conn.transaction():
            await self._reserve(conn, caller.user.org_id, length)
            row = await conn.fetchrow(
                sql.INSERT, uuid.uuid4(), caller.user.id, caller.user.org_id, concat, target.drawing_id,
                target.bid_id, length, 0,
                metadata, file_name, None, self._expiry(),
            )  # fmt: skip
        upload = Upload.of(row)
        await self.storage.create_part(upload.id)
        logger.info("upload.created", extra={"upload_id": str(upload.id), "length": length, "kind": concat})
        if concat == "single" and length == 0:
            return await self._finish(caller, upload)
        return upload

    def _check_size(self, length: int, target: Target | None = None) -> None:
        """413 past the service's maximum, or past the bid's rule set's model size limit."""
        if length > self.settings.files_max_bytes:
            raise PayloadTooLarge(
                f"文件不能超过 {self.settings.files_max_bytes / 1024**3:.1f} GB",
                max_size=self.settings.files_max_bytes,
            )
        if target is not None and target.max_bytes is not None and length > target.max_bytes:
            raise PayloadTooLarge(
                f"本次评标的模型文件不能超过 {target.max_bytes / 1024**2:.0f} MB", max_size=target.max_bytes
            )

    async def _reserve(self, conn: Any, org_id: UUID, length: int) -> None:
        await conn.execute(sql.LOCK_ORG, org_id)  # creations of one enterprise one at a time
        used = await conn.fetchval(sql.ORG_USAGE, org_id)
        if used + length > self.settings.files_quota_bytes:
            raise QuotaExceeded(quota=self.settings.files_quota_bytes, used=int(used))

    async def _target(self, caller: Caller, metadata: dict[str, str]) -> Target:
        """The upload's target from its metadata (`drawing` or `bid`), checked for the caller."""
        if "bid" in metadata:
            bid_id, max_bytes = await self._bid_target(caller, metadata["bid"])
            return Target(bid_id=bid_id, max_bytes=max_bytes)
        try:
            drawing_id = UUID(metadata.get("drawing", ""))
        except ValueError as exc:
            raise InvalidInput("缺少或无效的上传目标（Upload-Metadata drawing 或 bid）", fields=[
                {"field": "drawing", "message": "须为图纸目录条目的编号", "type": "uuid"}]) from exc  # fmt: skip
        if DRAWING_UPLOAD not in caller.grants:
            raise Forbidden("没有上传图纸的权限")
        async with self.pool.acquire() as conn:
            project_id = await conn.fetchval(sql.DRAWING_PROJECT, drawing_id)
            if project_id is None:
                raise NotFound("图纸目录条目不存在或无权查看")
            await write_files(conn, caller.user, project_id, read_any=caller.read_any)
        return Target(drawing_id=drawing_id)

    async def _bid_target(self, caller: Caller, value: str) -> tuple[UUID, int | None]:
        try:
            bid_id = UUID(value)
        except ValueError as exc:
            raise InvalidInput("无效的评标会议编号（Upload-Metadata bid）", fields=[
                {"field": "bid", "message": "须为评标会议编号", "type": "uuid"}]) from exc  # fmt: skip
        if BIM_SUBMIT not in caller.grants:
            raise Forbidden("没有提交BIM模型的权限")
        async with self.pool.acquire() as conn:
            version_id = await bid_accepts_models(conn, bid_id)
            max_bytes = await model_size_limit(conn, version_id)
        return bid_id, max_bytes

    async def _concatenate(
        self,
        caller: Caller,
        parts: list[UUID],
        metadata: dict[str, str],
        file_name: str,
        target: Target,
    ) -> Upload:
        if not parts or len(parts) > MAX_PARTS or len(set(parts)) != len(parts):
            raise BadRequest(f"Upload-Concat final 须列出 1 至 {MAX_PARTS} 个不重复的分片")
        pieces = [await self.get(caller, part) for part in parts]
        if any(p.kind != "partial" for p in pieces):
            raise BadRequest("只能合并分片上传（Upload-Concat: partial）")
        if any(not p.done for p in pieces):
            raise Conflict("分片尚未上传完成")
        length = sum(p.length for p in pieces)
        self._check_size(length, target)
        async with AsyncExitStack() as held:
            for part in parts:
                await held.enter_async_context(self.locks.hold(part))
            head = await self._head_of(parts, pieces)
            kind = _allowed(check_content(head, file_name), target)
            blob = await self.storage.store(parts)
            async with self.pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    sql.INSERT, uuid.uuid4(), caller.user.id, caller.user.org_id, "final", target.drawing_id,
                    target.bid_id, length,
                    length, metadata, file_name, parts, self._expiry(),
                )  # fmt: skip
                upload = Upload.of(row)
                check_id = await self._record(conn, caller, upload, blob.sm3, blob.size, kind.media_type)
                await conn.execute(sql.DELETE_MANY, parts)
            for part in parts:
                await self.storage.delete_part(part)
            await self._enqueue(check_id)
        logger.info("upload.concatenated", extra={"upload_id": str(upload.id), "parts": len(parts)})
        return await self.get(caller, upload.id)

    async def _head_of(self, parts: list[UUID], pieces: list[Upload]) -> bytes:
        head = b""
        for part, piece in zip(parts, pieces, strict=True):
            if len(head) >= HEAD_BYTES:
                break
            head += await self.storage.read_part(part, 0, min(piece.length, HEAD_BYTES - len(head)))
        return head

    # -- reading ---------------------------------------------------------------------------------------

    async def get(self, caller: Caller, upload_id: UUID) -> Upload:
        """The upload, if it is the caller's (others' answer 404 like unknown ones); 410 once expired."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(sql.GET, upload_id)
        if row is None or row["owner_id"] != caller.user.id:
            raise NotFound("上传不存在或已被删除")
        upload = Upload.of(row)
        if upload.completed_at is None and upload.expires_at < datetime.now(UTC):
            raise Gone("上传已过期，请重新上传")
        return upload

    async def settle(self, caller: Caller, upload: Upload) -> Upload:
        """An upload whose bytes all arrived but whose finishing was cut short (the process died
        between storing and recording) is finished now; others are returned as they are."""
        if upload.done and upload.kind == "single" and upload.completed_at is None:
            return await self._finish(caller, upload)
        return upload

    # -- appending -------------------------------------------------------------------------------------

    async def append(
        self, caller: Caller, upload_id: UUID, offset: int, body: AsyncIterator[bytes],
        checksum: Checksum | None, declared_length: int | None,
    ) -> Upload:  # fmt: skip
        """Append the request body at `offset` (which must be the upload's offset). Without a checksum,
        the bytes that arrived before a disconnect are kept; with one, the chunk is kept whole or not at all."""
        upload = await self.get(caller, upload_id)
        if upload.kind == "final":
            raise Forbidden("合并后的上传不能再追加数据")
        if upload.done and offset == upload.offset:
            if declared_length:
                raise PayloadTooLarge("数据超出了上传的声明长度")
            return await self.settle(caller, upload)  # a repeated last PATCH: nothing to add
        if offset != upload.offset:
            raise Conflict("Upload-Offset 与服务器记录的偏移量不一致", offset=upload.offset)
        if declared_length is not None and offset + declared_length > upload.length:
            raise PayloadTooLarge("数据超出了上传的声明长度")
        async with self.locks.hold(upload_id):
            upload = await self.get(caller, upload_id)  # the offset as it is now we hold the lock
            if offset != upload.offset:
                raise Conflict("Upload-Offset 与服务器记录的偏移量不一致", offset=upload.offset)
            upload = await self._stream(caller, upload, body, checksum)
        if upload.done and upload.kind == "single":
            upload = await self._finish(caller, upload)
        return upload

    async def _stream(
        self, caller: Caller, upload: Upload, body: AsyncIterator[bytes], checksum: Checksum | None
    ) -> Upload:
        hasher = self._hasher_at(upload)
        verify = checksum.hasher() if checksum else None
        digests = [d for d in (hasher, verify) if d is not None]
        writer = await self.storage.open_part(upload.id, upload.offset, digests)
        check_head = upload.kind == "single" and upload.media_type is None and upload.offset < HEAD_BYTES
        head = bytearray(await self.storage.read_part(upload.id, 0, upload.offset) if check_head else b"")
        media_type: str | None = None
        failure: BaseException | None = None
        cut = False
        try:
            async for chunk in body:
                if writer.offset + len(chunk) > upload.length:
                    raise PayloadTooLarge("数据超出了上传的声明长度")
                if check_head and media_type is None:
                    head += chunk[: HEAD_BYTES - len(head)]
                    if len(head) >= min(HEAD_BYTES, upload.length):
                        media_type = _checked_media_type(bytes(head), upload)
                await writer.write(chunk)
            if check_head and media_type is None and writer.offset == upload.length:
                media_type = _checked_media_type(bytes(head), upload)
            await writer.drain()
            if checksum is not None and verify is not None and verify.digest() != checksum.digest:
                raise ChecksumMismatch()
        except TongbanError as exc:
            failure = exc
        except Exception as exc:  # the client went away mid-chunk (ClientDisconnect) or the read failed
            cut = True
            failure = exc
        except BaseException:  # cancelled (shutdown): nothing of this chunk is recorded
            await writer.rollback()
            raise
        if failure is not None and (not cut or checksum is not None):
            await writer.rollback()
            self._hashers.pop(upload.id, None)
            if isinstance(failure, UnsupportedFileType):
                await self._drop(upload)
            raise failure
        new_offset = await writer.commit()
        if hasher is not None:
            self._keep_hasher(upload.id, new_offset, hasher)
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                sql.ADVANCE, upload.id, upload.offset, new_offset, self._expiry(), media_type
            )
        if row is None:
            raise Conflict("上传状态已变化，请重新查询偏移量")
        if cut:
            logger.info("upload.cut", extra={"upload_id": str(upload.id), "offset": new_offset})
        return Upload.of(row)

    def _hasher_at(self, upload: Upload) -> Sm3 | None:
        if upload.kind != "single":
            return None
        if upload.offset == 0:
            return Sm3()
        kept = self._hashers.pop(upload.id, None)
        if kept is None or kept[0] != upload.offset:
            return None  # bytes before this chunk were not seen here: the file is read again at the end
        return kept[1]

    def _keep_hasher(self, upload_id: UUID, offset: int, hasher: Sm3) -> None:
        self._hashers[upload_id] = (offset, hasher)
        while len(self._hashers) > HASHERS_KEPT:
            self._hashers.popitem(last=False)

    # -- finishing -------------------------------------------------------------------------------------

    async def _finish(self, caller: Caller, upload: Upload) -> Upload:
        kept = self._hashers.pop(upload.id, None)
        digest = kept[1] if kept is not None and kept[0] == upload.length else None
        media_type = upload.media_type
        if media_type is None:  # a file shorter than the head, or checked by an earlier process
            head = await self.storage.read_part(upload.id, 0, HEAD_BYTES)
            media_type = _checked_media_type(head, upload)
        blob = await self.storage.store([upload.id], digest)
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(sql.GET + " FOR UPDATE", upload.id)
            if row is None or row["completed_at"] is not None:
                return await self.get(caller, upload.id)  # finished by a concurrent settle
            check_id = await self._record(conn, caller, upload, blob.sm3, blob.size, media_type)
        await self.storage.delete_part(upload.id)
        await self._enqueue(check_id)
        logger.info("upload.finished", extra={"upload_id": str(upload.id), "sm3": blob.sm3})
        return await self.get(caller, upload.id)

    async def _record(
        self, conn: Any, caller: Caller, upload: Upload, sm3: str, size: int, media_type: str
    ) -> UUID | None:
        """Record the stored file against the upload's target; the id of the check it created, if any."""
        check_id: UUID | None = None
        if upload.bid_id is not None:
            await conn.execute(
                versions.INSERT_BLOB, sm3, size, media_type
            )  # add_version does it for drawings
            check_id = await create_check(
                conn, self.audit_key, bid_id=upload.bid_id, user=caller.user, blob_sm3=sm3,
                file_name=upload.file_name, size=size, upload_id=upload.id, ip=caller.ip,
            )  # fmt: skip
        else:
            assert upload.drawing_id is not None
            await add_version(
                conn, self.audit_key, drawing_id=upload.drawing_id, blob=StoredBlob(sm3, size),
                file_name=upload.file_name, media_type=media_type, user_id=caller.user.id,
                user_login=caller.user.login, org_id=caller.user.org_id, upload_id=upload.id, ip=caller.ip,
            )  # fmt: skip
        await conn.execute(sql.COMPLETE, upload.id, sm3, media_type)
        return check_id

    async def _enqueue(self, check_id: UUID | None) -> None:
        """Start the check of a submitted model (after its row committed). If Redis refuses, the
        worker's cron finds the queued check and enqueues it."""
        if check_id is None:
            return
        try:
            await self.arq.enqueue_job(CHECK_JOB, str(check_id), _job_id=f"bim-check:{check_id}")
        except Exception:
            logger.warning("upload.check_not_enqueued", extra={"check_id": str(check_id)}, exc_info=True)

    # -- ending ----------------------------------------------------------------------------------------

    async def terminate(self, caller: Caller, upload_id: UUID) -> None:
        """tus termination: the upload and its bytes are gone (a finished upload's version stays)."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(sql.GET, upload_id)
        if row is None or row["owner_id"] != caller.user.id:
            raise NotFound("上传不存在或已被删除")
        async with self.locks.hold(upload_id):
            await self._drop(Upload.of(row))

    async def _drop(self, upload: Upload) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(sql.DELETE, upload.id)
        await self.storage.delete_part(upload.id)
        self._hashers.pop(upload.id, None)


def _checked_media_type(head: bytes, upload: Upload) -> str:
    return _allowed(
        check_content(head, upload.file_name), Target(upload.drawing_id, upload.bid_id)
    ).media_type


def _allowed(found: FileType, target: Target) -> FileType:
    """A BIM model is an IFC file (STEP text) or an .ifczip; drawings may be any allowed type."""
    if target.bid_id is not None and found not in (IFC, ZIP):
        raise UnsupportedFileType("BIM 模型须为 IFC 文件（.ifc 或 .ifczip）")
    return found
