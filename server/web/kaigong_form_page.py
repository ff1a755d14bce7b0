"""The one form page of 开工一件事 (`/projects/{id}/kaigong/apply`): the applicant fills in the merged form
of the applicable items, checked live and saved as a draft continuously, then signs it with the
enterprise's certificate key and submits it. The page is a shell: `static/kaigong_apply.js` reads and
writes through the form API (`server.approval.form_routes`) and signs with `static/kaigong/sign.js`
(sm-crypto, built by `make web`).
Must not: decide what the form holds or who may submit it (the API does, and checks again).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server import clock
from server.approval.access import APPLY, applicant_of
from server.routing import PageRoute, RouteTable, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates


async def apply_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await applicant_of(conn, user, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    context = await page_context(request, project=state.public(clock.today()))
    return templates.TemplateResponse(request, "kaigong_apply.html", context)


ROUTES = RouteTable(pages=[PageRoute("/projects/{project_id:uuid}/kaigong/apply", apply_page, APPLY)])
