"""The Jinja2 environment of every page, and the Chinese HTML page shown for an error.

Must not: import routes or domains (the route layer imports this module).
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from server.clock import SHANGHAI
from server.errors import TongbanError
from server.permissions import ROLE_LABELS

logger = logging.getLogger(__name__)


def _csrf(request: Request) -> dict[str, str]:
    """Every page carries its session's CSRF token for common.js to send back."""
    session = request.scope.get("state", {}).get("session")
    return {"csrf_token": session.csrf if session else ""}


templates = Jinja2Templates(directory=Path(__file__).parent / "templates", context_processors=[_csrf])
templates.env.globals["role_labels"] = ROLE_LABELS
templates.env.globals["shanghai"] = SHANGHAI


def error_page(request: Request, exc: TongbanError) -> Response:
    """The Chinese HTML page of an error, with its status: a browser shows this, not the API's JSON."""
    if exc.status >= 500:
        logger.warning("page.unavailable", extra={"code": exc.code})
    user = request.scope.get("state", {}).get("user")
    context = {"user": user, "status": exc.status, "code": exc.code, "message": exc.detail}
    return templates.TemplateResponse(request, "error.html", context, status_code=exc.status)
