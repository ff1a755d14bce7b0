"""The tus 1.0.0 resumable upload protocol at `/files/`: core (HEAD, PATCH, OPTIONS) and the creation,
creation-with-upload, termination, checksum (sha256, sm3), expiration and concatenation extensions,
so that unmodified tus clients (tuspy, tus-js-client, uppy) work. https://tus.io/protocols/resumable-upload

This module only speaks the protocol: it reads and writes the Tus-*/Upload-* headers and hands the
body stream to `server.files.uploads`. Must not: hold upload rules (sizes, quotas, types, access).
"""

from __future__ import annotations

import base64
import binascii
import re
from email.utils import format_datetime
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from server.errors import BadRequest, TongbanError, UnsupportedMediaType
from server.files.access import can_read_any
from server.files.uploads import CHECKSUMS, Caller, Checksum, Kind, Upload, Uploads
from server.permissions import PUBLIC
from server.routing import RawRoute, RouteTable, client_ip, holds, require_user
from server.runtime import runtime

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,checksum,expiration,concatenation"
CHUNK_TYPE = "application/offset+octet-stream"
UPLOAD = "file.upload"  # the endpoint; each target asks for its own permission too
TARGET_PERMISSIONS = ("drawing.upload", "bim.submit")
BASE = "/files/"
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class UnsupportedVersion(TongbanError):
    status, code, message = 412, "tus_version", "不支持的 tus 协议版本（仅支持 1.0.0）"


def uploads(request: Request) -> Uploads:
    found: Uploads = runtime(request).uploads
    return found


async def caller(request: Request) -> Caller:
    grants = frozenset([p for p in TARGET_PERMISSIONS if await holds(request, p)])
    return Caller(require_user(request), client_ip(request), await can_read_any(request), grants)


def _tus_headers(**more: str) -> dict[str, str]:
    return {"Tus-Resumable": VERSION, "Cache-Control": "no-store", **more}


def _require_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != VERSION:
        raise UnsupportedVersion(tus_version=VERSION)


def _int_header(request: Request, name: str) -> int | None:
    value = request.headers.get(name)
    if value is None:
        return None
    if not value.isdigit() or len(value) > 19:
        raise BadRequest(f"{name} 须为非负整数")
    return int(value)


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata: key base64,key2 base64,…` → {key: text}. Keys unique, values UTF-8."""
    metadata: dict[str, str] = {}
    if not header:
        return metadata
    for pair in header.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not _KEY.match(key) or key in metadata:
            raise BadRequest("Upload-Metadata 格式错误")
        try:
            metadata[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"Upload-Metadata 中 {key} 的值不是 UTF-8 文本的 base64") from exc
    return metadata


def _encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())


def parse_concat(header: str | None) -> tuple[Kind, list[UUID]]:
    if header is None:
        return "single", []
    if header == "partial":
        return "partial", []
    if not header.startswith("final;"):
        raise BadRequest("Upload-Concat 须为 partial 或 final;<分片地址…>")
    parts: list[UUID] = []
    for url in header.removeprefix("final;").split():
        path = url.split("://", 1)[-1]
        path = path[path.find("/") :] if "://" in url else path
        if not path.startswith(BASE):
            raise BadRequest("Upload-Concat 中的分片地址无效")
        try:
            parts.append(UUID(path.removeprefix(BASE).strip("/")))
        except ValueError as exc:
            raise BadRequest("Upload-Concat 中的分片地址无效") from exc
    return "final", parts


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    if upload.completed_at is None:
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


async def options(request: Request) -> Response:
    settings = runtime(request).settings
    return Response(status_code=204, headers={
        "Tus-Resumable": VERSION, "Tus-Version": VERSION, "Tus-Extension": EXTENSIONS,
        "Tus-Max-Size": str(settings.files_max_bytes), "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
    })  # fmt: skip


async def create(request: Request) -> Response:
    """POST /files/: a new upload; with a body (creation-with-upload) its first chunk too."""
    _require_version(request)
    if request.headers.get("upload-defer-length") is not None:
        raise BadRequest("不支持 Upload-Defer-Length，请给出 Upload-Length")
    kind, parts = parse_concat(request.headers.get("upload-concat"))
    length = _int_header(request, "upload-length")
    if kind == "final" and length is not None:
        raise BadRequest("合并上传不应给出 Upload-Length")
    body_length = _int_header(request, "content-length") or 0
    if body_length and request.headers.get("content-type", "").split(";")[0].strip() != CHUNK_TYPE:
        raise UnsupportedMediaType(f"上传数据的 Content-Type 须为 {CHUNK_TYPE}")
    who = await caller(request)
    service = uploads(request)
    upload = await service.create(
        who, length=length, metadata=parse_metadata(request.headers.get("upload-metadata")), concat=kind,
        parts=parts,
    )  # fmt: skip
    if body_length and kind != "final" and not upload.done:
        upload = await service.append(who, upload.id, 0, request.stream(), _checksum(request), body_length)
    headers = _tus_headers(Location=f"{BASE}{upload.id}", **_state_headers(upload))
    if kind in ("partial", "final"):
        headers["Upload-Concat"] = _concat_header(upload)
    return Response(status_code=201, headers=headers)


def _checksum(request: Request) -> Checksum | None:
    header = request.headers.get("upload-checksum")
    return Checksum.parse(header) if header is not None else None


def _concat_header(upload: Upload) -> str:
    if upload.kind == "final":
        return "final;" + " ".join(f"{BASE}{p}" for p in upload.parts or [])
    return "partial"


async def head(request: Request) -> Response:
    _require_version(request)
    who = await caller(request)
    service = uploads(request)
    upload = await service.settle(who, await service.get(who, request.path_params["upload_id"]))
    headers = _tus_headers(**_state_headers(upload))
    if upload.kind != "final":
        headers["Upload-Length"] = str(upload.length)
    if upload.kind != "single":
        headers["Upload-Concat"] = _concat_header(upload)
    if upload.metadata:
        headers["Upload-Metadata"] = _encode_metadata(upload.metadata)
    return Response(status_code=200, headers=headers)


async def patch(request: Request) -> Response:
    _require_version(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != CHUNK_TYPE:
        raise UnsupportedMediaType(f"上传数据的 Content-Type 须为 {CHUNK_TYPE}")
    offset = _int_header(request, "upload-offset")
    if offset is None:
        raise BadRequest("缺少 Upload-Offset")
    checksum = _checksum(request)
    upload = await uploads(request).append(
        await caller(request), request.path_params["upload_id"], offset, request.stream(), checksum,
        _int_header(request, "content-length"),
    )  # fmt: skip
    return Response(status_code=204, headers=_tus_headers(**_state_headers(upload)))


async def terminate(request: Request) -> Response:
    _require_version(request)
    await uploads(request).terminate(await caller(request), request.path_params["upload_id"])
    return Response(status_code=204, headers=_tus_headers())


_ERRORS = (("Tus-Resumable", VERSION), ("Cache-Control", "no-store"))
ROUTES = RouteTable(
    raw=[
        RawRoute("OPTIONS", "/files/", options, PUBLIC, "tus 能力", _ERRORS),
        RawRoute("POST", "/files/", create, UPLOAD, "创建上传（tus creation）", _ERRORS),
        RawRoute("HEAD", "/files/{upload_id:uuid}", head, UPLOAD, "查询上传偏移量", _ERRORS),
        RawRoute("PATCH", "/files/{upload_id:uuid}", patch, UPLOAD, "追加上传数据", _ERRORS),
        RawRoute(
            "DELETE", "/files/{upload_id:uuid}", terminate, UPLOAD, "终止上传（tus termination）", _ERRORS
        ),
    ]
)
