"""Organisations: the list administrators pick from, and registering a new one. Enterprises, design
units and bid agencies are identified by their 统一社会信用代码 (GB 32100-2015, both check characters
verified); departments by a code of our own.

Must not: import Starlette, or change an organisation's identity once registered.
"""

from __future__ import annotations

import uuid
from typing import Any, Final, Literal
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput
from server.identity import sql
from server.identity.models import CurrentUser

OrgKind = Literal["enterprise", "department", "design_unit", "bid_agency"]

ORG_KIND_LABELS: Final[dict[str, str]] = {
    "department": "审批部门",
    "enterprise": "建设单位",
    "design_unit": "设计单位",
    "bid_agency": "招标代理机构",
}
LIST_LIMIT = 1000


class OrgOut(BaseModel):
    id: UUID
    name: str
    kind: OrgKind


NEEDS_CREDIT_CODE: Final = frozenset({"enterprise", "design_unit", "bid_agency"})
INSERT_ORG = "INSERT INTO organization (id, kind, name, code, credit_code) VALUES ($1, $2, $3, $4, $5)"


class CreditCodeRequired(InvalidInput):
    code, message = "credit_code_required", "企业、设计单位和招标代理机构须填写统一社会信用代码"


async def register_org(
    conn: Any, audit_key: bytes, admin: CurrentUser, ip: str | None, *, kind: OrgKind, name: str,
    credit_code: str | None, code: str | None,
) -> UUID:  # fmt: skip
    """Precondition: `credit_code` already validated. The stable code is the credit code when there is one."""
    if kind in NEEDS_CREDIT_CODE and credit_code is None:
        raise CreditCodeRequired(fields=[{"field": "credit_code", "message": "必填", "type": "missing"}])
    key = credit_code or code
    if key is None:
        raise InvalidInput(
            "审批部门须填写单位代码", fields=[{"field": "code", "message": "必填", "type": "missing"}]
        )
    org_id = uuid.uuid4()
    try:
        async with conn.transaction():
            await conn.execute(INSERT_ORG, org_id, kind, name, key, credit_code)
            await audit.append(conn, audit_key, AuditRecord(
                action="identity.org_create", actor_id=admin.id, actor_login=admin.login, org_id=admin.org_id, ip=ip,
                target=f"organization:{org_id}", detail={"kind": kind, "name": name, "credit_code": credit_code},
            ))  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("该统一社会信用代码或单位代码已登记") from exc
    return org_id


async def list_orgs(conn: Any) -> list[OrgOut]:
    return [OrgOut.model_validate(dict(row)) for row in await conn.fetch(sql.ALL_ORGS, LIST_LIMIT)]
