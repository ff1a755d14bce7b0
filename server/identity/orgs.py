"""Organisations as administrators pick them when creating an account: id, name and kind.

Must not: import Starlette, or create and change organisations (they come from the seed and, later,
the 发改/规资 data sync).
"""

from __future__ import annotations

from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel

from server.identity import sql

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


async def list_orgs(conn: Any) -> list[OrgOut]:
    return [OrgOut.model_validate(dict(row)) for row in await conn.fetch(sql.ALL_ORGS, LIST_LIMIT)]
