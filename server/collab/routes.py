"""Collaborative document routes: create a document of a project, and its y-websocket.

Read access = whoever may see the project (`server.projects.access`); edit = users of the owning
organisation whose role holds `doc.edit` (and, for API tokens, whose token's scopes include it).
"""

from __future__ import annotations

from collections.abc import Awaitable
from uuid import UUID

from starlette.requests import Request
from starlette.websockets import WebSocket

from collab.rooms import Rooms
from collab.socket import serve_document
from server.collab.models import DocumentIn, DocumentOut
from server.collab.service import create_document, document_project
from server.errors import NotFound
from server.projects.access import READ_ANY, access_project, project_owner
from server.routing import (
    ApiRoute,
    RouteTable,
    WsRoute,
    current_session,
    current_user,
    holds,
    require_user,
)
from server.runtime import runtime

EDIT = "doc.edit"


async def new_document(request: Request, body: DocumentIn) -> DocumentOut:
    user = require_user(request)
    project_id: UUID = request.path_params["project_id"]
    async with runtime(request).pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=False)  # only the owner's own projects
        return await create_document(conn, project_id, body.title, user.id)


def node_rooms(websocket: WebSocket) -> Rooms:
    """This process's rooms, made on first use (one per application)."""
    state = websocket.app.state
    rooms: Rooms | None = getattr(state, "collab_rooms", None)
    if rooms is None:
        rt = runtime(websocket)
        rooms = state.collab_rooms = Rooms(rt.hub, rt.actors.node_id, rt.settings.ask_timeout_s)
    return rooms


async def document_socket(websocket: WebSocket) -> Awaitable[None]:
    user = await current_user(websocket)
    assert user is not None  # the route's permission admitted the user
    rt = runtime(websocket)
    doc_id: UUID = websocket.path_params["doc_id"]
    try:
        async with rt.pool.acquire() as conn:
            project_id = await document_project(conn, doc_id)
            if project_id is None:
                raise NotFound()
            await access_project(conn, user, project_id, read_any=await holds(websocket, READ_ANY))
            owner = await project_owner(conn, project_id)
    except NotFound as exc:  # the same answer whether the document or its project is missing or not visible
        raise NotFound("文档不存在或无权查看") from exc
    session = await current_session(websocket)
    scoped_out = session is not None and session.scopes is not None and EDIT not in session.scopes
    can_edit = owner == user.org_id and await holds(websocket, EDIT) and not scoped_out
    return serve_document(websocket, rt.actors, node_rooms(websocket), rt.settings, doc_id, can_edit)


ROUTES = RouteTable(
    api=[
        ApiRoute(
            "POST",
            "/api/v1/projects/{project_id:uuid}/documents",
            new_document,
            EDIT,
            DocumentOut,
            DocumentIn,
            201,
            summary="新建项目协同文档",
            tags=("documents",),
        ),
    ],
    sockets=[WsRoute("/ws/docs/{doc_id:uuid}", document_socket, "project.read")],
)
