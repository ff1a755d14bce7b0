"""The drawings page of a project (`/projects/{id}/drawings`, 图纸管理): buildings, the searchable
catalogue, package download and, for the owner enterprise, the upload panel. The page is a shell:
`static/drawings.js` reads the drawings API and uploads through the tus endpoint with the bundle
`static/files/upload.js` (built from `server/web/src/files/` by `make web`).

Must not: decide who may read or upload drawings; `server.files.access` does, and the API and the tus
endpoint enforce it again (the page only mirrors `may_upload` to show or hide the upload forms).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from server import clock
from server.files.access import READ, UPLOAD, can_read_any, read_files
from server.projects.access import project_owner
from server.routing import PageRoute, RouteTable, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates


async def drawings_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await read_files(conn, user, project_id, read_any=await can_read_any(request))
        owner = await project_owner(conn, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    project = state.public(clock.today())
    may_upload = owner == user.org_id and await holds(request, UPLOAD)
    context = await page_context(request, project=project, may_upload=may_upload)
    return templates.TemplateResponse(request, "drawings.html", context)


ROUTES = RouteTable(pages=[PageRoute("/projects/{project_id:uuid}/drawings", drawings_page, READ)])
