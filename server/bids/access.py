"""Object-level access to bid sessions: the one place that decides whether a user may see one.

A session may be seen by its experts and by the organisers of its organising unit (holders of
`bid.manage` in the same organisation). A session that exists but may not be seen answers NotFound,
like one that does not exist, so nobody learns of another unit's sessions or experts.
Must not: be bypassed by any route, page or socket; compare role names (the caller asks the
permission table whether the user holds `MANAGE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from server.errors import NotFound
from server.identity.models import CurrentUser

MANAGE = "bid.manage"

BID_ACCESS = """
    SELECT s.org_id,
           EXISTS (SELECT 1 FROM bid_session_expert e WHERE e.session_id = s.id AND e.user_id = $2) AS expert
    FROM bid_session s WHERE s.id = $1"""


@dataclass(frozen=True)
class BidAccess:
    expert: bool  # the user is one of the session's experts
    organiser: bool  # the user organises sessions of the session's unit


async def access_bid(conn: Any, user: CurrentUser, bid_id: UUID, *, manage: bool) -> BidAccess:
    """`manage`: whether the user's role holds `MANAGE` (the caller asks the permission table)."""
    row = await conn.fetchrow(BID_ACCESS, bid_id, user.id)
    if row is None:
        raise NotFound("评标会议不存在或无权查看")
    access = BidAccess(expert=row["expert"], organiser=manage and row["org_id"] == user.org_id)
    if not (access.expert or access.organiser):
        raise NotFound("评标会议不存在或无权查看")
    return access


async def access_as_organiser(conn: Any, user: CurrentUser, bid_id: UUID, *, manage: bool) -> None:
    """Only the organisers of the session's unit; an expert who may see it still gets NotFound."""
    if not (await access_bid(conn, user, bid_id, manage=manage)).organiser:
        raise NotFound("评标会议不存在或无权查看")
