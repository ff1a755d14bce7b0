"""Item-catalogue routes: the public read of the published catalogue and of a project's merged form
(which items apply, the deduplicated fields with their provenance, the materials, and the errors of
the values typed so far: called on every keystroke), the administrators' API (versions, a new draft,
save with the expected revision, publish) and the administration page `/admin/approval/catalogue`.

`ROUTES` holds the API routes (wired in `server.app.route_table`), `PAGE_ROUTES` the page (wired in
`server.web.pages`). Thin: parse, authorise (declared permission), call `catalogue_service`, shape.
Must not: hold SQL or catalogue rules.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.requests import Request
from starlette.responses import Response

from server import clock
from server.approval import catalogue_service as service
from server.approval.catalogue_service import VersionDetail, VersionSummary
from server.approval.merged_form import merged_form, validate
from server.audit.service import AUDIT_KEY
from server.permissions import PUBLIC
from server.routing import ApiRoute, PageRoute, RouteTable, client_ip, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates

MANAGE: Final = "approval.catalogue.manage"
TAGS: Final = ("approval",)
PUBLIC_PATH: Final = "/api/v1/approval/catalogue"
ADMIN_PATH: Final = "/api/v1/admin/approval/catalogue"
VERSION_PATH: Final = ADMIN_PATH + "/versions/{version_id:uuid}"
MAX_FACTS: Final = 100
MAX_VALUES: Final = 500

FactValue = str | int | float | bool | None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CatalogueQuery(Strict):
    version: int | None = Field(default=None, ge=1, le=1_000_000)


class PublishedCatalogueOut(BaseModel):
    catalogue_id: UUID
    name: str
    version: int
    version_id: UUID
    content_sm3: str
    published_at: datetime
    content: dict[str, Any]


class VersionList(BaseModel):
    catalogue_id: UUID
    name: str
    draft_id: UUID | None
    latest_published: int | None
    items: list[VersionSummary]


class DraftIn(Strict):
    content: dict[str, Any]
    expected_revision: int = Field(ge=1)
    summary: Annotated[str, Field(max_length=200)] = ""


class PublishIn(Strict):
    expected_revision: int = Field(ge=1)
    summary: Annotated[str, Field(max_length=200)] | None = None


class FormIn(Strict):
    facts: dict[Annotated[str, Field(max_length=40)], FactValue] = Field(
        default_factory=dict, max_length=MAX_FACTS
    )
    values: dict[Annotated[str, Field(max_length=40)], JsonValue] = Field(
        default_factory=dict, max_length=MAX_VALUES
    )
    bundle: str | None = "kaigong"
    version: int | None = Field(default=None, ge=1, le=1_000_000)


class FormItemOut(BaseModel):
    code: str
    name: str
    short_name: str
    dept_code: str
    statutory_workdays: int
    committed_workdays: int
    predecessors: list[str]  # the applicable ones only


class FormFieldOut(BaseModel):
    key: str
    label: str
    type: str
    required: bool
    unit: str | None
    min: float | None
    max: float | None
    max_length: int | None
    pattern: str | None
    pattern_hint: str | None
    options: list[str] | None
    help: str | None
    source: str
    items: list[str]


class FormMaterialOut(BaseModel):
    code: str
    name: str
    required: bool
    template: str | None
    note: str
    items: list[str]


class FieldErrorOut(BaseModel):
    field: str
    message: str
    type: str


class MergedFormOut(BaseModel):
    catalogue_version: int
    catalogue_version_id: UUID
    content_sm3: str
    project_type: str
    items: list[FormItemOut]
    fields: list[FormFieldOut]
    materials: list[FormMaterialOut]
    errors: list[FieldErrorOut]


def _published_out(version: VersionDetail) -> PublishedCatalogueOut:
    assert version.content_sm3 is not None
    assert version.published_at is not None
    return PublishedCatalogueOut(
        catalogue_id=version.catalogue_id, name=version.catalogue_name, version=version.version,
        version_id=version.id, content_sm3=version.content_sm3, published_at=version.published_at,
        content=version.content,
    )  # fmt: skip


async def get_approval_catalogue(request: Request, query: CatalogueQuery) -> PublishedCatalogueOut:
    """The latest published version (or `?version=N`): what the public column and the guide show."""
    async with runtime(request).pool.acquire() as conn:
        catalogue_id = await service.get_catalogue(conn)
        return _published_out(await service.get_published(conn, catalogue_id, query.version))


async def post_approval_catalogue_form(request: Request, body: FormIn) -> MergedFormOut:
    """The merged form of a project with `facts` under the published catalogue, and the errors of
    `values`; changes nothing (public, so the column can show which items a project needs)."""
    async with runtime(request).pool.acquire() as conn:
        catalogue_id = await service.get_catalogue(conn)
        version = await service.get_published(conn, catalogue_id, body.version)
    compiled = service.compiled(version)
    merged = merged_form(compiled, body.facts, body.bundle)
    applicable = set(merged.items)
    items = [compiled.by_code[code].item for code in merged.items]
    assert version.content_sm3 is not None
    return MergedFormOut(
        catalogue_version=version.version, catalogue_version_id=version.id, content_sm3=version.content_sm3,
        project_type=merged.project_type,
        items=[
            FormItemOut(
                code=i.code, name=i.name, short_name=i.short_name, dept_code=i.dept_code,
                statutory_workdays=i.statutory_workdays, committed_workdays=i.committed_workdays,
                predecessors=[p for p in i.predecessors if p in applicable],
            )
            for i in items
        ],
        fields=[
            FormFieldOut(**f.field.model_dump(exclude={"required", "options"}), required=f.required,
                         options=list(f.field.options) if f.field.options else None, items=list(f.items))
            for f in merged.fields
        ],
        materials=[
            FormMaterialOut(code=m.material.code, name=m.material.name, required=m.required,
                            template=m.material.template, note=m.material.note, items=list(m.items))
            for m in merged.materials
        ],
        errors=[FieldErrorOut(field=e.path, message=e.message, type=e.code) for e in validate(merged, body.values)],
    )  # fmt: skip


async def get_catalogue_versions(request: Request) -> VersionList:
    async with runtime(request).pool.acquire() as conn:
        catalogue_id = await service.get_catalogue(conn)
        versions = await service.list_versions(conn, catalogue_id)
    return _version_list(catalogue_id, versions)


def _version_list(catalogue_id: UUID, versions: list[VersionSummary]) -> VersionList:
    drafts = [v.id for v in versions if v.status == "draft"]
    published = [v.version for v in versions if v.status == "published"]
    return VersionList(
        catalogue_id=catalogue_id, name=versions[0].catalogue_name if versions else service.CATALOGUE_NAME,
        draft_id=drafts[0] if drafts else None, latest_published=max(published) if published else None,
        items=versions,
    )  # fmt: skip


async def get_catalogue_version(request: Request) -> VersionDetail:
    async with runtime(request).pool.acquire() as conn:
        await service.get_catalogue(conn)
        version = await service.get_version(conn, request.path_params["version_id"])
    return version


async def post_catalogue_draft(request: Request) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        catalogue_id = await service.get_catalogue(conn)
        return await service.new_draft(conn, rt.keys.key(AUDIT_KEY), catalogue_id, user, client_ip(request))


async def put_catalogue_version(request: Request, body: DraftIn) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await service.save_draft(
            conn, rt.keys.key(AUDIT_KEY), request.path_params["version_id"], body.content, body.expected_revision,
            body.summary, user, client_ip(request),
        )  # fmt: skip


async def post_catalogue_publish(request: Request, body: PublishIn) -> VersionDetail:
    user = require_user(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return await service.publish(
            conn, rt.keys.key(AUDIT_KEY), request.path_params["version_id"], body.expected_revision, body.summary,
            user, client_ip(request),
        )  # fmt: skip


def local_time(at: datetime | None) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


async def approval_catalogue_page(request: Request) -> Response:
    """The versions, the selected one (`?version=<id>`, else the draft, else the latest published):
    read-only when published, in the JSON editor when it is the draft."""
    async with runtime(request).pool.acquire() as conn:
        catalogue_id = await service.find_catalogue(conn)
        versions = await service.list_versions(conn, catalogue_id) if catalogue_id else []
        wanted = request.query_params.get("version")
        chosen = next((v for v in versions if str(v.id) == wanted), None)
        chosen = chosen or next((v for v in versions if v.status == "draft"), None)
        chosen = chosen or (versions[0] if versions else None)
        version = await service.get_version(conn, chosen.id) if chosen else None
    listing = _version_list(catalogue_id, versions) if catalogue_id else None
    context = await page_context(
        request, listing=listing, version=version, local_time=local_time,
        content_json=json.dumps(version.content, ensure_ascii=False, indent=2) if version else "",
        can_new_draft=listing is not None and listing.draft_id is None and listing.latest_published is not None,
        status_labels={"draft": "草稿", "published": "已发布"},
    )  # fmt: skip
    return templates.TemplateResponse(request, "approval_catalogue.html", context)


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", PUBLIC_PATH, get_approval_catalogue, PUBLIC, PublishedCatalogueOut, query=CatalogueQuery,
                 summary="开工一件事事项目录（已发布版本）", tags=TAGS),
        ApiRoute("POST", PUBLIC_PATH + "/form", post_approval_catalogue_form, PUBLIC, MergedFormOut, FormIn,
                 summary="按项目情况生成一张表单（适用事项、合并字段、材料）并校验已填内容", tags=TAGS),
        ApiRoute("GET", ADMIN_PATH + "/versions", get_catalogue_versions, MANAGE, VersionList,
                 summary="事项目录的全部版本", tags=TAGS),
        ApiRoute("GET", VERSION_PATH, get_catalogue_version, MANAGE, VersionDetail,
                 summary="事项目录版本及其内容", tags=TAGS),
        ApiRoute("POST", ADMIN_PATH + "/drafts", post_catalogue_draft, MANAGE, VersionDetail, status=201,
                 summary="由最新已发布版本复制出新草稿", tags=TAGS),
        ApiRoute("PUT", VERSION_PATH, put_catalogue_version, MANAGE, VersionDetail, DraftIn, summary="保存事项目录草稿",
                 tags=TAGS),
        ApiRoute("POST", VERSION_PATH + "/publish", post_catalogue_publish, MANAGE, VersionDetail, PublishIn,
                 summary="发布事项目录草稿（发布后不可修改）", tags=TAGS),
    ]
)  # fmt: skip

PAGE_ROUTES = RouteTable(pages=[PageRoute("/admin/approval/catalogue", approval_catalogue_page, MANAGE)])
