"""开工一件事 cases in the project actor (in-process, real PostgreSQL and Redis): one application split into
cases of three departments; each department acts only on its own case; a correction round pauses the
clock; an item waits for its predecessor; rows, notices and the bundle state follow every step."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from arq.connections import create_pool

from actors.project.actor import ProjectActor, project_address
from actors.project.messages import CreateProject, GetProject
from actors.project.messages_cases import ActOnCase, CaseSpec, ClaimCase, SubmitApplication
from actors.runtime import ActorSystem, RuntimeConfig
from server import clock
from server.app import ActorDeps, arq_settings
from server.approval import workflow
from server.approval.applications import seal_values
from server.approval.calendars import current_calendar
from server.config import Settings
from server.errors import Conflict
from server.keystore import KeyRing
from server.seed import stable_id

ZJW, SW, JT = (stable_id("org", c) for c in ("DEPT-ZJW", "DEPT-SW", "DEPT-JT"))
OWNER_ORG = stable_id("org", "91310115MA1K4AB12X")
OWNER = stable_id("user", "pujiang")
REVIEWER = stable_id("user", "zhujian")


@pytest.fixture
async def system(pool, redis, settings: Settings) -> AsyncIterator[ActorSystem]:
    arq = await create_pool(
        arq_settings(settings.redis_url or "", settings), default_queue_name=settings.arq_queue
    )
    deps = ActorDeps(pool=pool, arq=arq, settings=settings, keys=KeyRing(settings.keys_path))
    actors = ActorSystem(deps, redis, settings.redis_prefix, RuntimeConfig(timer_poll_s=0.1))
    actors.register(ProjectActor)
    await actors.start()
    yield actors
    await actors.stop()
    await arq.aclose()


async def new_application(
    system: ActorSystem, pool: Any, settings: Settings
) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    project_id = uuid.uuid4()
    created = CreateProject(code=f"K-{project_id.hex[:12]}", name="开工一件事测试项目", owner_org_id=OWNER_ORG,
                            created_by=OWNER)  # fmt: skip
    await system.ref(project_address(project_id)).ask(created, 10)
    version, certificate = uuid.uuid4(), uuid.uuid4()
    async with pool.acquire() as conn:
        catalogue = uuid.uuid4()
        await conn.execute("INSERT INTO approval_catalogue (id, name, created_by) VALUES ($1, $2, $3)",
                           catalogue, f"测试目录{catalogue}", OWNER)  # fmt: skip
        await conn.execute(
            "INSERT INTO approval_catalogue_version (id, catalogue_id, version, status, content, content_sm3,"
            " created_by, published_by, published_at) VALUES ($1, $2, 1, 'published', '{}', $3, $4, $4, now())",
            version, catalogue, "0" * 64, OWNER,
        )  # fmt: skip
        now = datetime.now(UTC)
        await conn.execute(
            "INSERT INTO org_certificate (id, org_id, serial, subject, public_key_pem, valid_from, valid_to)"
            " VALUES ($1, $2, $3, 'CN=test', '-', $4, $5)",
            certificate, OWNER_ORG, certificate.hex, now - timedelta(days=1), now + timedelta(days=1),
        )  # fmt: skip
    ids = {code: uuid.uuid4() for code in ("XFSJ", "SGXK", "LSPS")}
    specs = [
        CaseSpec(id=ids["XFSJ"], item_code="XFSJ", item_name="特殊建设工程消防设计审查", dept_org_id=ZJW,
                 dept_name="住建委", statutory_wd=15, committed_wd=12),
        CaseSpec(id=ids["SGXK"], item_code="SGXK", item_name="建筑工程施工许可", dept_org_id=ZJW, dept_name="住建委",
                 predecessors=("XFSJ",), statutory_wd=7, committed_wd=5),
        CaseSpec(id=ids["LSPS"], item_code="LSPS", item_name="临时排水许可", dept_org_id=SW, dept_name="水务局",
                 statutory_wd=20, committed_wd=15),
    ]  # fmt: skip
    application_id = uuid.uuid4()
    sealed = seal_values(
        KeyRing(settings.keys_path), str(application_id), {"values": {}}
    )  # as a real submission seals it
    await system.ref(project_address(project_id)).ask(SubmitApplication(
        application_id=application_id, bundle="kaigong", catalogue_version_id=version, cases=specs,
        signed_sealed=sealed, signed_sm3="1" * 64, signature=b"sig", certificate_id=certificate,
        idempotency_key=f"key-{project_id.hex}", by=OWNER, org_id=OWNER_ORG), 10)  # fmt: skip
    return project_id, ids


def act(case_id: uuid.UUID, action: str, dept: uuid.UUID | None = ZJW, reason: str = "") -> ActOnCase:
    side = workflow.TRANSITIONS[action].side
    return ActOnCase(case_id=case_id, action=action, side=side, dept_org_id=dept if side == "department" else None,
                     reason=reason, by=REVIEWER if side == "department" else OWNER)  # fmt: skip


async def test_an_application_becomes_cases_that_each_department_moves_through_a_correction_to_completion(
    system, pool, settings
):
    project_id, ids = await new_application(system, pool, settings)
    project = system.ref(project_address(project_id))
    state = await project.ask(GetProject(), 10)
    assert {c.state for c in state.cases.values()} == {"submitted"}
    assert state.bundle()["bundle_state"] == "in_progress"

    with pytest.raises(workflow.NotYourCase):  # 水务 acting on 住建's case
        await project.ask(act(ids["XFSJ"], "accept", dept=SW), 10)
    await project.ask(act(ids["XFSJ"], "accept"), 10)
    state = await project.ask(act(ids["XFSJ"], "start_review"), 10)
    case = state.cases[str(ids["XFSJ"])]
    cal = await current_calendar(pool)
    today = clock.today()
    assert case.accepted_on == today
    assert case.due_on == cal.add_workdays(today, 12)

    state = await project.ask(act(ids["XFSJ"], "request_correction", reason="缺少消防设计文件"), 10)
    case = state.cases[str(ids["XFSJ"])]
    assert (case.state, case.deadline_state, case.due_on) == ("correction", "paused", None)
    assert state.bundle()["bundle_state"] == "correction"
    with pytest.raises(Conflict):  # the department cannot approve while the applicant corrects
        await project.ask(act(ids["XFSJ"], "approve"), 10)
    state = await project.ask(act(ids["XFSJ"], "resubmit"), 10)
    case = state.cases[str(ids["XFSJ"])]
    assert case.state == "reviewing"
    assert case.pauses[0]["start"] == case.pauses[0]["end"] == today.isoformat()
    assert case.due_on == cal.add_workdays(today, 12)  # today was paused: it did not count anyway

    await project.ask(act(ids["SGXK"], "accept"), 10)
    await project.ask(act(ids["SGXK"], "start_review"), 10)
    with pytest.raises(workflow.PredecessorsOpen):
        await project.ask(act(ids["SGXK"], "approve"), 10)
    await project.ask(act(ids["XFSJ"], "approve"), 10)
    state = await project.ask(act(ids["SGXK"], "approve"), 10)
    assert state.cases[str(ids["SGXK"])].used_wd == 0  # decided the day it was accepted
    assert state.bundle()["bundle_state"] == "in_progress"  # 水务 still holds its case

    await project.ask(ClaimCase(case_id=ids["LSPS"], dept_org_id=SW, by=REVIEWER), 10)
    await project.ask(act(ids["LSPS"], "accept", dept=SW), 10)
    state = await project.ask(act(ids["LSPS"], "refuse", dept=SW, reason="排水方案不符合要求"), 10)
    assert state.bundle()["bundle_state"] == "refused"

    async with pool.acquire() as conn:
        rows = {r["item_code"]: r for r in await conn.fetch(
            "SELECT item_code, state, decided_on, deadline_state, claimed_by FROM approval_case WHERE project_id = $1",
            project_id)}  # fmt: skip
        notices = await conn.fetch("SELECT org_id, kind FROM approval_notice WHERE project_id = $1 ORDER BY id",
                                   project_id)  # fmt: skip
        events = await conn.fetchval(
            "SELECT count(*) FROM actor_event WHERE actor_kind = 'project' AND actor_id = $1 AND type = 'case.changed'",
            project_id,
        )  # fmt: skip
    assert {k: (r["state"], r["deadline_state"]) for k, r in rows.items()} == {
        "XFSJ": ("approved", "done"), "SGXK": ("approved", "done"), "LSPS": ("refused", "done")}  # fmt: skip
    assert rows["LSPS"]["claimed_by"] == REVIEWER
    assert [n["kind"] for n in notices if n["org_id"] == OWNER_ORG].count("correction") == 1
    assert [n["kind"] for n in notices if n["org_id"] == ZJW] == ["resubmitted"]
    assert events == 11  # every step (5 + 3 + 3, the claim included) is one journal event


async def test_a_redelivered_submission_is_recorded_once_and_a_decided_case_does_not_move(
    system, pool, settings
):
    project_id, ids = await new_application(system, pool, settings)
    project = system.ref(project_address(project_id))
    withdrawn = (await project.ask(act(ids["LSPS"], "withdraw"), 10)).cases[str(ids["LSPS"])].public()
    assert (withdrawn["state_label"], withdrawn["deadline_label"]) == ("已撤回", "已撤回")
    with pytest.raises(workflow.WrongState):
        await project.ask(act(ids["LSPS"], "accept", dept=SW), 10)
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM approval_case WHERE project_id = $1", project_id)
    assert count == 3
