"""The project's basic information page (`/projects/{id}/data`, 项目基本信息: 用地、规划、施工许可): a shell
whose `static/project_data.js` renders the shipped schema and saves through the project data API (the owner
edits; others who may see the project read it).
Must not: decide who may edit (the API does, and the page only mirrors it).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server import clock
from server.projects.access import READ_ANY, access_project, project_owner
from server.routing import PageRoute, RouteTable, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates


async def project_data_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        owner = await project_owner(conn, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    may_edit = owner == user.org_id and await holds(request, "project.create")
    context = await page_context(request, project=state.public(clock.today()), may_edit=may_edit)
    return templates.TemplateResponse(request, "project_data.html", context)


ROUTES = RouteTable(pages=[PageRoute("/projects/{project_id:uuid}/data", project_data_page, "project.read")])
