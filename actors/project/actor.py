"""The project actor: registers a project, asks a worker to open its electronic archive and records it
when the worker reports back, and keeps the status board of the parallel approval (one task per
department, its working-day deadline turning yellow three working days before and red when overdue,
driven by durable timers). Every change is streamed to the project's subscribers.

Durable before visible: each event is committed with its row changes and timers in one transaction
(`Actor.transaction`), then applied to state, then published. Must not: ask other actors, or do slow
work in a handler.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from redis.exceptions import RedisError

from actors.events import Address, Event
from actors.messages import Message
from actors.project import cases
from actors.project.messages import (
    MESSAGES,
    CheckDeadline,
    CreateProject,
    GetProject,
    RecordArchiveOpened,
    RequestArchive,
    StartApproval,
    UpdateTask,
)
from actors.project.messages_cases import (
    ActOnCase,
    CheckCaseDeadline,
    ClaimCase,
    ExtendCase,
    SubmitApplication,
)
from actors.project.state import (
    APPROVAL_STARTED,
    ARCHIVE_OPENED,
    CREATED,
    DEADLINE_CHANGED,
    TASK_UPDATED,
    ProjectState,
    Task,
    apply,
)
from actors.runtime import Actor, Transaction
from server import clock, workdays
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, InvalidInput, NotFound
from server.projects import codes

logger = logging.getLogger(__name__)

ARCHIVE_RETRY_BASE_S = 1.0
ARCHIVE_RETRY_MAX_S = 60.0
LOOKAHEAD_DAYS = 60  # a deadline change is searched this far ahead (long holidays included)

INSERT_PROJECT = """
    INSERT INTO project (id, code, name, owner_org_id, created_by, baojian_no, project_type, tags)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"""
NEXT_BAOJIAN = "SELECT nextval('project_baojian_seq')"
# Who reviews the project decides who may read its drawings (server/files/access.py).
ADD_REVIEWER = "INSERT INTO project_reviewer (project_id, dept_org_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"


def project_address(project_id: Any) -> Address:
    return Address(kind="project", id=project_id)


def next_change(due_on: date, today: date) -> date | None:
    """The first day after `today` on which the deadline state of a task due on `due_on` differs from
    today's; None once it is overdue (it stays so)."""
    now = workdays.deadline_state(due_on, today)
    if now == "overdue":
        return None
    if now == "due_soon":
        return due_on + timedelta(days=1)
    day = today
    for _ in range(LOOKAHEAD_DAYS):
        day += timedelta(days=1)
        if workdays.deadline_state(due_on, day) != now:
            return day
    return day


class ProjectActor(Actor):
    kind = "project"
    messages = MESSAGES

    state: ProjectState

    def reset(self) -> None:
        self.state = ProjectState()

    def apply(self, event: Event) -> None:
        self.state = apply(self.state, event)

    def dump(self) -> dict[str, Any]:
        return self.state.model_dump(mode="json")

    def load(self, data: dict[str, Any]) -> None:
        self.state = ProjectState.model_validate(data)

    def view(self) -> dict[str, Any]:
        return self.state.public(clock.today())

    async def on_activate(self) -> None:
        if self.state.status == "registered":
            await self._request_archive()  # the enqueue may have been lost in a crash; the job id dedupes

    async def receive(self, message: Message) -> Any:
        match message:
            case CreateProject():
                return await self._create(message)
            case RecordArchiveOpened():
                return await self._record_archive(message)
            case RequestArchive(attempt=attempt):
                if self.state.status == "registered":
                    await self._request_archive(attempt)
                return None
            case GetProject():
                self._require()
                return self.state
            case StartApproval():
                return await self._start_approval(message)
            case UpdateTask():
                return await self._update_task(message)
            case CheckDeadline(dept_org_id=dept):
                await self._check_deadline(dept)
                return None
            case SubmitApplication():
                return await cases.submit_application(self, message)
            case ActOnCase():
                return await cases.act_on_case(self, message)
            case ClaimCase():
                return await cases.claim_case(self, message)
            case ExtendCase():
                return await cases.extend_case(self, message)
            case CheckCaseDeadline():
                await cases.check_case_deadline(self, message)
                return None
        raise TypeError(f"project actor cannot handle {type(message).__name__}")

    def _require(self) -> None:
        if not self.state.exists:
            raise NotFound("项目不存在")

    async def _audit(self, tx: Transaction, record: AuditRecord) -> None:
        await audit.append(tx.conn, self.deps.keys.key(audit.AUDIT_KEY), record)

    # -- registration and archive ---------------------------------------------------------------------

    async def _create(self, msg: CreateProject) -> ProjectState:
        if self.state.exists:
            raise Conflict("项目已存在")
        try:
            async with self.transaction() as tx:
                seq = await tx.conn.fetchval(NEXT_BAOJIAN)
                baojian_no = codes.number(self.deps.settings.baojian_no_format, seq, clock.today())
                await tx.conn.execute(
                    INSERT_PROJECT, self.address.id, msg.code, msg.name, msg.owner_org_id, msg.created_by,
                    baojian_no, msg.project_type, list(msg.tags),
                )  # fmt: skip
                await tx.append(CREATED, {
                    "id": str(self.address.id), "code": msg.code, "name": msg.name,
                    "owner_org_id": str(msg.owner_org_id), "created_by": str(msg.created_by),
                    "baojian_no": baojian_no, "project_type": msg.project_type, "tags": list(msg.tags),
                })  # fmt: skip
                record = AuditRecord(
                    action="project.create", actor_id=msg.created_by, actor_login=msg.actor_login,
                    org_id=msg.owner_org_id, ip=msg.ip, target=str(self.address), detail={"code": msg.code},
                )  # fmt: skip
                await self._audit(tx, record)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"项目代码 {msg.code} 已被登记") from exc
        logger.info("project.created", extra={"project_id": str(self.address.id)})
        await self._request_archive()
        return self.state

    async def _request_archive(self, attempt: int = 0) -> None:
        project_id = str(self.address.id)
        # arq's job keys are global to the Redis database: the queue name keeps two deployments
        # (or a test run and the demo) sharing one Redis from deduplicating each other's jobs.
        job_id = f"{self.deps.settings.arq_queue}:project-archive:{project_id}"
        try:
            await self.deps.arq.enqueue_job("open_project_archive", project_id, _job_id=job_id)
        except (RedisError, OSError):
            # The project is committed: ask again later, through a durable timer that outlives this node.
            delay_s = min(ARCHIVE_RETRY_MAX_S, ARCHIVE_RETRY_BASE_S * 2**attempt)
            logger.warning(
                "project.archive_enqueue_failed", extra={"project_id": project_id, "retry_in_s": delay_s}
            )
            async with self.transaction() as tx:
                at = await tx.conn.fetchval("SELECT now() + make_interval(secs => $1)", delay_s)
                await tx.schedule("archive-retry", at, RequestArchive(attempt=attempt + 1))

    async def _record_archive(self, msg: RecordArchiveOpened) -> ProjectState:
        self._require()
        if self.state.archive_no is not None:
            return self.state  # the job ran twice or its report was redelivered: already recorded
        async with self.transaction() as tx:
            await tx.append(ARCHIVE_OPENED, {"archive_no": msg.archive_no, "job_id": msg.job_id})
            record = AuditRecord(
                action="project.archive_open", target=str(self.address), detail={"archive_no": msg.archive_no}
            )
            await self._audit(tx, record)
        logger.info("project.archive_opened", extra={"project_id": str(self.address.id)})
        return self.state

    # -- the parallel approval board ------------------------------------------------------------------

    async def _start_approval(self, msg: StartApproval) -> ProjectState:
        self._require()
        depts = [str(t.dept_org_id) for t in msg.tasks]
        if len(set(depts)) != len(depts):
            raise InvalidInput("同一部门只能分派一项并联审批任务")
        if any(d in self.state.tasks for d in depts):
            raise Conflict("该部门的审批任务已分派")
        today = clock.today()
        tasks = [
            Task(
                dept_org_id=t.dept_org_id, dept_name=t.dept_name, item=t.item, limit_workdays=t.limit_workdays,
                accepted_on=msg.accepted_on, due_on=workdays.add_workdays(msg.accepted_on, t.limit_workdays),
            )
            for t in msg.tasks
        ]  # fmt: skip
        async with self.transaction() as tx:
            await tx.append(APPROVAL_STARTED, {"tasks": [t.model_dump(mode="json") for t in tasks]})
            await tx.conn.executemany(ADD_REVIEWER, [(self.address.id, t.dept_org_id) for t in tasks])
            for task in tasks:
                await self._schedule_deadline(tx, task, today, immediately=True)
            record = AuditRecord(
                action="project.approval_start", actor_id=msg.by, actor_login=msg.actor_login, ip=msg.ip,
                target=str(self.address), detail={"departments": depts},
            )  # fmt: skip
            await self._audit(tx, record)
        return self.state

    async def _update_task(self, msg: UpdateTask) -> ProjectState:
        self._require()
        task = self.state.task(msg.dept_org_id)
        if task is None:
            raise NotFound("该部门没有此项目的审批任务")
        if not task.open:
            raise Conflict(f"该审批任务已办结（{task.status}），不能再变更")
        if task.status == msg.status and task.note == msg.note:
            return self.state  # a retried request: nothing changes
        dept = str(msg.dept_org_id)
        async with self.transaction() as tx:
            await tx.append(TASK_UPDATED, {"dept_org_id": dept, "status": msg.status, "note": msg.note})
            if msg.status in ("approved", "rejected"):
                await tx.cancel(f"deadline:{dept}")
            record = AuditRecord(
                action="project.task_update", actor_id=msg.by, actor_login=msg.actor_login, ip=msg.ip,
                target=str(self.address), detail={"department": dept, "status": msg.status},
            )  # fmt: skip
            await self._audit(tx, record)
        return self.state

    async def _schedule_deadline(
        self, tx: Transaction, task: Task, today: date, *, immediately: bool
    ) -> None:
        """The timer of a task's next deadline change; `immediately` when it may have changed already."""
        key = f"deadline:{task.dept_org_id}"
        message = CheckDeadline(dept_org_id=task.dept_org_id)
        if immediately and workdays.deadline_state(task.due_on, today) != task.alert:
            await tx.schedule(key, clock.start_of(today), message)
            return
        day = next_change(task.due_on, today)
        if day is None:
            await tx.cancel(key)
        else:
            await tx.schedule(key, clock.start_of(day), message)

    async def _check_deadline(self, dept: UUID) -> None:
        """A deadline timer fired (maybe twice, maybe late): record the task's state as of today."""
        task = self.state.task(dept)
        if task is None or not task.open:
            return
        today = clock.today()
        state = workdays.deadline_state(task.due_on, today)
        async with self.transaction() as tx:
            if state != task.alert:
                await tx.append(DEADLINE_CHANGED, {"dept_org_id": str(dept), "alert": state})
                task = task.model_copy(update={"alert": state})
            await self._schedule_deadline(tx, task, today, immediately=False)
