"""Bid session operations that need no actor: resolving the experts of a new session and listing the
sessions one may see. Writes go through the bid actor.

Must not: import Starlette, or put an expert's unmasked name anywhere (the journal is at rest too).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from actors.bid.messages import ExpertSpec
from server.bids.models import BidRow
from server.errors import InvalidInput, NotFound
from server.identity import users
from server.identity.models import CurrentUser
from server.identity.pii import Pii
from server.security.masking import mask_name

LIST_LIMIT = 200
EXPERT_ROLE = "bid_expert"  # who may sit on a session (a fact of the domain, not a permission check)

# Two statements, not one with "$2 OR …": a shared generic plan would scan for everyone.
_LIST = """
    SELECT s.id, s.name, o.name AS org_name, s.created_at,
           (SELECT count(*) FROM bid_session_expert e WHERE e.session_id = s.id) AS experts
    FROM bid_session s
    JOIN organization o ON o.id = s.org_id
    WHERE {where}
    ORDER BY s.created_at DESC, s.id
    LIMIT $1"""
_MINE = "s.id IN (SELECT session_id FROM bid_session_expert WHERE user_id = $2)"
LIST_AS_EXPERT = _LIST.format(where=_MINE)
LIST_AS_ORGANISER = _LIST.format(where=f"s.org_id = $3 OR {_MINE}")


async def expert_specs(conn: Any, pii: Pii, acl_key: bytes, ids: list[UUID]) -> list[ExpertSpec]:
    """The experts `ids` name, in order; InvalidInput naming those that are not active expert accounts."""
    found: list[ExpertSpec] = []
    unknown: list[str] = []
    for user_id in ids:
        try:
            user = await users.get_user(conn, pii, acl_key, user_id)
        except NotFound:
            unknown.append(str(user_id))
            continue
        if user.role != EXPERT_ROLE or user.status != "active":
            unknown.append(str(user_id))
            continue
        found.append(ExpertSpec(user_id=user.id, name=mask_name(user.name), login=user.login))
    if unknown:
        raise InvalidInput("评标专家不存在或不是评标专家账号", experts=unknown)
    return found


async def list_bids(conn: Any, user: CurrentUser, *, manage: bool) -> list[BidRow]:
    """The sessions of the user's unit (organisers) and those the user sits on as an expert."""
    if manage:
        rows = await conn.fetch(LIST_AS_ORGANISER, LIST_LIMIT, user.id, user.org_id)
    else:
        rows = await conn.fetch(LIST_AS_EXPERT, LIST_LIMIT, user.id)
    return [BidRow.model_validate(dict(r)) for r in rows]
