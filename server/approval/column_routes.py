"""The public 开工一件事 column (专栏), in Chinese: the column home (what the bundle is, its items with
department and limits, the catalogue's flowchart), each item's guide (办事指南) with blank forms (空表) to
download, the progress query by 项目代码 (bundle state, each item's department, state and deadline, the
project's flowchart coloured by state; no personal data), the policy graphics page, the consultation and
suggestion form, and the administrators' list of messages with reply and close. Also the project
flowchart for logged-in pages (`/projects/{id}/kaigong/flowchart.svg`, project access checked).

Anonymous look-ups are counted per IP in Redis (messages 5 a minute, progress queries 30 a minute), so
the column can neither be flooded nor walked through project codes quickly. The public progress reads
the case rows the project actor writes with its events (an anonymous query never wakes an actor).
Thin: parse, authorise (declared permission), call, shape. Must not: change a case or the catalogue.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import quote
from uuid import UUID

from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server import clock
from server.approval import catalogue_service, flowchart, messages
from server.approval.blank_forms import blank_form_pdf
from server.approval.case_routes import DEADLINE_LABELS
from server.approval.catalogue import Catalogue, Item
from server.approval.catalogue_service import VersionDetail
from server.approval.workflow import BUNDLE_LABELS, STATE_LABELS, bundle_state
from server.audit.service import AUDIT_KEY
from server.errors import InvalidInput, NotFound, TongbanError
from server.identity.validators import validate_project_code
from server.permissions import PUBLIC
from server.projects import codes
from server.projects.access import READ_ANY, access_project
from server.routing import ApiRoute, PageRoute, RawRoute, RouteTable, client_ip, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates

MANAGE: Final = "approval.catalogue.manage"
TAGS: Final = ("kaigong",)
BUNDLE: Final = "kaigong"
QUERIES_PER_MINUTE: Final = 30

DEPARTMENTS = "SELECT code, name FROM organization WHERE kind = 'department'"
PROJECT_BY_CODE = "SELECT id, name, code FROM project WHERE code = $1"
# A 报建编号 or a 联审编号 names the project too (server/projects/codes.py).
PROJECT_BY_NUMBER = """
    SELECT id, name, code FROM project WHERE baojian_no = $1
    UNION ALL
    SELECT p.id, p.name, p.code FROM approval_application a JOIN project p ON p.id = a.project_id
    WHERE a.lianshen_no = $1
    LIMIT 1"""
# The cases of the project's latest application, in the order of its items (predecessors first).
LATEST_CASES = """
    SELECT c.item_code, c.item_name, o.name AS dept_name, c.predecessors, c.state, c.statutory_wd,
           c.committed_wd, c.accepted_on, c.due_on, c.deadline_state, c.decided_on, a.submitted_at
    FROM approval_case c
    JOIN approval_application a ON a.id = c.application_id
    JOIN organization o ON o.id = c.dept_org_id
    WHERE a.id = (SELECT id FROM approval_application WHERE project_id = $1 ORDER BY submitted_at DESC, id LIMIT 1)
    ORDER BY array_position(a.items, c.item_code), c.item_code"""


class TooManyQueries(TongbanError):
    status, code, message = 429, "too_many_queries", "查询过于频繁，请一分钟后再试"


class ProgressQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=60, description="项目代码（GB/T 40058-2021）")


class PublicCase(BaseModel):
    item_code: str
    item_name: str
    dept_name: str
    predecessors: list[str]
    state: str
    state_label: str
    statutory_wd: int
    committed_wd: int
    accepted_on: date | None
    due_on: date | None
    deadline_state: str
    deadline_label: str
    decided_on: date | None


class PublicProgressOut(BaseModel):
    """What anyone holding a project code may see: no applicant, no person, no reason text."""

    code: str
    project_name: str
    submitted_at: datetime
    bundle_state: str
    bundle_label: str
    cases: list[PublicCase]


class MessageCreated(BaseModel):
    id: UUID
    created_at: datetime


class MessageList(BaseModel):
    items: list[messages.MessageOut]


class MessageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str | None = Field(default=None, pattern="^(open|replied|closed)$")


class ReplyOut(BaseModel):
    id: UUID
    status: str
    status_label: str


async def _published(conn: Any) -> tuple[VersionDetail, Catalogue] | None:
    """The latest published catalogue, or None while there is none (the column then says so)."""
    catalogue_id = await catalogue_service.find_catalogue(conn)
    if catalogue_id is None:
        return None
    try:
        version = await catalogue_service.get_published(conn, catalogue_id)
    except NotFound:
        return None
    return version, catalogue_service.compiled(version)


async def _departments(conn: Any) -> dict[str, str]:
    return {r["code"]: r["name"] for r in await conn.fetch(DEPARTMENTS)}


def _bundle_items(catalogue: Catalogue) -> list[Item]:
    wanted = catalogue.content.bundles.get(BUNDLE)
    codes = set(wanted.items) if wanted else None
    return [c.item for c in catalogue.items if codes is None or c.item.code in codes]


def catalogue_svg(catalogue: Catalogue, departments: dict[str, str]) -> str:
    nodes = flowchart.catalogue_nodes(catalogue, departments, BUNDLE)
    return flowchart.flowchart_svg(nodes, title="开工一件事办理流程图")


async def _take_slot(request: Request, what: str, limit: int, error: TongbanError) -> None:
    rt = runtime(request)
    key = f"{rt.settings.redis_prefix}kaigong:{what}:{client_ip(request) or 'unknown'}"
    async with rt.redis.pipeline(transaction=True) as pipe:
        pipe.set(
            key, 0, ex=messages.WINDOW_S, nx=True
        )  # the window starts with the first request (Redis 6 too)
        pipe.incr(key)
        _, count = await pipe.execute()
    if int(count) > limit:
        raise error


# ---------------------------------------------------------------------------------------------- progress


def _checked_code(raw: str) -> str:
    """A 项目代码 (normalised), or a 报建编号 / 联审编号 as typed (upper-cased)."""
    number = raw.strip().upper()
    if codes.NUMBER.match(number) and not number[:4].isdigit():
        return number
    try:
        return validate_project_code(raw)
    except InvalidInput as exc:
        raise InvalidInput(
            exc.detail, fields=[{"field": "code", "message": exc.detail, "type": exc.code}]
        ) from exc


async def public_progress(request: Request, raw_code: str) -> PublicProgressOut:
    """The progress of the project with code `raw_code` (checked first, then counted against the IP)."""
    code = _checked_code(raw_code)
    await _take_slot(request, "queries", QUERIES_PER_MINUTE, TooManyQueries())
    async with runtime(request).pool.acquire() as conn:
        by = PROJECT_BY_CODE if code[:4].isdigit() else PROJECT_BY_NUMBER
        project = await conn.fetchrow(by, code)
        rows = await conn.fetch(LATEST_CASES, project["id"]) if project else []
    if not rows:  # no project, or nothing submitted: the same answer, so codes cannot be probed
        raise NotFound("未查询到该项目的开工一件事办件，请核对项目代码、报建编号或联审编号")
    cases = [_public_case(dict(r)) for r in rows]
    state = bundle_state(c.state for c in cases)
    return PublicProgressOut(
        code=project["code"], project_name=project["name"], submitted_at=rows[0]["submitted_at"], bundle_state=state,
        bundle_label=BUNDLE_LABELS[state], cases=cases,
    )  # fmt: skip


def _public_case(row: dict[str, Any]) -> PublicCase:
    """A case row in public words; a case not yet accepted has no clock, and says so."""
    if row["state"] == "submitted" and row["accepted_on"] is None:
        deadline, label = "not_started", flowchart.NOT_STARTED
    else:
        deadline, label = (
            row["deadline_state"],
            DEADLINE_LABELS.get(row["deadline_state"], row["deadline_state"]),
        )
    fields = {k: row[k] for k in PublicCase.model_fields if k in row}
    return PublicCase(**{**fields, "deadline_state": deadline, "deadline_label": label,
                         "state_label": STATE_LABELS.get(row["state"], row["state"])})  # fmt: skip


def progress_svg(progress: PublicProgressOut) -> str:
    nodes = flowchart.case_nodes(c.model_dump(mode="json") for c in progress.cases)
    return flowchart.flowchart_svg(nodes, title=f"{progress.project_name} 开工一件事办理进度")


async def get_public_progress(request: Request, query: ProgressQuery) -> PublicProgressOut:
    """Public, read-only: a project's 开工一件事 progress by its 项目代码."""
    return await public_progress(request, query.code)


async def public_progress_svg(request: Request) -> Response:
    """The project's flowchart coloured by state, for the query page to refresh (same rules as the API)."""
    progress = await public_progress(request, request.query_params.get("code", "")[:60])
    return _svg(progress_svg(progress))


def _svg(text: str) -> Response:
    return Response(text, media_type="image/svg+xml; charset=utf-8", headers={"cache-control": "no-store"})


async def project_flowchart(request: Request) -> Response:
    """A project's flowchart for its own pages: project access as the project page, live actor state."""
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    nodes = flowchart.case_nodes(state.public_cases()["cases"])
    title = f"{state.name or ''} 开工一件事办理流程图" if nodes else "开工一件事办理流程图（尚未提交申请）"
    return _svg(flowchart.flowchart_svg(nodes, title=title))


# ------------------------------------------------------------------------------------------------ messages


async def post_message(request: Request, body: messages.MessageIn) -> MessageCreated:
    """Public: leave a consultation or suggestion (checked, then counted against the IP, then stored)."""
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        published = await _published(conn)
    codes = {i.code for i in _bundle_items(published[1])} if published else set()
    checked = messages.check(body, codes)
    await _take_slot(request, "messages", messages.PER_MINUTE, messages.TooManyMessages())
    async with rt.pool.acquire() as conn:
        message_id, created = await messages.create(conn, rt.identity.pii, checked, client_ip(request))
    return MessageCreated(id=message_id, created_at=created)


async def get_messages(request: Request, query: MessageQuery) -> MessageList:
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        return MessageList(items=await messages.list_messages(conn, rt.identity.pii, query.status))


async def post_reply(request: Request, body: messages.ReplyIn) -> ReplyOut:
    user = require_user(request)
    rt = runtime(request)
    message_id: UUID = request.path_params["message_id"]
    async with rt.pool.acquire() as conn:
        await messages.reply(conn, rt.keys.key(AUDIT_KEY), message_id, body, user, client_ip(request))
    status = "closed" if body.close else "replied"
    return ReplyOut(id=message_id, status=status, status_label=messages.STATUS_LABELS[status])


# --------------------------------------------------------------------------------------------------- pages


async def column_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        published = await _published(conn)
        departments = await _departments(conn)
    context = await page_context(request, published=published is not None, departments=departments)
    if published:
        version, compiled = published
        names = {c.item.code: c.item.short_name for c in compiled.items}
        context |= {
            "version": version, "items": _bundle_items(compiled), "short_names": names,
            "flowchart": Markup(catalogue_svg(compiled, departments)),  # noqa: S704 (escaped by flowchart)
        }  # fmt: skip
    return templates.TemplateResponse(request, "kaigong_column.html", context)


async def item_page(request: Request) -> Response:
    code = request.path_params["code"][:40]
    async with runtime(request).pool.acquire() as conn:
        published = await _published(conn)
        departments = await _departments(conn)
    if published is None:  # the column exists before its catalogue: say so rather than fail
        context = await page_context(request, published=False)
        return templates.TemplateResponse(request, "kaigong_item.html", context)
    version, compiled = published
    found = next((i for i in _bundle_items(compiled) if i.code == code), None)
    if found is None:
        raise NotFound("没有该办理事项")
    context = await page_context(
        request, published=True, item=found, version=version, departments=departments,
        names={c.item.code: c.item.name for c in compiled.items},
        successors=[c.item for c in compiled.items if found.code in c.item.predecessors],
        guide=[p for p in found.guide.splitlines() if p.strip()],
    )  # fmt: skip
    return templates.TemplateResponse(request, "kaigong_item.html", context)


async def template_download(request: Request) -> Response:
    """The material's blank form (空表) as a PDF generated from the published catalogue."""
    code, material_code = request.path_params["code"][:40], request.path_params["material_code"][:40]
    async with runtime(request).pool.acquire() as conn:
        published = await _published(conn)
    if published is None:
        raise NotFound("事项目录尚未发布")
    version, compiled = published
    item = next((i for i in _bundle_items(compiled) if i.code == code), None)
    material = next((m for m in item.materials if m.code == material_code), None) if item else None
    if item is None or material is None or material.template is None:
        raise NotFound("没有该材料的空表")
    pdf = await asyncio.to_thread(
        blank_form_pdf, item_name=item.name, material_name=material.name, note=material.note,
        required=material.required, version=version.version,
    )  # fmt: skip
    filename = material.template.rsplit(".", 1)[0] + "（空表）.pdf"
    disposition = (
        f"attachment; filename=\"{item.code}-{material.code}.pdf\"; filename*=UTF-8''{quote(filename)}"
    )
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": disposition, "cache-control": "public, max-age=300"})  # fmt: skip


async def query_page(request: Request) -> Response:
    raw = request.query_params.get("code", "")[:60].strip()
    now_text = datetime.now(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    context = await page_context(
        request, code=raw, progress=None, error=None, field_error=None, now_text=now_text
    )
    if raw:
        try:
            progress = await public_progress(request, raw)
            context |= {"progress": progress, "flowchart": Markup(progress_svg(progress))}  # noqa: S704
        except InvalidInput as exc:
            context["field_error"] = exc.detail
        except (NotFound, TooManyQueries) as exc:
            context["error"] = exc.detail
    return templates.TemplateResponse(request, "kaigong_query.html", context)


async def policy_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        published = await _published(conn)
        departments = await _departments(conn)
    items = _bundle_items(published[1]) if published else []
    notes = list(published[1].content.notes) if published else []
    context = await page_context(request, items=items, departments=departments, notes=notes)
    return templates.TemplateResponse(request, "kaigong_policy.html", context)


async def consult_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        published = await _published(conn)
    items = _bundle_items(published[1]) if published else []
    chosen = request.query_params.get("item", "")[:40]
    context = await page_context(request, items=items, chosen=chosen, max_content=messages.MAX_CONTENT)
    return templates.TemplateResponse(request, "kaigong_consult.html", context)


async def messages_admin_page(request: Request) -> Response:
    rt = runtime(request)
    status = request.query_params.get("status")
    status = status if status in messages.STATUS_LABELS else None
    async with rt.pool.acquire() as conn:
        rows = await messages.list_messages(conn, rt.identity.pii, status)
        published = await _published(conn)
    names = {c.item.code: c.item.name for c in published[1].items} if published else {}
    context = await page_context(request, messages=rows, status=status, status_labels=messages.STATUS_LABELS,
                                 names=names)  # fmt: skip
    return templates.TemplateResponse(request, "kaigong_messages_admin.html", context)


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/kaigong/progress", get_public_progress, PUBLIC, PublicProgressOut,
                 query=ProgressQuery, summary="按项目代码查询开工一件事办理进度（公开，不含个人信息）", tags=TAGS),
        ApiRoute("POST", "/api/v1/kaigong/messages", post_message, PUBLIC, MessageCreated, messages.MessageIn,
                 status=201, summary="开工一件事专栏咨询、建议留言（公开，按 IP 限频）", tags=TAGS),
        ApiRoute("GET", "/api/v1/admin/kaigong/messages", get_messages, MANAGE, MessageList, query=MessageQuery,
                 summary="专栏留言（手机号脱敏）", tags=TAGS),
        ApiRoute("POST", "/api/v1/admin/kaigong/messages/{message_id:uuid}/reply", post_reply, MANAGE, ReplyOut,
                 messages.ReplyIn, summary="答复或关闭专栏留言", tags=TAGS),
    ],
    raw=[
        RawRoute("GET", "/kaigong/items/{code:str}/templates/{material_code:str}", template_download, PUBLIC,
                 summary="办事指南材料空表（PDF）"),
        RawRoute("GET", "/kaigong/query/flowchart.svg", public_progress_svg, PUBLIC,
                 summary="按项目代码查询的办理流程图（SVG，公开）"),
        RawRoute("GET", "/projects/{project_id:uuid}/kaigong/flowchart.svg", project_flowchart, "project.read",
                 summary="项目的开工一件事流程图（SVG，按办件状态着色）"),
    ],
    pages=[
        PageRoute("/kaigong", column_page, PUBLIC),
        PageRoute("/kaigong/items/{code:str}", item_page, PUBLIC),
        PageRoute("/kaigong/query", query_page, PUBLIC),
        PageRoute("/kaigong/policy", policy_page, PUBLIC),
        PageRoute("/kaigong/consult", consult_page, PUBLIC),
        PageRoute("/admin/kaigong/messages", messages_admin_page, MANAGE),
    ],
)  # fmt: skip
