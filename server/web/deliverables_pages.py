"""Pages of deliverables (出具文件): a project's documents (`/projects/{id}/deliverables`: generate from a
saved filling version or certificate data, watch generation live, preview every sheet or page, issue,
revoke, download) and the public verification page (`/verify/{id}`, what a scanned QR code opens).

Must not: decide access (`server.deliverables.access`; the API enforces it again) or compute a verdict
itself (`server.deliverables.verify`).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server import clock
from server.deliverables.access import CERTIFY, GENERATE, READ, see_project
from server.deliverables.verify import verdict
from server.permissions import PUBLIC
from server.projects.access import project_owner
from server.routing import PageRoute, RouteTable, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates


async def deliverables_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    await see_project(request, user, project_id)
    async with rt.pool.acquire() as conn:
        owner = await project_owner(conn, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    context = await page_context(
        request,
        project=state.public(clock.today()),
        may_fill=owner == user.org_id and await holds(request, GENERATE),
        may_certify=await holds(request, CERTIFY),
    )
    return templates.TemplateResponse(request, "deliverables.html", context)


async def verify_page(request: Request) -> Response:
    rt = runtime(request)
    digest = request.query_params.get("sm3")
    async with rt.pool.acquire() as conn:
        result = await verdict(
            conn, rt.keys, request.path_params["deliverable_id"][:40], (digest or "")[:128] or None
        )
    context = await page_context(request, verdict=result)
    return templates.TemplateResponse(request, "verify.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/projects/{project_id:uuid}/deliverables", deliverables_page, READ),
        PageRoute("/verify/{deliverable_id:str}", verify_page, PUBLIC),
    ]
)
