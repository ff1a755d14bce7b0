"""The project actor's part in 开工一件事: record a signed application as item cases, move a case through
its workflow (`server.approval.workflow`) with its working-day clock (`server.approval.clock`), claim a
case for a reviewer, and fire the durable timers that turn a case yellow and red. Each change is one
transaction: the case rows, the journal event, notices, timers and the audit entry; subscribers (the
applicant's progress page, every department's workbench) see it the moment it commits.
Must not: read the catalogue or validate the form (the service did, before asking), or decide which
department a user belongs to (the route passes it).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from actors.project.messages_cases import (
    ActOnCase,
    CheckCaseDeadline,
    ClaimCase,
    ExtendCase,
    SubmitApplication,
)
from actors.project.state import CASE_CHANGED, KAIGONG_SUBMITTED, Case, ProjectState
from actors.runtime import Transaction
from server import clock
from server.approval import workflow
from server.approval.calendar import DayUnit, WorkCalendar
from server.approval.calendars import current_calendar
from server.approval.clock import Clock, Extension, Pause
from server.audit.models import AuditRecord
from server.errors import Conflict, NotFound
from server.projects import archive, codes

INSERT_APPLICATION = """
    INSERT INTO approval_application (id, project_id, bundle, catalogue_version_id, items, signed_sealed, signed_sm3,
                                      signature, certificate_id, idempotency_key, submitted_by, org_id, lianshen_no)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"""
NEXT_LIANSHEN = "SELECT nextval('approval_lianshen_seq')"
INSERT_CASE = """
    INSERT INTO approval_case (id, application_id, project_id, item_code, item_name, dept_org_id, predecessors, state,
                               statutory_wd, committed_wd)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $9)"""
UPDATE_CASE = """
    UPDATE approval_case SET state = $2, accepted_on = $3, due_on = $4, pauses = $5, extensions = $6,
                             deadline_state = $7, claimed_by = $8, decided_on = $9, used_wd = $10, updated_at = now()
    WHERE id = $1"""
ADD_REVIEWER = "INSERT INTO project_reviewer (project_id, dept_org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
INSERT_NOTICE = """
    INSERT INTO approval_notice (org_id, project_id, case_id, kind, message) VALUES ($1, $2, $3, $4, $5)"""
if TYPE_CHECKING:
    from actors.project.actor import ProjectActor

NOTICE_ACTIONS = {
    "request_correction": "correction",
    "approve": "decided",
    "refuse": "decided",
    "accept": "accepted",
}


def case_clock(case: Case) -> Clock | None:
    """The case's clock (the committed limit drives the colours), or None before it is accepted."""
    if case.accepted_on is None:
        return None
    pauses = tuple(
        Pause(kind=p["kind"], start=date.fromisoformat(p["start"]),
              end=date.fromisoformat(p["end"]) if p.get("end") else None)
        for p in case.pauses
    )  # fmt: skip
    extensions = tuple(
        Extension(days=e["days"], reason=e["reason"], approved_by=UUID(e["approved_by"]))
        for e in case.extensions
    )
    return Clock(
        accepted_on=case.accepted_on, limit_workdays=case.committed_wd, pauses=pauses, extensions=extensions
    )


Warning = tuple[int, DayUnit]  # yellow this many days (of this unit) before the due date
DEFAULT_WARNING: Warning = (3, "workday")


def warning_of(actor: ProjectActor) -> Warning:
    settings = actor.deps.settings
    return settings.deadline_warn_days, settings.deadline_warn_unit


def with_clock(case: Case, cal: WorkCalendar, today: date, warn: Warning = DEFAULT_WARNING) -> Case:
    """`case` with its due date and deadline colour as of `today` (derived from its clock)."""
    if case.state in workflow.FINAL:
        return case.model_copy(update={"deadline_state": "done"})
    running = case_clock(case)
    if running is None:
        return case.model_copy(update={"due_on": None, "deadline_state": "on_time"})
    return case.model_copy(
        update={"due_on": running.due_on(cal), "deadline_state": running.state(cal, today, *warn)}
    )


def moved(
    case: Case, action: str, target: str, today: date, cal: WorkCalendar, reason: str,
    warn: Warning = DEFAULT_WARNING,
) -> Case:  # fmt: skip
    """The case after `action` on `today`: its state, its clock's pauses, its decision date."""
    update: dict[str, Any] = {"state": target, "last_action": action, "last_reason": reason}
    pauses = list(case.pauses)
    if action == "accept":
        update["accepted_on"] = today
    elif action == "request_correction":
        pauses.append({"kind": "correction", "start": today.isoformat(), "end": None, "reason": reason})
    elif action == "resubmit" and pauses and pauses[-1].get("end") is None:
        pauses[-1] = {**pauses[-1], "end": today.isoformat()}
    update["pauses"] = tuple(pauses)
    after = case.model_copy(update=update)
    if target in workflow.FINAL:
        running = case_clock(after)
        used = running.used_workdays(cal, today) if running is not None else None
        after = after.model_copy(update={"decided_on": today, "used_wd": used})
    return with_clock(after, cal, today, warn)


async def submit_application(actor: ProjectActor, msg: SubmitApplication) -> ProjectState:
    actor._require()
    if any(str(c.id) in actor.state.cases for c in msg.cases):
        return actor.state  # a redelivered request: recorded already
    cases = [
        Case(id=c.id, application_id=msg.application_id, item_code=c.item_code, item_name=c.item_name,
             dept_org_id=c.dept_org_id, dept_name=c.dept_name, predecessors=c.predecessors,
             statutory_wd=c.statutory_wd, committed_wd=c.committed_wd, last_action="submit")
        for c in msg.cases
    ]  # fmt: skip
    project_id = actor.address.id
    try:
        async with actor.transaction() as tx:
            seq = await tx.conn.fetchval(NEXT_LIANSHEN)
            lianshen_no = codes.number(actor.deps.settings.lianshen_no_format, seq, clock.today())
            await tx.conn.execute(
                INSERT_APPLICATION, msg.application_id, project_id, msg.bundle, msg.catalogue_version_id,
                [c.item_code for c in cases], msg.signed_sealed, msg.signed_sm3, msg.signature,
                msg.certificate_id, msg.idempotency_key, msg.by, msg.org_id, lianshen_no,
            )  # fmt: skip
            await tx.conn.executemany(INSERT_CASE, [
                (c.id, msg.application_id, project_id, c.item_code, c.item_name, c.dept_org_id,
                 list(c.predecessors), c.statutory_wd, c.committed_wd) for c in cases
            ])  # fmt: skip
            await tx.conn.executemany(ADD_REVIEWER, [(project_id, c.dept_org_id) for c in cases])
            await archive.record(tx.conn, project_id, "施工许可", "application",
                                 f"开工一件事申报（联审编号 {lianshen_no}，{len(cases)} 项事项，企业电子签名）",
                                 str(msg.application_id), msg.signed_sm3, msg.by)  # fmt: skip
            await tx.append(KAIGONG_SUBMITTED, {
                "application_id": str(msg.application_id), "signed_sm3": msg.signed_sm3, "lianshen_no": lianshen_no,
                "cases": [c.model_dump(mode="json") for c in cases],
            })  # fmt: skip
            await actor._audit(tx, AuditRecord(
                action="kaigong.submit", actor_id=msg.by, actor_login=msg.actor_login, org_id=msg.org_id,
                ip=msg.ip, target=str(actor.address),
                detail={"application_id": str(msg.application_id), "items": [c.item_code for c in cases],
                        "signed_sm3": msg.signed_sm3},
            ))  # fmt: skip
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("该申报已提交（重复提交）") from exc
    return actor.state


def _case(actor: ProjectActor, case_id: Any) -> Case:
    actor._require()
    case = actor.state.cases.get(str(case_id))
    if case is None:
        raise NotFound("办件不存在")
    return case


async def act_on_case(actor: ProjectActor, msg: ActOnCase) -> ProjectState:
    case = _case(actor, msg.case_id)
    if msg.side == "department" and case.dept_org_id != msg.dept_org_id:
        raise workflow.NotYourCase()
    predecessors = [
        c.state for c in actor.state.cases.values()
        if c.application_id == case.application_id and c.item_code in case.predecessors
    ]  # fmt: skip
    step = workflow.transition(case.state, msg.action, msg.side, reason=msg.reason,
                               predecessor_states=predecessors)  # fmt: skip
    cal = await current_calendar(actor.deps.pool)
    today = clock.today()
    after = moved(case, step.action, step.target, today, cal, msg.reason.strip(), warning_of(actor))
    async with actor.transaction() as tx:
        await _write_case(actor, tx, after)
        await tx.append(CASE_CHANGED, {
            "case": after.model_dump(mode="json"), "action": step.action, "from": case.state,
            "reason": msg.reason.strip(), "by": str(msg.by), "login": msg.actor_login,
        })  # fmt: skip
        kind = NOTICE_ACTIONS.get(step.action)
        if kind is not None:  # the applicant hears of the department's steps
            why = f"（{msg.reason.strip()}）" if msg.reason.strip() else ""
            text = f"{after.item_name}：{workflow.ACTION_LABELS[step.action]}{why}"
            await _notice(actor, tx, after, kind, text, applicant=True)
        if step.target in ("approved", "refused"):
            title = f"{after.item_name}：{workflow.ACTION_LABELS[step.action]}（{after.dept_name}）"
            await archive.record(
                tx.conn, actor.address.id, "施工许可", "decision", title, str(case.id), None, msg.by
            )
        if step.action == "resubmit":
            await _notice(
                actor, tx, after, "resubmitted", f"{after.item_name}：申请单位已补正", applicant=False
            )
        await _schedule_case(actor, tx, after, today, cal)
        await actor._audit(tx, AuditRecord(
            action=f"kaigong.{step.action}", actor_id=msg.by, actor_login=msg.actor_login, ip=msg.ip,
            target=str(actor.address),
            detail={"case_id": str(case.id), "item": case.item_code, "from": case.state, "to": step.target,
                    "reason": msg.reason.strip()[:200]},
        ))  # fmt: skip
    return actor.state


async def claim_case(actor: ProjectActor, msg: ClaimCase) -> ProjectState:
    case = _case(actor, msg.case_id)
    if case.dept_org_id != msg.dept_org_id:
        raise workflow.NotYourCase()
    if case.state in workflow.FINAL:
        raise workflow.WrongState("办件已办结，不能认领")
    if case.claimed_by == msg.by:
        return actor.state
    after = case.model_copy(update={"claimed_by": msg.by, "last_action": "claim", "last_reason": ""})
    async with actor.transaction() as tx:
        await _write_case(actor, tx, after)
        await tx.append(CASE_CHANGED, {
            "case": after.model_dump(mode="json"), "action": "claim", "from": case.state, "by": str(msg.by),
            "login": msg.actor_login,
        })  # fmt: skip
    return actor.state


async def extend_case(actor: ProjectActor, msg: ExtendCase) -> ProjectState:
    """An approver extends an accepted case's limit (行政许可法 §42: with the agency head's approval and a
    reason the applicant is told): the due date moves by `days` working days."""
    case = _case(actor, msg.case_id)
    if case.dept_org_id != msg.dept_org_id:
        raise workflow.NotYourCase()
    if case.state not in ("accepted", "reviewing", "correction"):
        raise workflow.WrongState(f"办件{workflow.STATE_LABELS.get(case.state, case.state)}，不能延期")
    extension = {"days": msg.days, "reason": msg.reason.strip(), "approved_by": str(msg.by),
                 "on": clock.today().isoformat()}  # fmt: skip
    cal = await current_calendar(actor.deps.pool)
    today = clock.today()
    after = with_clock(case.model_copy(update={
        "extensions": (*case.extensions, extension), "last_action": "extend", "last_reason": msg.reason.strip(),
    }), cal, today, warning_of(actor))  # fmt: skip
    async with actor.transaction() as tx:
        await _write_case(actor, tx, after)
        await tx.append(CASE_CHANGED, {
            "case": after.model_dump(mode="json"), "action": "extend", "from": case.state,
            "reason": msg.reason.strip(), "by": str(msg.by), "login": msg.actor_login,
        })  # fmt: skip
        text = f"{after.item_name}：办理时限延长 {msg.days} 个工作日（{msg.reason.strip()}）"
        await _notice(actor, tx, after, "extended", text, applicant=True)
        await _schedule_case(actor, tx, after, today, cal)
        await actor._audit(tx, AuditRecord(
            action="kaigong.extend", actor_id=msg.by, actor_login=msg.actor_login, ip=msg.ip, target=str(actor.address),
            detail={"case_id": str(case.id), "days": msg.days, "reason": msg.reason.strip()[:200]},
        ))  # fmt: skip
    return actor.state


async def check_case_deadline(actor: ProjectActor, msg: CheckCaseDeadline) -> None:
    """A deadline timer fired (maybe twice, maybe late): record the case's colour as of today."""
    case = actor.state.cases.get(str(msg.case_id))
    if case is None or case.state in workflow.FINAL:
        return
    cal = await current_calendar(actor.deps.pool)
    today = clock.today()
    after = with_clock(case, cal, today, warning_of(actor))
    async with actor.transaction() as tx:
        if after.deadline_state != case.deadline_state:
            await _write_case(actor, tx, after)
            await tx.append(CASE_CHANGED, {"case": after.model_dump(mode="json"), "action": None,
                                           "from": case.state, "deadline": after.deadline_state})  # fmt: skip
            if after.deadline_state in ("due_soon", "overdue"):
                text = "即将到期" if after.deadline_state == "due_soon" else "已超期"
                message = f"{after.item_name}{text}（办结时限 {after.due_on}）"
                await _notice(actor, tx, after, after.deadline_state, message, applicant=True)
                await _notice(actor, tx, after, after.deadline_state, message, applicant=False)
        await _schedule_case(actor, tx, after, today, cal)


async def _write_case(actor: ProjectActor, tx: Transaction, case: Case) -> None:
    await tx.conn.execute(
        UPDATE_CASE, case.id, case.state, case.accepted_on, case.due_on, list(case.pauses),
        list(case.extensions), case.deadline_state, case.claimed_by, case.decided_on, case.used_wd,
    )  # fmt: skip


async def _notice(
    actor: ProjectActor, tx: Transaction, case: Case, kind: str, message: str, *, applicant: bool
) -> None:
    org = actor.state.owner_org_id if applicant else case.dept_org_id
    await tx.conn.execute(INSERT_NOTICE, org, actor.address.id, case.id, kind, message)


async def _schedule_case(
    actor: ProjectActor, tx: Transaction, case: Case, today: date, cal: WorkCalendar
) -> None:
    key = f"case-deadline:{case.id}"
    running = case_clock(case)
    day = (
        None
        if case.state in workflow.FINAL or running is None
        else running.next_change(cal, today, *warning_of(actor))
    )
    if day is None:
        await tx.cancel(key)
    else:
        await tx.schedule(key, clock.start_of(day), CheckCaseDeadline(case_id=case.id))
