"""Collaborative document routes: the form catalogue, a project's documents, a document's content,
validation and versions, and its y-websocket. Who may read or edit is `server.collab.access`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from uuid import UUID

from pycrdt import Doc
from starlette.requests import Request
from starlette.websockets import WebSocket

from actors.document.actor import b64encode, doc_address
from actors.document.messages import DocumentContent, ReadContent, RestoreVersion, SaveVersion, VersionSaved
from collab.catalogue import form, forms
from collab.content import canonical_bytes, content_of
from collab.rooms import Rooms
from collab.schema import FormSchema
from collab.socket import serve_document
from collab.validation import validate
from server.audit.service import AUDIT_KEY
from server.collab import service
from server.collab.access import EDIT, DocumentAccess, open_document
from server.collab.models import (
    ContentOut,
    DocumentDetail,
    DocumentIn,
    DocumentList,
    DocumentOut,
    FieldErrorOut,
    FormList,
    RestoreOut,
    ValidationOut,
    VersionDetail,
    VersionIn,
    VersionList,
    VersionOut,
)
from server.errors import NotFound
from server.projects.access import READ_ANY, access_project
from server.routing import ApiRoute, RouteTable, WsRoute, client_ip, holds, require_user
from server.runtime import runtime
from server.security.sm3 import sm3_hex

READ = "project.read"
TAGS = ("documents",)


async def get_forms(request: Request) -> FormList:
    return FormList(items=list(forms().values()))


async def get_form(request: Request) -> FormSchema:
    return form(request.path_params["form_id"])


async def new_document(request: Request, body: DocumentIn) -> DocumentOut:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    form(body.form)  # an unknown form is refused before anything is written
    async with runtime(request).pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=False)  # only the owner's own projects
        audit_key = runtime(request).keys.key(AUDIT_KEY)
        return await service.create_document(
            conn, audit_key, project_id, body.title, body.form, user, client_ip(request)
        )


async def get_project_documents(request: Request) -> DocumentList:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    async with runtime(request).pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        return DocumentList(items=await service.project_documents(conn, project_id))


async def _opened(request: Request) -> DocumentAccess:
    return await open_document(request, request.path_params["doc_id"])


async def get_document(request: Request) -> DocumentDetail:
    access = await _opened(request)
    async with runtime(request).pool.acquire() as conn:
        row = await service.get_document(conn, access.doc_id)
    return DocumentDetail(
        id=row.id, project_id=row.project_id, title=row.title, form=form(row.form, row.form_version),
        can_edit=access.can_edit, created_at=row.created_at, ws_path=row.ws_path,
    )  # fmt: skip


async def _content(request: Request, access: DocumentAccess) -> DocumentContent:
    message = ReadContent(form=access.form_id, form_version=access.form_version)
    rt = runtime(request)
    reply: DocumentContent = await rt.actors.ask(
        doc_address(access.doc_id), message, rt.settings.ask_timeout_s
    )
    return reply


async def get_content(request: Request) -> ContentOut:
    reply = await _content(request, await _opened(request))
    return ContentOut(seq=reply.seq, sm3=sm3_hex(canonical_bytes(reply.content)), content=reply.content)


async def get_validation(request: Request) -> ValidationOut:
    access = await _opened(request)
    reply = await _content(request, access)
    errors = validate(form(access.form_id, access.form_version), reply.content)
    return ValidationOut(valid=not errors, errors=[FieldErrorOut(**e.as_json()) for e in errors])


async def get_versions(request: Request) -> VersionList:
    access = await _opened(request)
    async with runtime(request).pool.acquire() as conn:
        return VersionList(items=await service.list_versions(conn, access.doc_id))


async def save_version(request: Request, body: VersionIn) -> VersionOut:
    access = await _opened(request)
    access.require_edit()
    user = require_user(request)
    rt = runtime(request)
    message = SaveVersion(
        form=access.form_id, form_version=access.form_version, name=body.name, submit=body.submit,
        user_id=user.id, login=user.login, org_id=user.org_id, ip=client_ip(request),
    )  # fmt: skip
    saved: VersionSaved = await rt.actors.ask(doc_address(access.doc_id), message, rt.settings.ask_timeout_s)
    return VersionOut(**saved.model_dump(), created_by=user.id, created_by_login=user.login)


async def get_version(request: Request) -> VersionDetail:
    access = await _opened(request)
    async with runtime(request).pool.acquire() as conn:
        version, state = await service.get_version(conn, access.doc_id, request.path_params["version_id"])
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    content = content_of(doc, form(access.form_id, access.form_version))
    return VersionDetail(**version.model_dump(), content=content, update=b64encode(state))


async def restore_version(request: Request) -> RestoreOut:
    access = await _opened(request)
    access.require_edit()
    user = require_user(request)
    rt = runtime(request)
    message = RestoreVersion(
        form=access.form_id, form_version=access.form_version, version_id=request.path_params["version_id"],
        user_id=user.id, login=user.login, org_id=user.org_id, ip=client_ip(request),
    )  # fmt: skip
    applied = await rt.actors.ask(doc_address(access.doc_id), message, rt.settings.ask_timeout_s)
    return RestoreOut(seq=applied.seq)


def node_rooms(websocket: WebSocket) -> Rooms:
    """This process's rooms, made on first use (one per application)."""
    state = websocket.app.state
    rooms: Rooms | None = getattr(state, "collab_rooms", None)
    if rooms is None:
        rt = runtime(websocket)
        settings = rt.settings
        rooms = state.collab_rooms = Rooms(
            rt.hub, rt.actors.node_id, settings.ask_timeout_s, settings.collab_max_update_bytes
        )
    return rooms


async def document_socket(websocket: WebSocket) -> Awaitable[None]:
    access = await open_document(websocket, websocket.path_params["doc_id"])
    rt = runtime(websocket)

    async def recheck() -> bool | None:
        websocket.scope["state"].pop("session", None)  # read the session again, not the cached one
        try:
            return (await open_document(websocket, access.doc_id)).can_edit
        except NotFound:
            return None

    return serve_document(
        websocket, rt.actors, node_rooms(websocket), rt.settings, access.doc_id, access.can_edit, recheck
    )


DOC = "/api/v1/documents/{doc_id:uuid}"
VERSION = DOC + "/versions/{version_id:uuid}"

ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/forms", get_forms, READ, FormList, summary="填报表单目录", tags=TAGS),
        ApiRoute(
            "GET", "/api/v1/forms/{form_id}", get_form, READ, FormSchema, summary="填报表单定义", tags=TAGS
        ),
        ApiRoute(
            "POST",
            "/api/v1/projects/{project_id:uuid}/documents",
            new_document,
            EDIT,
            DocumentOut,
            DocumentIn,
            201,
            summary="新建项目协同文档",
            tags=TAGS,
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/documents",
            get_project_documents,
            READ,
            DocumentList,
            summary="项目的协同文档",
            tags=TAGS,
        ),
        ApiRoute("GET", DOC, get_document, READ, DocumentDetail, summary="协同文档及其表单", tags=TAGS),
        ApiRoute(
            "GET", DOC + "/content", get_content, READ, ContentOut, summary="文档内容（规范 JSON）", tags=TAGS
        ),
        ApiRoute(
            "GET", DOC + "/validation", get_validation, READ, ValidationOut, summary="校验文档数据", tags=TAGS
        ),
        ApiRoute(
            "GET", DOC + "/versions", get_versions, READ, VersionList, summary="文档版本列表", tags=TAGS
        ),
        ApiRoute(
            "POST",
            DOC + "/versions",
            save_version,
            EDIT,
            VersionOut,
            VersionIn,
            201,
            summary="保存命名版本",
            tags=TAGS,
        ),
        ApiRoute("GET", VERSION, get_version, READ, VersionDetail, summary="查看某一版本（只读）", tags=TAGS),
        ApiRoute(
            "POST",
            VERSION + "/restore",
            restore_version,
            EDIT,
            RestoreOut,
            summary="恢复到该版本（作为一次新的修改）",
            tags=TAGS,
        ),
    ],
    sockets=[WsRoute("/ws/docs/{doc_id:uuid}", document_socket, READ)],
)
