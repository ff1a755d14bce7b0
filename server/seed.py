"""Demo data: departments, enterprises, a design unit, one account per role, and projects in
flight. Idempotent: running it again changes nothing. Projects are registered through the project
actor, exactly as a user's request would, so their journals and archive jobs are real.
Must not: run against a production database (the demo login it enables is for development).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from actors.project.actor import project_address
from actors.project.messages import CreateProject
from actors.runtime import ActorSystem

_NS = uuid.UUID("8f7c1f2e-4a57-4f59-9a55-2f2d3c7b9e10")

ORGANIZATIONS: tuple[tuple[str, str, str], ...] = (
    # (code, kind, name)
    ("DEPT-ZJW", "department", "上海市住房和城乡建设管理委员会"),
    ("DEPT-GHZY", "department", "上海市规划和自然资源局"),
    ("DEPT-SW", "department", "上海市水务局"),
    ("DEPT-LHSR", "department", "上海市绿化和市容管理局"),
    ("DEPT-XF", "department", "上海市消防救援总队"),
    ("DEPT-JT", "department", "上海市交通委员会"),
    ("DEPT-MF", "department", "上海市民防办公室"),
    ("91310115MA1K4AB12X", "enterprise", "上海浦江置业有限公司"),
    ("91310104MA1FR3CD7Y", "enterprise", "上海申城城市建设发展有限公司"),
    ("91310000132201234K", "design_unit", "华东建筑设计研究院有限公司"),
)


@dataclass(frozen=True)
class DemoUser:
    login: str
    display_name: str
    org_code: str
    role: str


USERS: tuple[DemoUser, ...] = (
    DemoUser("pujiang", "张敏", "91310115MA1K4AB12X", "applicant"),
    DemoUser("pujiang_agent", "刘洋", "91310115MA1K4AB12X", "agent"),
    DemoUser("shencheng", "王磊", "91310104MA1FR3CD7Y", "applicant"),
    DemoUser("zhujian", "李强", "DEPT-ZJW", "reviewer"),
    DemoUser("xiaofang", "陈静", "DEPT-XF", "reviewer"),
    DemoUser("huadong", "赵伟", "91310000132201234K", "designer"),
    DemoUser("expert", "周涛", "DEPT-ZJW", "bid_expert"),
    DemoUser("bidadmin", "吴芳", "DEPT-ZJW", "bid_admin"),
    DemoUser("admin", "系统管理员", "DEPT-ZJW", "admin"),
    DemoUser("audit", "审计员", "DEPT-ZJW", "auditor"),
)

PROJECTS: tuple[tuple[str, str, str], ...] = (
    # (code, name, owner login)
    ("2026-310115-47-01-000123", "浦东新区张江科学城人才公寓项目", "pujiang"),
    ("2026-310115-47-01-000456", "浦江置业前滩商业综合体项目", "pujiang"),
    ("2026-310104-48-01-000789", "徐汇区漕河泾道路及排水改造工程", "shencheng"),
)

INSERT_ORG = """
    INSERT INTO organization (id, kind, name, code) VALUES ($1, $2, $3, $4)
    ON CONFLICT (code) DO NOTHING"""
INSERT_USER = """
    INSERT INTO app_user (id, login, display_name, org_id, role) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (login) DO NOTHING"""
PROJECT_EXISTS = "SELECT 1 FROM project WHERE code = $1"


def stable_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{kind}:{key}")


async def seed_accounts(conn: Any) -> None:
    async with conn.transaction():
        for code, kind, name in ORGANIZATIONS:
            await conn.execute(INSERT_ORG, stable_id("org", code), kind, name, code)
        for user in USERS:
            await conn.execute(
                INSERT_USER,
                stable_id("user", user.login),
                user.login,
                user.display_name,
                stable_id("org", user.org_code),
                user.role,
            )


async def seed_projects(pool: Any, actors: ActorSystem, timeout_s: float) -> int:
    """Register the demo projects that are not registered yet; returns how many were added."""
    owners = {u.login: u for u in USERS}
    added = 0
    for code, name, login in PROJECTS:
        async with pool.acquire() as conn:
            if await conn.fetchval(PROJECT_EXISTS, code):
                continue
        owner = owners[login]
        msg = CreateProject(
            code=code,
            name=name,
            owner_org_id=stable_id("org", owner.org_code),
            created_by=stable_id("user", login),
        )
        await actors.ref(project_address(stable_id("project", code))).ask(msg, timeout_s)
        added += 1
    return added
