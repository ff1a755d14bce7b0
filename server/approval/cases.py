"""Item cases (事项办件) seen from outside the project actor: a department's queue sorted by urgency, a
project's cases, an organisation's notices, and which project a case belongs to. Reads the rows the
project actor writes with its events; every change goes through the actor.
Must not: change a case (the project actor does), or decide access (`server.approval.access`).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.errors import NotFound

CASE_PROJECT = "SELECT project_id, dept_org_id FROM approval_case WHERE id = $1"
# Urgency: overdue first, then yellow, then by due date; cases not yet accepted (no due date) by age.
QUEUE = """
    SELECT c.id, c.project_id, p.name AS project_name, p.code AS project_code, c.item_code, c.item_name, c.state,
           c.accepted_on, c.due_on, c.deadline_state, c.claimed_by, c.submitted_at, c.updated_at,
           o.name AS applicant_name
    FROM approval_case c JOIN project p ON p.id = c.project_id JOIN organization o ON o.id = p.owner_org_id
    WHERE c.dept_org_id = $1 AND ($2::text[] IS NULL OR c.state = ANY($2))
    ORDER BY CASE c.deadline_state WHEN 'overdue' THEN 0 WHEN 'due_soon' THEN 1 WHEN 'on_time' THEN 2
                                   WHEN 'paused' THEN 3 ELSE 4 END,
             c.due_on NULLS LAST, c.submitted_at
    LIMIT $3"""
NOTICES = """
    SELECT n.id, n.project_id, n.case_id, n.kind, n.message, n.at, n.read_at, c.item_name
    FROM approval_notice n JOIN approval_case c ON c.id = n.case_id
    WHERE n.org_id = $1 ORDER BY n.at DESC, n.id DESC LIMIT 100"""
OPEN_STATES = ["submitted", "accepted", "correction", "reviewing"]


async def case_project(conn: Any, case_id: UUID) -> tuple[UUID, UUID]:
    """(project id, department) of a case; NotFound when there is none."""
    row = await conn.fetchrow(CASE_PROJECT, case_id)
    if row is None:
        raise NotFound("办件不存在")
    return row["project_id"], row["dept_org_id"]


async def queue(conn: Any, dept_org_id: UUID, states: list[str] | None, limit: int = 200) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(QUEUE, dept_org_id, states, limit)]


async def notices(conn: Any, org_id: UUID) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(NOTICES, org_id)]
