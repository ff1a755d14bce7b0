"""One stored version of a drawing, sent as a download: the whole file or one byte range (RFC 9110
Range, If-Range, ETag), so an interrupted download resumes where it stopped. Every download that
sends bytes is audited ("drawing.download").

The ETag is the file's SM3 digest: a version's bytes never change. Several ranges in one request are
answered with the whole file (200), as RFC 9110 allows, instead of multipart/byteranges.
Must not: check access (the route calls `server.files.access` first), or read a file into memory.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from starlette.responses import JSONResponse, Response, StreamingResponse

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import NotFound, TongbanError
from server.files import catalogue_sql as sql
from server.files.storage import Storage
from server.identity.models import CurrentUser

logger = logging.getLogger(__name__)
MAX_VERSION = 2**31 - 1  # the column is a PostgreSQL integer
# One range only; at most 19 digits (more cannot be a file offset, and int() of thousands is slow).
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,19})\s*-\s*(\d{0,19})\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The requested range starts past the end of the file (or asks for the last 0 bytes)."""


@dataclass(frozen=True)
class StoredFile:
    drawing_id: UUID
    project_id: UUID
    version: int
    file_name: str
    size: int
    media_type: str
    sm3: str
    created_at: datetime

    @property
    def etag(self) -> str:
        return f'"{self.sm3}"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.created_at, usegmt=True)


async def version_file(conn: Any, project_id: UUID, drawing_id: UUID, version: int) -> StoredFile:
    """The stored file of one version of an entry of `project_id`; 404 when there is none."""
    row = await conn.fetchrow(sql.VERSION_FILE, drawing_id, version) if 0 < version <= MAX_VERSION else None
    if row is None:
        raise NotFound("该图纸没有这个版次")
    return StoredFile(project_id=project_id, **dict(row))


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The bytes [start, end) one `Range` header asks for, or None to send the whole file (no header,
    several ranges, or a header that is not a valid single range: RFC 9110 lets those be ignored).
    Raises RangeNotSatisfiable when the range starts at or past the end."""
    match = _RANGE.match(header or "")
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)  # "-n": the last n bytes
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable()
        return max(0, size - suffix), size
    start = int(first)
    if last and int(last) < start:
        return None  # "5-2" is not a valid range: ignored
    if start >= size:
        raise RangeNotSatisfiable()
    return start, size if not last else min(int(last) + 1, size)


def range_applies(if_range: str | None, file: StoredFile) -> bool:
    """If-Range: send the range only if the client's copy is this one (strong ETag or exact date)."""
    if if_range is None:
        return True
    value = if_range.strip()
    return value == file.etag if value.startswith(('"', "W/")) else value == file.last_modified


def not_modified(if_none_match: str | None, file: StoredFile) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or file.etag in tags


def content_disposition(name: str, fallback: str = "download") -> str:
    """attachment with an ASCII fallback name and the UTF-8 name in RFC 5987 `filename*`."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in name)
    stem, dot, ext = ascii_name.rpartition(".")
    if not stem.strip("_ ") or not dot:
        ext = ext if dot and ext.isalnum() else ""
        ascii_name = f"{fallback}.{ext}" if ext else fallback
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def serve(
    conn: Any,
    storage: Storage,
    audit_key: bytes,
    file: StoredFile,
    headers: Mapping[str, str],
    *,
    method: str,
    by: CurrentUser,
    ip: str | None,
) -> Response:
    """The response for a GET (or HEAD) of `file`, after the caller checked access."""
    common = {
        "ETag": file.etag,
        "Last-Modified": file.last_modified,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
    }
    if not_modified(headers.get("if-none-match"), file):
        return Response(status_code=304, headers=common)
    try:
        wanted = (
            byte_range(headers.get("range"), file.size)
            if range_applies(headers.get("if-range"), file)
            else None
        )
    except RangeNotSatisfiable:
        body = {"error": {"code": "range_not_satisfiable", "message": "请求的字节范围超出文件大小"}}
        return JSONResponse(
            body, status_code=416, headers={**common, "Content-Range": f"bytes */{file.size}"}
        )
    start, end = wanted or (0, file.size)
    out = {
        **common,
        "Content-Length": str(end - start),
        "Content-Disposition": content_disposition(file.file_name, f"drawing-v{file.version}"),
    }
    if wanted is not None:
        out["Content-Range"] = f"bytes {start}-{end - 1}/{file.size}"
    status = 206 if wanted is not None else 200
    if method == "HEAD":
        return Response(status_code=status, headers=out, media_type=file.media_type)
    if not storage.has_blob(file.sm3):  # before the status line: a missing file must not look like a cut one
        logger.error("drawing.blob_missing", extra={"sm3": file.sm3, "drawing_id": str(file.drawing_id)})
        raise TongbanError("文件内容缺失，请联系系统管理员")
    async with conn.transaction():
        await audit.append(conn, audit_key, AuditRecord(
            action="drawing.download", actor_id=by.id, actor_login=by.login, org_id=by.org_id, ip=ip,
            target=f"drawing:{file.drawing_id}",
            detail={"project_id": str(file.project_id), "version": file.version, "sm3": file.sm3,
                    "size": file.size, "range": f"{start}-{end - 1}" if wanted is not None else None},
        ))  # fmt: skip
    return StreamingResponse(
        storage.read_blob(file.sm3, start, end), status_code=status, headers=out, media_type=file.media_type
    )
