"""Administration pages: user accounts (`/admin/users`) and the role × permission table (`/admin/roles`).
The controls call the admin API (`server.identity.admin_routes`) from `static/admin_users.js` and
`static/admin_roles.js`.

Must not: change anything itself, or show more of a person than the masked name and phone the admin
API gives.
"""

from __future__ import annotations

from itertools import groupby
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from server.identity.admin import role_table
from server.identity.orgs import ORG_KIND_LABELS, list_orgs
from server.identity.users import list_users
from server.permissions import PERMISSION_LABELS, ROLE_LABELS, ROLES
from server.routing import PageRoute, RouteTable, require_user
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates

STATUS_LABELS = {"active": "正常", "disabled": "已停用", "tampered": "校验失败，已拒绝登录"}
# The one grant an administrator may not take from their own role (server.identity.admin.set_grant).
SELF_LOCKED_PERMISSION = "permission.manage"


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def users_page(request: Request) -> Response:
    me = require_user(request)
    identity = runtime(request).identity
    async with identity.pool.acquire() as conn:
        accounts = await list_users(conn, identity.pii, identity.acl_key)
        orgs = await list_orgs(conn)
    created_id = _uuid_or_none(request.query_params.get("created"))
    org_groups = [
        (ORG_KIND_LABELS.get(kind, kind), list(group)) for kind, group in groupby(orgs, key=lambda o: o.kind)
    ]
    context = await page_context(
        request,
        accounts=accounts,
        me_id=me.id,
        created=next((a for a in accounts if a.id == created_id), None),
        org_groups=org_groups,
        roles=[(role, ROLE_LABELS[role]) for role in ROLES],
        status_labels=STATUS_LABELS,
    )
    return templates.TemplateResponse(request, "admin_users.html", context)


async def roles_page(request: Request) -> Response:
    me = require_user(request)
    identity = runtime(request).identity
    async with identity.pool.acquire() as conn:
        grants = await role_table(conn, identity)
    context = await page_context(
        request,
        grants=grants,
        roles=[(role, ROLE_LABELS[role]) for role in ROLES],
        permissions=list(PERMISSION_LABELS.items()),
        locked=(me.role, SELF_LOCKED_PERMISSION),
    )
    return templates.TemplateResponse(request, "admin_roles.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/admin/users", users_page, "user.manage"),
        PageRoute("/admin/roles", roles_page, "permission.manage"),
    ]
)
