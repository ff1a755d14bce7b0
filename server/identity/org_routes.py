"""Registering organisations (system administrators)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from server.identity.orgs import OrgKind, register_org
from server.identity.validators import UnifiedSocialCreditCode
from server.routing import ApiRoute, RouteTable, client_ip, require_user
from server.runtime import runtime


class OrgIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: OrgKind
    name: str = Field(min_length=2, max_length=100, description="单位名称")
    credit_code: UnifiedSocialCreditCode | None = Field(default=None, description="统一社会信用代码")
    code: str | None = Field(default=None, pattern=r"^[A-Z0-9-]{3,32}$", description="审批部门的单位代码")


class OrgCreated(BaseModel):
    id: UUID


async def post_org(request: Request, body: OrgIn) -> OrgCreated:
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        org_id = await register_org(
            conn, rt.identity.audit_key, require_user(request), client_ip(request), kind=body.kind, name=body.name,
            credit_code=body.credit_code, code=body.code,
        )  # fmt: skip
    return OrgCreated(id=org_id)


ROUTES = RouteTable(
    api=[
        ApiRoute("POST", "/api/v1/admin/orgs", post_org, "user.manage", OrgCreated, OrgIn, 201,
                 summary="登记单位", tags=("admin",)),
    ]
)  # fmt: skip
