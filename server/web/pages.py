"""Server-rendered pages (Chinese UI) on one layout: login, project list, live project status.

Must not: hold business rules; pages read through the same services and actors as the API.
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server.identity.service import list_demo_accounts
from server.permissions import PUBLIC
from server.projects.access import READ_ANY, access_project
from server.projects.service import list_projects
from server.routing import PageRoute, RouteTable, current_user, holds, require_user
from server.runtime import runtime
from server.web.templating import templates


def _safe_next(target: str | None) -> str:
    # Only same-site absolute paths: never redirect to another host after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/projects"


async def home(request: Request) -> Response:
    user = await current_user(request)
    return RedirectResponse("/projects" if user else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        accounts = await list_demo_accounts(conn)
    return templates.TemplateResponse(
        request,
        "login.html",
        {"accounts": accounts, "next": _safe_next(request.query_params.get("next")), "user": None},
    )


async def projects_page(request: Request) -> Response:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        projects = await list_projects(conn, user, read_any=await holds(request, READ_ANY))
    return templates.TemplateResponse(
        request,
        "projects.html",
        {"user": user, "projects": projects, "can_create": await holds(request, "project.create")},
    )


async def project_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    return templates.TemplateResponse(request, "project.html", {"user": user, "project": state.public()})


ROUTES = RouteTable(
    pages=[
        PageRoute("/", home, PUBLIC),
        PageRoute("/login", login_page, PUBLIC),
        PageRoute("/projects", projects_page, "project.read"),
        PageRoute("/projects/{project_id:uuid}", project_page, "project.read"),
    ]
)
