"""Server-rendered pages (Chinese UI) on one layout: login, project list, live project status.

Must not: hold business rules; pages read through the same services and actors as the API.
"""

from __future__ import annotations

import logging
from pathlib import Path
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server.errors import TongbanError
from server.identity import sql as identity_sql
from server.permissions import PUBLIC, ROLE_LABELS, role_has
from server.projects.access import access_project
from server.projects.service import list_projects
from server.routing import PageHandler, PageRoute, RouteTable, current_user, require_user
from server.runtime import runtime

logger = logging.getLogger(__name__)

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals["role_labels"] = ROLE_LABELS


def _safe_next(target: str | None) -> str:
    # Only same-site absolute paths: never redirect to another host after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/projects"


def error_page(request: Request, exc: TongbanError) -> Response:
    """The Chinese HTML page of an error, with its status: a browser shows this, not the API's JSON."""
    if exc.status >= 500:
        logger.warning("page.unavailable", extra={"code": exc.code})
    user = getattr(request.state, "user", None)
    context = {"user": user, "status": exc.status, "code": exc.code, "message": exc.detail}
    return templates.TemplateResponse(request, "error.html", context, status_code=exc.status)


def html_errors(handler: PageHandler) -> PageHandler:
    """The page handler, with the errors it raises shown as `error_page`."""

    async def page(request: Request) -> Response:
        try:
            return await handler(request)
        except TongbanError as exc:
            return error_page(request, exc)

    page.__name__ = handler.__name__
    return page


async def home(request: Request) -> Response:
    user = await current_user(request)
    return RedirectResponse("/projects" if user else "/login", status_code=303)


async def login_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        accounts = [dict(r) for r in await conn.fetch(identity_sql.DEMO_USERS)]
    return templates.TemplateResponse(
        request,
        "login.html",
        {"accounts": accounts, "next": _safe_next(request.query_params.get("next")), "user": None},
    )


async def projects_page(request: Request) -> Response:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        projects = await list_projects(conn, user)
    return templates.TemplateResponse(
        request,
        "projects.html",
        {"user": user, "projects": projects, "can_create": role_has(user.role, "project.create")},
    )


async def project_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    return templates.TemplateResponse(request, "project.html", {"user": user, "project": state.public()})


ROUTES = RouteTable(
    pages=[
        PageRoute("/", html_errors(home), PUBLIC),
        PageRoute("/login", html_errors(login_page), PUBLIC),
        PageRoute("/projects", html_errors(projects_page), "project.read"),
        PageRoute("/projects/{project_id:uuid}", html_errors(project_page), "project.read"),
    ]
)
