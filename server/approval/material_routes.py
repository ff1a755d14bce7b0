"""Routes of the application materials (申报材料) of 开工一件事: the applicant uploads a file for a material of
the one form (raw body, at most 50 MB), lists the project's files with the enterprise's earlier ones of the
same codes, links an earlier one instead of uploading it again, removes one; a department downloads a file
its case's signed application names. Thin: read and limit the body, authorise (declared permission, then
`server.approval.access`), call `server.approval.materials` / `case_form`, shape.
Must not: hold SQL, or let a department fetch a file by its digest alone (only through a case it holds).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from server.approval import applications, cases, materials
from server.approval.access import APPLY, HANDLE, applicant_of, department_of
from server.approval.case_form import case_material
from server.audit.service import AUDIT_KEY
from server.errors import PayloadTooLarge, TongbanError
from server.files import sniff
from server.files.downloads import content_disposition
from server.files.storage import Storage, StoredBlob
from server.routing import ApiRoute, RawRoute, RouteTable, client_ip, require_user
from server.runtime import runtime
from server.security.gm import Sm3

TAGS = ("kaigong",)
TOO_LARGE = "申报材料每个文件不能超过 50 MB"


class MaterialOut(BaseModel):
    id: UUID
    code: str
    file_name: str
    size: int
    sm3: str
    media_type: str
    source: str  # upload | reuse
    created_at: datetime


class EarlierMaterialOut(MaterialOut):
    project_name: str
    project_code: str


class MaterialList(BaseModel):
    materials: list[MaterialOut]  # attached to this project's form
    earlier: list[EarlierMaterialOut]  # the enterprise's files of the same codes from its other projects


class ReuseIn(BaseModel):
    material_id: UUID


async def _stored(request: Request, storage: Storage) -> tuple[StoredBlob, str, sniff.FileType]:
    """The raw body streamed into the file store (never held whole in memory): refused with 413 as soon as
    it is known to pass the limit, 415 from its first bytes, before the rest is read; (blob, name, type)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > materials.MAX_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    part, digest = uuid.uuid4(), Sm3()
    await storage.create_part(part)
    try:
        writer = await storage.open_part(part, 0, [digest])
        head, size, checked = b"", 0, None
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > materials.MAX_BYTES:
                    raise PayloadTooLarge(TOO_LARGE)
                if checked is None and len(head) < sniff.HEAD_BYTES:
                    head += chunk[: sniff.HEAD_BYTES - len(head)]
                    if len(head) >= sniff.HEAD_BYTES:
                        checked = materials.checked_file(head, size, request.query_params.get("name", ""))
                await writer.write(chunk)
            checked = checked or materials.checked_file(head, size, request.query_params.get("name", ""))
            await writer.drain()
            await writer.commit()
        except BaseException:
            await writer.rollback()
            raise
        blob = await storage.store([part], digest)
    finally:
        await storage.delete_part(part)
    name, found = checked
    return blob, name, found


async def upload_material(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    code: str = request.path_params["material_code"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        materials.known_code((await applications.published(conn)).catalogue, code)
    blob, name, found = await _stored(request, rt.files)
    async with rt.pool.acquire() as conn:
        row = await materials.upload(conn, rt.keys.key(AUDIT_KEY), user, project_id, code, name, found.media_type,
                                     blob, client_ip(request))  # fmt: skip
    return JSONResponse(MaterialOut(**row).model_dump(mode="json"), status_code=201)


async def list_materials(request: Request) -> MaterialList:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        codes = materials.catalogue_materials((await applications.published(conn)).catalogue)
        attached = await materials.attached(conn, project_id)
        earlier = await materials.earlier(conn, user.org_id, project_id, sorted(codes))
    return MaterialList(materials=[MaterialOut(**r) for r in attached],
                        earlier=[EarlierMaterialOut(**r) for r in earlier])  # fmt: skip


async def reuse_material(request: Request, body: ReuseIn) -> MaterialOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    code: str = request.path_params["material_code"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        materials.known_code((await applications.published(conn)).catalogue, code)
        row = await materials.reuse(conn, rt.keys.key(AUDIT_KEY), user, project_id, code, body.material_id,
                                    client_ip(request))  # fmt: skip
    return MaterialOut(**row)


async def withdraw_material(request: Request) -> MaterialOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
        row = await materials.withdraw(conn, rt.keys.key(AUDIT_KEY), user, project_id,
                                       request.path_params["material_id"], client_ip(request))  # fmt: skip
    return MaterialOut(**row)


async def download_material(request: Request) -> Response:
    """A file of the case's item's materials, for the department that holds the case; audited."""
    user = require_user(request)
    rt = runtime(request)
    case_id: UUID = request.path_params["case_id"]
    sm3: str = request.path_params["sm3"]
    async with rt.pool.acquire() as conn:
        _project, dept = await cases.case_project(conn, case_id)
        department_of(user, dept)
        project_id, file = await case_material(conn, rt.keys, case_id, sm3)
        if not rt.files.has_blob(file["sm3"]):
            raise TongbanError("文件内容缺失，请联系系统管理员")
        await materials.record_download(conn, rt.keys.key(AUDIT_KEY), user, case_id, project_id, file,
                                        client_ip(request))  # fmt: skip
    headers = {
        "Content-Length": str(file["size"]), "Content-Disposition": content_disposition(file["file_name"], "material"),
        "ETag": f'"{file["sm3"]}"', "Cache-Control": "private, no-cache",
    }  # fmt: skip
    return StreamingResponse(rt.files.read_blob(file["sm3"]), headers=headers, media_type=file["media_type"])


MATERIALS = "/api/v1/projects/{project_id:uuid}/kaigong/materials"
ROUTES = RouteTable(
    api=[
        ApiRoute("GET", MATERIALS, list_materials, APPLY, MaterialList,
                 summary="本项目已上传的申报材料，及本单位以前项目中可直接使用的同类材料", tags=TAGS),
        ApiRoute("POST", MATERIALS + "/{material_code:str}/reuse", reuse_material, APPLY, MaterialOut, body=ReuseIn,
                 status=201, summary="使用本单位以前提交的材料（不重复上传）", tags=TAGS),
        ApiRoute("DELETE", MATERIALS + "/{material_id:uuid}", withdraw_material, APPLY, MaterialOut,
                 summary="移除一份申报材料（提交前；记录保留备查）", tags=TAGS),
    ],
    raw=[
        RawRoute("PUT", MATERIALS + "/{material_code:str}", upload_material, APPLY,
                 summary="上传申报材料（请求体为文件，?name= 文件名；PDF/JPEG/PNG/TIFF，不超过 50 MB）"),
        RawRoute("GET", "/api/v1/kaigong/cases/{case_id:uuid}/materials/{sm3:str}", download_material, HANDLE,
                 summary="审批部门下载本办件的申报材料"),
    ],
)  # fmt: skip
