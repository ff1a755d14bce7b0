"""Routes of 开工一件事 cases: a department's queue (sorted by urgency), acting on a case as the department
or as the applicant, claiming a case, a project's progress, an organisation's notices. Thin: parse,
authorise (declared permission, then `server.approval.access`), ask the project actor, shape.
Must not: move a case itself (the project actor does) or hold SQL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import Request

from actors.project.actor import project_address
from actors.project.messages import GetProject
from actors.project.messages_cases import ActOnCase, ClaimCase, ExtendCase
from actors.project.state import ProjectState
from server.approval import cases, stats
from server.approval.access import APPLY, EXTEND, HANDLE, STATS, applicant_of, department_of
from server.approval.case_form import case_form
from server.approval.models import (
    ActionIn,
    CaseFormOut,
    CaseOut,
    ExtensionIn,
    NoticeList,
    NoticeOut,
    ProgressOut,
    QueueItem,
    QueueOut,
    StatsOut,
    StatsQuery,
    StatsRow,
)
from server.approval.workflow import STATE_LABELS, TRANSITIONS
from server.errors import InvalidInput
from server.identity.models import CurrentUser
from server.permissions import AUTHENTICATED
from server.projects.access import READ_ANY, access_project
from server.routing import ApiRoute, RouteTable, client_ip, holds, require_user
from server.runtime import Runtime, runtime

TAGS = ("kaigong",)
DEADLINE_LABELS = {
    "on_time": "正常", "due_soon": "即将到期", "overdue": "已超期", "paused": "计时暂停（补正中）", "done": "已办结",
}  # fmt: skip


def progress_of(state: ProjectState) -> ProgressOut:
    data = state.public_cases()
    return ProgressOut(
        project_id=state.id, project_code=state.code, baojian_no=state.baojian_no, lianshen_no=state.lianshen_no,
        bundle_state=data["bundle_state"], bundle_label=data["bundle_label"],
        cases=[CaseOut.model_validate(c) for c in data["cases"]],
    )  # fmt: skip


async def get_progress(request: Request) -> ProgressOut:
    user = require_user(request)
    rt = runtime(request)
    project_id: UUID = request.path_params["project_id"]
    async with rt.pool.acquire() as conn:
        await access_project(conn, user, project_id, read_any=await holds(request, READ_ANY))
    state = await rt.actors.ref(project_address(project_id)).ask(GetProject(), rt.settings.ask_timeout_s)
    return progress_of(state)


def _action(body: ActionIn, side: str) -> str:
    found = TRANSITIONS.get(body.action)
    if found is None or found.side != side:
        raise InvalidInput("该操作不存在或不由您办理", fields=[{"field": "action", "message": "不支持的操作",
                                                               "type": "invalid"}])  # fmt: skip
    return body.action


@dataclass(frozen=True)
class _Held:
    """A case the caller's department holds: the runtime, the caller, the case and its project."""

    rt: Runtime
    user: CurrentUser
    case_id: UUID
    project_id: UUID

    async def ask(self, message: Any) -> ProgressOut:
        state = await self.rt.actors.ref(project_address(self.project_id)).ask(
            message, self.rt.settings.ask_timeout_s
        )
        return progress_of(state)


async def _held(request: Request) -> _Held:
    """The path's case, once the caller is found to work in the department that holds it (else 403/404)."""
    user = require_user(request)
    rt = runtime(request)
    case_id: UUID = request.path_params["case_id"]
    async with rt.pool.acquire() as conn:
        project_id, dept = await cases.case_project(conn, case_id)
    department_of(user, dept)
    return _Held(rt, user, case_id, project_id)


async def department_action(request: Request, body: ActionIn) -> ProgressOut:
    held = await _held(request)
    return await held.ask(ActOnCase(
        case_id=held.case_id, action=_action(body, "department"), side="department", dept_org_id=held.user.org_id,
        reason=body.reason, by=held.user.id, actor_login=held.user.login, ip=client_ip(request),
    ))  # fmt: skip


async def applicant_action(request: Request, body: ActionIn) -> ProgressOut:
    user = require_user(request)
    rt = runtime(request)
    case_id: UUID = request.path_params["case_id"]
    async with rt.pool.acquire() as conn:
        project_id, _dept = await cases.case_project(conn, case_id)
        await applicant_of(conn, user, project_id)
    message = ActOnCase(case_id=case_id, action=_action(body, "applicant"), side="applicant",
                        reason=body.reason, by=user.id, actor_login=user.login, ip=client_ip(request))  # fmt: skip
    state = await rt.actors.ref(project_address(project_id)).ask(message, rt.settings.ask_timeout_s)
    return progress_of(state)


async def claim_case(request: Request) -> ProgressOut:
    held = await _held(request)
    return await held.ask(ClaimCase(case_id=held.case_id, dept_org_id=held.user.org_id, by=held.user.id,
                                    actor_login=held.user.login))  # fmt: skip


async def extend(request: Request, body: ExtensionIn) -> ProgressOut:
    """An approver of the case's department extends its limit (行政许可法 §42)."""
    held = await _held(request)
    return await held.ask(ExtendCase(
        case_id=held.case_id, dept_org_id=held.user.org_id, days=body.days, reason=body.reason, by=held.user.id,
        actor_login=held.user.login, ip=client_ip(request),
    ))  # fmt: skip


async def get_case_form(request: Request) -> CaseFormOut:
    """The department's part of the signed form (its item's fields and materials), and the signature check."""
    held = await _held(request)
    async with held.rt.pool.acquire() as conn:
        return CaseFormOut(**await case_form(conn, held.rt.keys, held.case_id))


async def get_queue(request: Request) -> QueueOut:
    user = require_user(request)
    wanted = request.query_params.get("state", "")
    states: list[str] | None = (
        [wanted] if wanted in STATE_LABELS else None if wanted == "all" else cases.OPEN_STATES
    )
    async with runtime(request).pool.acquire() as conn:
        rows = await cases.queue(conn, user.org_id, states)
    return QueueOut(items=[QueueItem(**_labelled(r)) for r in rows])


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "updated_at"}, "state_label": STATE_LABELS[row["state"]],
            "deadline_label": DEADLINE_LABELS.get(row["deadline_state"], row["deadline_state"])}  # fmt: skip


async def get_notices(request: Request) -> NoticeList:
    user = require_user(request)
    async with runtime(request).pool.acquire() as conn:
        rows = await cases.notices(conn, user.org_id)
    return NoticeList(items=[NoticeOut(**r) for r in rows])


async def get_stats(request: Request, query: StatsQuery) -> StatsOut:
    started = time.perf_counter()
    async with runtime(request).pool.acquire() as conn:
        rows = await stats.statistics(conn, query.since, query.until)
    elapsed = (time.perf_counter() - started) * 1000
    return StatsOut(
        rows=[StatsRow(**r) for r in rows], cases=sum(r["total"] for r in rows), elapsed_ms=round(elapsed, 1)
    )


CASE = "/api/v1/kaigong/cases/{case_id:uuid}"
ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/projects/{project_id:uuid}/kaigong", get_progress, "project.read", ProgressOut,
                 summary="开工一件事办理进度（各事项办件及总状态）", tags=TAGS),
        ApiRoute("GET", "/api/v1/kaigong/queue", get_queue, HANDLE, QueueOut,
                 summary="本部门待办办件（按紧急程度排序）", tags=TAGS),
        ApiRoute("POST", CASE + "/department-actions", department_action, HANDLE, ProgressOut, body=ActionIn,
                 summary="审批部门办理：受理、要求补正、开始审查、办结、不予许可", tags=TAGS),
        ApiRoute("POST", CASE + "/applicant-actions", applicant_action, APPLY, ProgressOut, body=ActionIn,
                 summary="申请单位办理：补正后重新提交、撤回", tags=TAGS),
        ApiRoute("POST", CASE + "/extensions", extend, EXTEND, ProgressOut, body=ExtensionIn,
                 summary="延长办理时限（审批负责人，须说明理由）", tags=TAGS),
        ApiRoute("GET", CASE + "/form", get_case_form, HANDLE, CaseFormOut,
                 summary="本部门办件的申报内容（本事项所需字段与材料）及企业签名核验", tags=TAGS),
        ApiRoute("POST", CASE + "/claim", claim_case, HANDLE, ProgressOut, summary="认领办件", tags=TAGS),
        ApiRoute("GET", "/api/v1/kaigong/stats", get_stats, STATS, StatsOut, query=StatsQuery,
                 summary="开工一件事统计：各事项、各部门的办件量、平均与 P90 办理工作日、超期数", tags=TAGS),
        ApiRoute("GET", "/api/v1/kaigong/notices", get_notices, AUTHENTICATED, NoticeList,
                 summary="本单位的办件提醒（临期、超期、补正、办结）", tags=TAGS),
    ]
)  # fmt: skip
