"""Object-level access to 开工一件事: the one place that decides who may fill in and submit a project's
form, act on a case as applicant, or act on it as a department.

Applicant: users of the project's owner enterprise (with `kaigong.apply`); a project they may not see
answers NotFound. Department: users of the case's own department (with `kaigong.handle`); another
department's case answers 403 `not_your_case` (departments may see every project, so hiding it would tell
nothing). Must not: be bypassed by any route or page of 开工一件事.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.approval.workflow import NotYourCase
from server.errors import NotFound
from server.identity.models import CurrentUser
from server.projects.access import project_owner

APPLY = "kaigong.apply"
HANDLE = "kaigong.handle"
STATS = "kaigong.stats"
EXTEND = "kaigong.extend"  # 审批负责人 only: an extension needs the agency head's approval


async def applicant_of(conn: Any, user: CurrentUser, project_id: UUID) -> None:
    """Raise NotFound unless `user` belongs to the enterprise that owns `project_id`."""
    if await project_owner(conn, project_id) != user.org_id:
        raise NotFound("项目不存在或无权查看")


def department_of(user: CurrentUser, dept_org_id: UUID) -> None:
    """Raise unless `user` works in the department that holds the case."""
    if user.org_id != dept_org_id:
        raise NotYourCase()
