"""The project actor: registers a project, asks a worker to open its electronic archive, records
the archive when the worker reports back, and streams each change to its subscribers.

Durable before visible: each event is committed with its row changes in one transaction, then
applied to state, then published. Must not: ask other actors, or do slow work in a handler.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from pydantic import BaseModel
from redis.exceptions import RedisError

from actors import journal
from actors.events import Address
from actors.project.messages import CreateProject, GetProject, RecordArchiveOpened, RequestArchive
from actors.project.state import ARCHIVE_OPENED, CREATED, ProjectState, apply
from actors.runtime import Actor
from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, NotFound

logger = logging.getLogger(__name__)

ARCHIVE_RETRY_BASE_S = 1.0
ARCHIVE_RETRY_MAX_S = 60.0

INSERT_PROJECT = """
    INSERT INTO project (id, code, name, owner_org_id, created_by)
    VALUES ($1, $2, $3, $4, $5)"""


def project_address(project_id: Any) -> Address:
    return Address(kind="project", id=project_id)


class ProjectActor(Actor):
    kind = "project"

    state: ProjectState

    async def activate(self) -> None:
        state = ProjectState()
        async with self.deps.pool.acquire() as conn:
            for event in await journal.events_after(conn, self.address, 0, limit=1_000_000):
                state = apply(state, event)
        self.state = state
        self.seq = state.seq
        if state.status == "registered":
            await self._request_archive()  # the enqueue may have been lost in a crash; the job id dedupes

    def snapshot(self) -> dict[str, Any]:
        return self.state.public()

    async def receive(self, message: BaseModel) -> Any:
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
                if not self.state.exists:
                    raise NotFound("项目不存在")
                return self.state
        raise TypeError(f"project actor cannot handle {type(message).__name__}")

    async def _create(self, msg: CreateProject) -> ProjectState:
        if self.state.exists:
            raise Conflict("项目已存在")
        data = {
            "id": str(self.address.id),
            "code": msg.code,
            "name": msg.name,
            "owner_org_id": str(msg.owner_org_id),
            "created_by": str(msg.created_by),
        }
        try:
            async with self.deps.pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    INSERT_PROJECT, self.address.id, msg.code, msg.name, msg.owner_org_id, msg.created_by
                )
                event = await journal.append(conn, self.address, self.seq + 1, CREATED, data)
                record = AuditRecord(
                    action="project.create", actor_id=msg.created_by, actor_login=msg.actor_login,
                    org_id=msg.owner_org_id, ip=msg.ip, target=str(self.address), detail={"code": msg.code},
                )  # fmt: skip
                await self._audit(conn, record)
        except asyncpg.UniqueViolationError as exc:
            raise Conflict(f"项目代码 {msg.code} 已被登记") from exc
        self.state = apply(self.state, event)
        self.publish(event)
        logger.info("project.created", extra={"project_id": str(self.address.id)})
        await self._request_archive()
        return self.state

    async def _audit(self, conn: Any, record: AuditRecord) -> None:
        await audit.append(conn, self.deps.keys.key(audit.AUDIT_KEY), record)

    async def _request_archive(self, attempt: int = 0) -> None:
        project_id = str(self.address.id)
        # arq's job keys are global to the Redis database: the queue name keeps two deployments
        # (or a test run and the demo) sharing one Redis from deduplicating each other's jobs.
        job_id = f"{self.deps.settings.arq_queue}:project-archive:{project_id}"
        try:
            await self.deps.arq.enqueue_job("open_project_archive", project_id, _job_id=job_id)
        except (RedisError, OSError):
            # The project is committed: ask again later (and again at the next activation, should
            # this node go down before then).
            delay_s = min(ARCHIVE_RETRY_MAX_S, ARCHIVE_RETRY_BASE_S * 2**attempt)
            logger.warning(
                "project.archive_enqueue_failed", extra={"project_id": project_id, "retry_in_s": delay_s}
            )
            self.tell_self_later(delay_s, RequestArchive(attempt=attempt + 1))

    async def _record_archive(self, msg: RecordArchiveOpened) -> ProjectState:
        if not self.state.exists:
            raise NotFound("项目不存在")
        if self.state.archive_no is not None:
            return self.state  # the job ran twice or its report was redelivered: already recorded
        async with self.deps.pool.acquire() as conn, conn.transaction():
            event = await journal.append(
                conn,
                self.address,
                self.seq + 1,
                ARCHIVE_OPENED,
                {"archive_no": msg.archive_no, "job_id": msg.job_id},
            )
            record = AuditRecord(
                action="project.archive_open", target=str(self.address), detail={"archive_no": msg.archive_no}
            )
            await self._audit(conn, record)
        self.state = apply(self.state, event)
        self.publish(event)
        logger.info("project.archive_opened", extra={"project_id": str(self.address.id)})
        return self.state
