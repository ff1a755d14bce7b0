"""Pages of 开工一件事 cases: the department's approval workbench (`/kaigong/workbench`: the queue sorted
by urgency, claim, a case panel with every sibling department's case live, the actions of the case's
state, notices) and the applicant's progress page (`/projects/{id}/kaigong`: the bundle's state, each
item's department, state, due date and deadline, the project flowchart, correction answers and
withdrawal, live).

Both pages render the first view on the server and keep it current through the project actor's stream
(`/ws/projects/{id}`); every action goes through the case API, which decides again.
Must not: decide access itself (`server.projects.access`, `server.approval.access`), move a case, or
spell a state or action label (they come from `server.approval.workflow`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from actors.project.actor import project_address
from actors.project.messages import GetProject
from actors.project.state import CASE_DEADLINE_LABELS
from server.approval.access import APPLY, HANDLE
from server.approval.case_routes import progress_of
from server.approval.clock import PAUSE_LABELS
from server.approval.workflow import ACTION_LABELS, BUNDLE_LABELS, STATE_LABELS, TRANSITIONS
from server.projects.access import READ_ANY, access_project, project_owner
from server.routing import PageRoute, RouteTable, holds, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates


def labels() -> dict[str, Any]:
    """What the pages' scripts need to name states, deadlines, pauses and actions, and which action a
    side may take from which state: one source, the workflow module."""
    return {
        "states": dict(STATE_LABELS),
        "deadlines": dict(CASE_DEADLINE_LABELS),
        "bundles": dict(BUNDLE_LABELS),
        "pauses": {str(k): v for k, v in PAUSE_LABELS.items()},
        "actions": {**ACTION_LABELS, "claim": "认领"},
        "transitions": {
            t.action: {"side": t.side, "sources": sorted(t.sources), "needs_reason": t.needs_reason}
            for t in TRANSITIONS.values()
        },
    }


async def workbench_page(request: Request) -> Response:
    user = require_user(request)
    # The filter offers the states a department ever sees (never a draft).
    states = [(s, label) for s, label in STATE_LABELS.items() if s != "draft"]
    context = await page_context(
        request, labels=labels(), states=states, user_id=str(user.id), dept_name=user.org_name
    )
    return templates.TemplateResponse(request, "kaigong_workbench.html", context)


async def progress_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
        owner = await project_owner(conn, project_id)
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    context = await page_context(
        request,
        project={"id": str(project_id), "name": state.name, "code": state.code},
        progress=progress_of(state),
        may_apply=owner == user.org_id and await holds(request, APPLY),
        labels=labels(),
    )
    return templates.TemplateResponse(request, "kaigong_progress.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/kaigong/workbench", workbench_page, HANDLE),
        PageRoute("/projects/{project_id:uuid}/kaigong", progress_page, "project.read"),
    ]
)
