"""Project routes: thin; parse, authorise (declared), call the actor or service, shape."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from uuid import UUID

from starlette.requests import Request
from starlette.websockets import WebSocket

from actors.project.actor import project_address
from actors.project.messages import CreateProject, GetProject, StartApproval, TaskSpec, UpdateTask
from actors.project.state import ProjectState
from server import clock
from server.audit.service import AUDIT_KEY
from server.errors import Conflict, InvalidInput, NotFound
from server.live import since_of, stream_actor
from server.projects import archive, data_service, sql
from server.projects.access import READ_ANY, access_project
from server.projects.codes import check_project_code
from server.projects.models import (
    ApprovalIn,
    ArchiveEntryOut,
    ArchiveOut,
    ArchiveStageOut,
    ProjectDataIn,
    ProjectDataOut,
    ProjectIn,
    ProjectList,
    ProjectOut,
    TaskUpdateIn,
)
from server.projects.service import department_names, find_same_registration, list_projects
from server.routing import ApiRoute, RouteTable, WsRoute, client_ip, current_user, holds, require_user
from server.runtime import runtime


def _out(state: ProjectState) -> ProjectOut:
    return ProjectOut.model_validate(state.public(clock.today()))


async def create_project(request: Request, body: ProjectIn) -> ProjectOut:
    user = require_user(request)
    rt = runtime(request)
    code = check_project_code(body.code, rt.settings.project_code_legacy_pattern)
    msg = CreateProject(
        code=code, name=body.name, owner_org_id=user.org_id, created_by=user.id,
        project_type=body.project_type, tags=tuple(dict.fromkeys(body.tags)), actor_login=user.login,
        ip=client_ip(request),
    )  # fmt: skip
    try:
        state = await rt.actors.ref(project_address(uuid.uuid4())).ask(msg, rt.settings.ask_timeout_s)
    except Conflict:
        # A retry of a registration that did commit (its answer was lost, or timed out with 504) gets
        # that project back; the same code with another owner or name stays a conflict.
        async with rt.pool.acquire() as conn:
            same = await find_same_registration(conn, code, user.org_id, body.name)
        if same is None:
            raise
        state = await rt.actors.ref(project_address(same)).ask(GetProject(), rt.settings.ask_timeout_s)
    return _out(state)


async def get_projects(request: Request) -> ProjectList:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        return ProjectList(items=await list_projects(conn, user, read_any=await holds(request, READ_ANY)))


async def get_project(request: Request) -> ProjectOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    return _out(state)


async def get_archive(request: Request) -> ArchiveOut:
    """The project's electronic archive: every recorded document, by stage from 立项 to 竣工验收."""
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        grouped = await archive.entries(conn, project_id)
        opened = await conn.fetchrow(sql.ARCHIVE_OF, project_id)
    number = opened["archive_no"] if opened is not None else None
    stages = [
        ArchiveStageOut(stage=s, entries=[ArchiveEntryOut(**e) for e in rows]) for s, rows in grouped.items()
    ]
    return ArchiveOut(archive_no=number, stages=stages)


async def get_project_data(request: Request) -> ProjectDataOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        sections, revision = await data_service.read(conn, project_id)
    form = data_service.schema().model_dump(mode="json")
    return ProjectDataOut(form=form, sections=sections, revision=revision)


async def save_project_data(request: Request, body: ProjectDataIn) -> ProjectDataOut:
    """The owner enterprise keeps its project's 用地、规划、施工许可 data (revisioned: a stale save is 409)."""
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=False)
        revision = await data_service.save(conn, rt.keys.key(AUDIT_KEY), project_id, body.sections, body.revision,
                                           user, client_ip(request))  # fmt: skip
        sections, _ = await data_service.read(conn, project_id)
    return ProjectDataOut(
        form=data_service.schema().model_dump(mode="json"), sections=sections, revision=revision
    )


async def start_approval(request: Request, body: ApprovalIn) -> ProjectOut:
    """The owner enterprise dispatches the project to the departments at once (并联审批)."""
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=False)
        names = await department_names(conn, [t.dept_org_id for t in body.tasks])
    unknown = [str(t.dept_org_id) for t in body.tasks if t.dept_org_id not in names]
    if unknown:
        raise InvalidInput("审批部门不存在或不是审批部门", departments=unknown)
    specs = [
        TaskSpec(
            dept_org_id=t.dept_org_id,
            dept_name=names[t.dept_org_id],
            item=t.item,
            limit_workdays=t.limit_workdays,
        )
        for t in body.tasks
    ]
    msg = StartApproval(
        tasks=specs, accepted_on=body.accepted_on or clock.today(), by=user.id, actor_login=user.login,
        ip=client_ip(request),
    )  # fmt: skip
    return _out(await rt.actors.ref(project_address(project_id)).ask(msg, rt.settings.ask_timeout_s))


async def update_task(request: Request, body: TaskUpdateIn) -> ProjectOut:
    """A department moves its own task (reviewers of other departments may not)."""
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    dept_org_id: UUID = request.path_params["dept_org_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
    if user.org_id != dept_org_id:  # object-level, like a project one may not see: 404, not 403
        raise NotFound("本部门在该项目没有审批任务")
    msg = UpdateTask(
        dept_org_id=dept_org_id, status=body.status, note=body.note, by=user.id, actor_login=user.login,
        ip=client_ip(request),
    )  # fmt: skip
    return _out(await rt.actors.ref(project_address(project_id)).ask(msg, rt.settings.ask_timeout_s))


async def project_events(websocket: WebSocket) -> Awaitable[None]:
    user = await current_user(websocket)
    assert user is not None  # the route's permission admitted the user
    rt = runtime(websocket)
    project_id: UUID = websocket.path_params["project_id"]
    since = since_of(websocket)
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(websocket, READ_ANY))
    return stream_actor(websocket, rt.actors, rt.live, project_address(project_id), since)


ROUTES = RouteTable(
    api=[
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/data",
            get_project_data,
            "project.read",
            ProjectDataOut,
            summary="项目基本信息（用地、规划、施工许可）",
            tags=("projects",),
        ),
        ApiRoute(
            "PUT",
            "/api/v1/projects/{project_id:uuid}/data",
            save_project_data,
            "project.create",
            ProjectDataOut,
            body=ProjectDataIn,
            summary="保存项目基本信息（带版本号）",
            tags=("projects",),
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}/archive",
            get_archive,
            "project.read",
            ArchiveOut,
            summary="项目电子档案（立项至竣工验收的全部文件记录）",
            tags=("projects",),
        ),
        ApiRoute(
            "POST",
            "/api/v1/projects",
            create_project,
            "project.create",
            ProjectOut,
            ProjectIn,
            201,
            summary="登记项目",
            tags=("projects",),
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects",
            get_projects,
            "project.read",
            ProjectList,
            summary="可见项目列表",
            tags=("projects",),
        ),
        ApiRoute(
            "GET",
            "/api/v1/projects/{project_id:uuid}",
            get_project,
            "project.read",
            ProjectOut,
            summary="项目实时状态",
            tags=("projects",),
        ),
        ApiRoute(
            "POST",
            "/api/v1/projects/{project_id:uuid}/approval",
            start_approval,
            "approval.dispatch",
            ProjectOut,
            ApprovalIn,
            summary="发起并联审批（向各审批部门同时分派任务）",
            tags=("projects",),
        ),
        ApiRoute(
            "PUT",
            "/api/v1/projects/{project_id:uuid}/tasks/{dept_org_id:uuid}",
            update_task,
            "task.update",
            ProjectOut,
            TaskUpdateIn,
            summary="办理本部门审批任务",
            tags=("projects",),
        ),
    ],
    sockets=[WsRoute("/ws/projects/{project_id:uuid}", project_events, "project.read")],
)
