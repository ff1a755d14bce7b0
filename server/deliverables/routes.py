"""Routes of deliverables (出具文件) and of their public verification. Thin: parse, authorise (declared
permission, then `server.deliverables.access`), call the service, shape.

Generating answers 202 at once with the queued deliverable; the worker renders it and the websocket
`/ws/deliverables/{id}` streams its progress. Data that cannot make a complete document is refused
before anything is stored (422, every problem per field). Verification is public: no login, no data
beyond what the verification page shows.
Must not: hold SQL or decide access itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any
from uuid import UUID

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from actors.deliverable.actor import deliverable_address
from actors.deliverable.messages import RecordIssued, RecordRevoked
from collab.catalogue import form
from collab.content import content_of
from docgen.dwg import dwg_available
from docgen.errors import DataInvalid, Problem
from docgen.kinds import KINDS, kind_of, template_fields, validate
from server.audit.service import AUDIT_KEY
from server.collab import service as collab
from server.collab.access import open_document
from server.deliverables import service, signing
from server.deliverables.access import GENERATE, READ, may_make, see_project
from server.deliverables.models import (
    DeliverableList,
    DeliverableOut,
    GenerateIn,
    KindList,
    KindOut,
    PublicKeyOut,
    RevokeIn,
    Verdict,
)
from server.deliverables.verify import verdict
from server.errors import InvalidInput, NotFound, PayloadTooLarge
from server.files.downloads import content_disposition
from server.identity.models import CurrentUser
from server.live import since_of, stream_actor
from server.permissions import PUBLIC
from server.routing import ApiRoute, RawRoute, RouteTable, WsRoute, client_ip, current_user, require_user
from server.runtime import Runtime, runtime
from server.security.gm import sm3_hex

TAGS = ("deliverables",)
VERIFY_TAGS = ("verification",)
MAX_VERIFY_FILE_BYTES = 64 * 1024 * 1024
DWG_NOTE = (
    "生成 DWG 需要在服务器上配置 ODA File Converter（TONGBAN_ODAFC_PATH）；"
    "当前只提供 DXF，可在 CAD 中另存为 DWG。"
)
MEDIA = {"dxf": "image/vnd.dxf", "dwg": "image/vnd.dwg", "pdf": "application/pdf"}


def _dwg(rt: Runtime) -> bool:
    path = rt.settings.odafc_path
    return path is not None and dwg_available(str(path))


async def list_kinds(request: Request) -> KindList:
    rt = runtime(request)
    formats = ("dxf", "dwg", "pdf") if _dwg(rt) else ("dxf", "pdf")
    kinds = []
    for k in KINDS.values():
        fields, sample = template_fields(k)
        shipped = [f for f in formats if f in k.formats or (f == "dwg" and "dxf" in k.formats)]
        kinds.append(
            KindOut(key=k.key, title=k.title, source=k.source, formats=shipped, fields=fields, sample=sample)
        )
    return KindList(kinds=kinds, dwg_available=_dwg(rt), dwg_note="" if _dwg(rt) else DWG_NOTE)


async def _loaded(request: Request, deliverable_id: str) -> tuple[Runtime, CurrentUser, Any]:
    """The deliverable's row, after checking the caller may see its project (NotFound otherwise)."""
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        row = await service.row_of(conn, deliverable_id)
    try:
        await see_project(request, user, row["project_id"])
    except NotFound as exc:
        raise NotFound("文件不存在或无权查看") from exc
    return rt, user, row


async def list_project(request: Request) -> DeliverableList:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    await see_project(request, user, project_id)
    async with rt.pool.acquire() as conn:
        rows = await service.of_project(conn, project_id)
    return DeliverableList(deliverables=[service.out(r, rt.settings.verify_base) for r in rows])


async def _source_data(
    request: Request, body: GenerateIn, project_id: UUID
) -> tuple[tuple[UUID, UUID] | None, Any]:
    kind = kind_of(body.kind)
    if kind.source == "template":
        if body.data is None or body.doc_id is not None or body.signatories is not None:
            raise DataInvalid([Problem("data", f"{kind.title}须提交其数据（data），且只有数据", "missing")])
        return None, body.data
    if body.doc_id is None or body.version_id is None or body.data is not None:
        raise DataInvalid([Problem("version_id", f"{kind.title}须由填报文档的一个已保存版本生成", "missing")])
    document = await open_document(request, body.doc_id)
    async with runtime(request).pool.acquire() as conn:
        _version, state = await collab.get_version(conn, body.doc_id, body.version_id)
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    content = content_of(doc, form(document.form_id, document.form_version))
    if body.signatories:
        content["signatories"] = body.signatories
    return (body.doc_id, body.version_id), content


async def generate(request: Request, body: GenerateIn) -> DeliverableOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    kind = kind_of(body.kind)
    await may_make(request, user, kind, project_id, body.doc_id)
    source, data = await _source_data(request, body, project_id)
    problems = validate(kind, data)
    if problems:
        raise DataInvalid(problems)
    async with rt.pool.acquire() as conn:
        deliverable_id = await service.create(
            conn, rt.keys, rt.keys.key(AUDIT_KEY), kind, project_id, source, data, user, client_ip(request)
        )
        row = await service.row_of(conn, deliverable_id)
    await rt.arq.enqueue_job(service.JOB_NAME, deliverable_id, _job_id=service.job_id(deliverable_id))
    return service.out(row, rt.settings.verify_base)


async def get_one(request: Request) -> DeliverableOut:
    rt, _user, row = await _loaded(request, request.path_params["deliverable_id"])
    return service.out(row, rt.settings.verify_base)


async def _change(request: Request, action: str, reason: str = "") -> DeliverableOut:
    rt, user, row = await _loaded(request, request.path_params["deliverable_id"])
    await may_make(request, user, kind_of(row["kind"]), row["project_id"], row["source_doc_id"])
    async with rt.pool.acquire() as conn:
        if action == "issue":
            await service.issue(conn, rt.keys, rt.keys.key(AUDIT_KEY), row["id"], user, client_ip(request))
        else:
            await service.revoke(conn, rt.keys.key(AUDIT_KEY), row["id"], reason, user, client_ip(request))
        changed = await service.row_of(conn, row["id"])
    message = RecordIssued() if action == "issue" else RecordRevoked(reason=reason)
    await rt.actors.ref(deliverable_address(row["id"])).ask(message, rt.settings.ask_timeout_s)
    return service.out(changed, rt.settings.verify_base)


async def issue(request: Request) -> DeliverableOut:
    return await _change(request, "issue")


async def revoke(request: Request, body: RevokeIn) -> DeliverableOut:
    return await _change(request, "revoke", body.reason)


async def get_file(request: Request) -> Response:
    rt, _user, row = await _loaded(request, request.path_params["deliverable_id"])
    ext: str = request.path_params["ext"]
    stored = (row["files"] or {}).get(ext) if ext in MEDIA else None
    if stored is None:
        raise NotFound(
            "该文件没有这种格式" + ("（DWG 需要服务器配置 ODA File Converter）" if ext == "dwg" else "")
        )
    body = b"".join([chunk async for chunk in rt.files.read_blob(stored["sm3"])])
    name = f"{row['title']}-{row['id']}-第{row['revision']}版.{ext}"
    headers = {"Content-Disposition": content_disposition(name, f"{row['id']}.{ext}"), "ETag": f'"{stored["sm3"]}"',
               "X-Content-SM3": stored["sm3"], "Cache-Control": "private, no-cache"}  # fmt: skip
    return Response(body, media_type=MEDIA[ext], headers=headers)


async def get_preview(request: Request) -> Response:
    rt, _user, row = await _loaded(request, request.path_params["deliverable_id"])
    previews = (row["files"] or {}).get("previews", [])
    number: int = request.path_params["n"]
    if not 1 <= number <= len(previews):
        raise NotFound("没有这一页的预览")
    body = b"".join([chunk async for chunk in rt.files.read_blob(previews[number - 1])])
    return Response(body, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


async def deliverable_events(websocket: WebSocket) -> Awaitable[None] | None:
    user = await current_user(websocket)
    assert user is not None
    rt = runtime(websocket)
    deliverable_id: str = websocket.path_params["deliverable_id"]
    async with rt.pool.acquire() as conn:
        row = await service.row_of(conn, deliverable_id)
    await see_project(websocket, user, row["project_id"])
    return stream_actor(
        websocket, rt.actors, rt.live, deliverable_address(deliverable_id), since_of(websocket)
    )


# -- public verification ------------------------------------------------------------------------------


async def verify(request: Request) -> Verdict:
    rt = runtime(request)
    digest = request.query_params.get("sm3")
    if digest is not None and len(digest) > 128:
        raise InvalidInput(
            "数字摘要格式不正确",
            fields=[{"field": "sm3", "message": "应为 64 位十六进制", "type": "invalid"}],
        )
    async with rt.pool.acquire() as conn:
        return await verdict(conn, rt.keys, request.path_params["deliverable_id"], digest)


async def verify_file(request: Request) -> Response:
    """The file's SM3 against the registered files' (the body is the file, as uploaded)."""
    rt = runtime(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_VERIFY_FILE_BYTES:
        raise PayloadTooLarge("待核验的文件不能超过 64 MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_VERIFY_FILE_BYTES:
            raise PayloadTooLarge("待核验的文件不能超过 64 MB")
        chunks.append(chunk)
    if size == 0:
        raise InvalidInput(
            "请上传待核验的文件", fields=[{"field": "file", "message": "文件为空", "type": "missing"}]
        )
    file_sm3 = await asyncio.to_thread(sm3_hex, b"".join(chunks))
    async with rt.pool.acquire() as conn:
        result = await verdict(conn, rt.keys, request.path_params["deliverable_id"], None, file_sm3)
    return Response(result.model_dump_json(), media_type="application/json")


async def public_key(request: Request) -> PublicKeyOut:
    rt = runtime(request)
    key = signing.public_key(rt.keys)
    return PublicKeyOut(distinguishing_id=signing.DISTINGUISHING_ID, public_key_pem=key.to_pem())


ID = "{deliverable_id:str}"
ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/deliverables/kinds", list_kinds, READ, KindList,
                 summary="可出具的文件类型（及 DWG 是否可用）", tags=TAGS),
        ApiRoute("GET", "/api/v1/projects/{project_id:uuid}/deliverables", list_project, READ, DeliverableList,
                 summary="项目出具的文件（图纸、计算书、证书）", tags=TAGS),
        ApiRoute("POST", "/api/v1/projects/{project_id:uuid}/deliverables", generate, GENERATE, DeliverableOut,
                 body=GenerateIn, status=202, summary="生成文件（后台生成，进度经 websocket 推送）", tags=TAGS),
        ApiRoute("GET", f"/api/v1/deliverables/{ID}", get_one, READ, DeliverableOut, summary="一个出具的文件",
                 tags=TAGS),
        ApiRoute("POST", f"/api/v1/deliverables/{ID}/issue", issue, GENERATE, DeliverableOut,
                 summary="签发（平台 SM2 签名）", tags=TAGS),
        ApiRoute("POST", f"/api/v1/deliverables/{ID}/revoke", revoke, GENERATE, DeliverableOut, body=RevokeIn,
                 summary="撤销已签发的文件", tags=TAGS),
        ApiRoute("GET", "/api/v1/verify/key", public_key, PUBLIC, PublicKeyOut,
                 summary="文件签名公钥（SM2，可用 openssl 验证）", tags=VERIFY_TAGS),
        ApiRoute("GET", f"/api/v1/verify/{ID}", verify, PUBLIC, Verdict, summary="文件防伪查验", tags=VERIFY_TAGS),
    ],
    raw=[
        RawRoute("GET", f"/api/v1/deliverables/{ID}/files/{{ext:str}}", get_file, READ,
                 summary="下载文件（dxf / dwg / pdf）"),
        RawRoute("GET", f"/api/v1/deliverables/{ID}/previews/{{n:int}}", get_preview, READ,
                 summary="预览图（PNG，每页一张）"),
        RawRoute("POST", f"/api/v1/verify/{ID}/file", verify_file, PUBLIC,
                 summary="上传文件核验是否与登记的原件一致"),
    ],
    sockets=[WsRoute(f"/ws/deliverables/{ID}", deliverable_events, READ)],
)  # fmt: skip
