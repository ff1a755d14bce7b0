"""Server-rendered pages (Chinese UI) on one layout: home, login, project list, live project status,
bid sessions (评标会议) and the live session;
the account, administration, document, drawings and BIM model pages live in `account_pages`,
`admin_pages`, `collab_pages`, `files_pages` and `bim_pages` and join `ROUTES` here.

Must not: hold business rules; pages read through the same services and actors as the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from actors.bid.actor import bid_address
from actors.bid.messages import GetBidSession
from actors.project.actor import project_address
from actors.project.messages import GetProject
from collab.catalogue import forms
from server import clock
from server.approval.catalogue_routes import PAGE_ROUTES as APPROVAL_CATALOGUE_ROUTES
from server.bids.access import MANAGE, access_bid
from server.bids.service import list_bids
from server.collab.access import EDIT
from server.collab.service import project_documents
from server.permissions import PUBLIC
from server.projects import archive
from server.projects.access import READ_ANY, access_project, project_owner
from server.projects.service import list_projects
from server.routing import PageRoute, RouteTable, current_user, holds, require_user
from server.runtime import runtime
from server.web.account_pages import ROUTES as ACCOUNT_ROUTES
from server.web.admin_pages import ROUTES as ADMIN_ROUTES
from server.web.bim_admin_pages import ROUTES as BIM_ADMIN_ROUTES
from server.web.bim_pages import ROUTES as BIM_ROUTES
from server.web.collab_pages import ROUTES as COLLAB_ROUTES
from server.web.deliverables_pages import ROUTES as DELIVERABLES_ROUTES
from server.web.files_pages import ROUTES as FILES_ROUTES
from server.web.kaigong_form_page import ROUTES as KAIGONG_FORM_ROUTES
from server.web.kaigong_pages import ROUTES as KAIGONG_ROUTES
from server.web.kaigong_stats_page import ROUTES as KAIGONG_STATS_ROUTES
from server.web.layout import page_context
from server.web.project_data_page import ROUTES as PROJECT_DATA_ROUTES
from server.web.templating import templates

# What the login page says when another page sent the visitor here (`/login?notice=…`); a fixed set,
# so no text from the address ever reaches the page.
LOGIN_NOTICES: Final[dict[str, str]] = {
    "password_changed": "密码已修改，所有设备上的登录均已结束，请使用新密码登录。",
    "logged_out_everywhere": "已退出所有设备上的登录，请重新登录。",
}


def _safe_next(target: str | None) -> str:
    # Only same-site absolute paths: never redirect to another host after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def home(request: Request) -> Response:
    """Logged in: the project list, or the account page for roles that read no projects."""
    if await current_user(request) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(
        "/projects" if await holds(request, "project.read") else "/account", status_code=303
    )


async def login_page(request: Request) -> Response:
    context = {
        "user": None,
        "next": _safe_next(request.query_params.get("next")),
        "notice": LOGIN_NOTICES.get(request.query_params.get("notice", "")),
        "dev_sms": runtime(request).dev_sms is not None,
    }
    return templates.TemplateResponse(request, "login.html", context)


async def projects_page(request: Request) -> Response:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        projects = await list_projects(conn, user, read_any=await holds(request, READ_ANY))
    context = await page_context(
        request, projects=projects, can_create=await holds(request, "project.create")
    )
    return templates.TemplateResponse(request, "projects.html", context)


async def project_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
        project = state.public(clock.today())
        documents = await project_documents(conn, project_id)
        owner = await project_owner(conn, project_id)
        archive_entries = await archive.entries(conn, project_id)
    # A department's reviewer acts on the department's own task from the page.
    own_dept = str(user.org_id) if await holds(request, "task.update") else None
    may_write = owner == user.org_id and await holds(request, EDIT)
    context = await page_context(
        request, project=project, own_dept=own_dept, documents=documents, forms=list(forms().values()),
        may_write=may_write, local_time=local_time, archive_entries=archive_entries,
    )  # fmt: skip
    return templates.TemplateResponse(request, "project.html", context)


def local_time(at: datetime) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


async def bids_page(request: Request) -> Response:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        bids = await list_bids(conn, user, manage=await holds(request, MANAGE))
    context = await page_context(request, bids=bids, local_time=local_time)
    return templates.TemplateResponse(request, "bids.html", context)


async def bid_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    bid_id: UUID = request.path_params["bid_id"]
    async with rt.pool.acquire() as conn:
        await access_bid(conn, user, bid_id, manage=await holds(request, MANAGE))
    view = await rt.actors.ref(bid_address(bid_id)).ask(GetBidSession(), rt.settings.ask_timeout_s)
    context = await page_context(request, bid=view, local_time=local_time)
    return templates.TemplateResponse(request, "bid.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/", home, PUBLIC),
        PageRoute("/login", login_page, PUBLIC),
        PageRoute("/projects", projects_page, "project.read"),
        PageRoute("/projects/{project_id:uuid}", project_page, "project.read"),
        PageRoute("/bids", bids_page, "bid.read"),
        PageRoute("/bids/{bid_id:uuid}", bid_page, "bid.read"),
    ]
)
ROUTES.extend(ACCOUNT_ROUTES)
ROUTES.extend(ADMIN_ROUTES)
ROUTES.extend(BIM_ADMIN_ROUTES)
ROUTES.extend(COLLAB_ROUTES)
ROUTES.extend(FILES_ROUTES)
ROUTES.extend(BIM_ROUTES)
ROUTES.extend(DELIVERABLES_ROUTES)
ROUTES.extend(APPROVAL_CATALOGUE_ROUTES)
ROUTES.extend(KAIGONG_ROUTES)
ROUTES.extend(KAIGONG_FORM_ROUTES)
ROUTES.extend(PROJECT_DATA_ROUTES)
ROUTES.extend(KAIGONG_STATS_ROUTES)
