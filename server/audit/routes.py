"""Audit search for administrators and auditors (who, what, when, from which IP)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from server.audit.models import AuditPage
from server.audit.service import search
from server.routing import ApiRoute, RouteTable
from server.runtime import runtime


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str | None = Field(default=None, max_length=64, description="登录名")
    action: str | None = Field(default=None, max_length=64, description="操作前缀，如 identity.")
    target: str | None = Field(default=None, max_length=128, description="对象，如 project:<id>")
    since: datetime | None = Field(default=None, description="起始时间（含）")
    until: datetime | None = Field(default=None, description="截止时间（不含）")
    before: int | None = Field(default=None, ge=1, description="翻页：序号小于此值")
    limit: int = Field(default=50, ge=1, le=500)


async def get_audit(request: Request, query: AuditQuery) -> AuditPage:
    async with runtime(request).pool.acquire() as conn:
        items = await search(
            conn, actor_login=query.actor, action_prefix=query.action, target=query.target,
            since=query.since, until=query.until, before_seq=query.before, limit=query.limit,
        )  # fmt: skip
    return AuditPage(items=items)


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/audit", get_audit, "audit.read", AuditPage, query=AuditQuery,
                 summary="审计日志查询", tags=("audit",)),
    ]
)  # fmt: skip
