"""The collaborative form document pages: the live editor (`/documents/{id}`) and the read-only view
of one saved version (`/documents/{id}/versions/{vid}`). Both render `document.html`, which loads the
editor bundle (`static/collab/editor.js`, built from `server/web/src/` by `make web`); the bundle
reads the form schema, the versions and the content from the document API and edits over the
y-websocket.

Must not: decide who may read or edit a document; `server.collab.access.open_document` does, and the
API and the socket enforce it again (the page only mirrors `can_edit`).
"""

from __future__ import annotations

from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from server.collab.access import open_document
from server.routing import PageRoute, RouteTable
from server.web.layout import page_context
from server.web.templating import templates


async def document_page(request: Request) -> Response:
    doc_id: UUID = request.path_params["doc_id"]
    document = await open_document(request, doc_id)
    context = await page_context(request, document=document, version_id=None)
    return templates.TemplateResponse(request, "document.html", context)


async def document_version_page(request: Request) -> Response:
    doc_id: UUID = request.path_params["doc_id"]
    version_id: UUID = request.path_params["version_id"]
    document = await open_document(request, doc_id)
    context = await page_context(request, document=document, version_id=version_id)
    return templates.TemplateResponse(request, "document.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/documents/{doc_id:uuid}", document_page, "project.read"),
        PageRoute(
            "/documents/{doc_id:uuid}/versions/{version_id:uuid}", document_version_page, "project.read"
        ),
    ]
)
