"""Demo data: departments, enterprises, a design unit, one account per role, and projects in
flight. Idempotent: running it again changes nothing. Projects are registered through the project
actor, exactly as a user's request would, so their journals and archive jobs are real.
Must not: run against a production database (its accounts share one demo password).
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from actors.bid.actor import bid_address
from actors.bid.messages import CreateBidSession
from actors.project.actor import project_address
from actors.project.messages import CreateProject, StartApproval, TaskSpec
from actors.runtime import ActorSystem
from server import clock
from server.bids.service import expert_specs
from server.config import Settings
from server.identity import users
from server.identity.models import CurrentUser
from server.identity.passwords import hash_password_async
from server.identity.pii import Pii
from server.workdays import CalendarNotCovered

logger = logging.getLogger(__name__)

_NS = uuid.UUID("8f7c1f2e-4a57-4f59-9a55-2f2d3c7b9e10")

ORGANIZATIONS: tuple[tuple[str, str, str, str | None], ...] = (
    # (code, kind, name, 统一社会信用代码); the code is our own stable key
    ("DEPT-ZJW", "department", "上海市住房和城乡建设管理委员会", None),
    ("DEPT-GHZY", "department", "上海市规划和自然资源局", None),
    ("DEPT-SW", "department", "上海市水务局", None),
    ("DEPT-LHSR", "department", "上海市绿化和市容管理局", None),
    ("DEPT-XF", "department", "上海市消防救援总队", None),
    ("DEPT-JT", "department", "上海市交通委员会", None),
    ("DEPT-MF", "department", "上海市民防办公室", None),
    ("91310115MA1K4AB12X", "enterprise", "上海浦江置业有限公司", "91310115MA1K4AB146"),
    ("91310104MA1FR3CD7Y", "enterprise", "上海申城城市建设发展有限公司", "91310104MA1FR3CD0K"),
    ("91310000132201234K", "design_unit", "华东建筑设计研究院有限公司", "913100001322012341"),
)


@dataclass(frozen=True)
class DemoUser:
    login: str
    display_name: str
    org_code: str
    role: str
    phone: str


USERS: tuple[DemoUser, ...] = (
    DemoUser("pujiang", "张敏", "91310115MA1K4AB12X", "applicant", "13900000001"),
    DemoUser("pujiang_agent", "刘洋", "91310115MA1K4AB12X", "agent", "13900000002"),
    DemoUser("shencheng", "王磊", "91310104MA1FR3CD7Y", "applicant", "13900000003"),
    DemoUser("zhujian", "李强", "DEPT-ZJW", "reviewer", "13900000004"),
    DemoUser("xiaofang", "陈静", "DEPT-XF", "reviewer", "13900000005"),
    DemoUser("zhujian_lead", "孙丽", "DEPT-ZJW", "approver", "13900000011"),
    DemoUser("zhujian_issue", "马超", "DEPT-ZJW", "issuer", "13900000012"),
    DemoUser("shuiwu", "周洁", "DEPT-SW", "reviewer", "13900000013"),
    DemoUser("jiaotong", "郑磊", "DEPT-JT", "reviewer", "13900000014"),
    DemoUser("minfang", "冯雪", "DEPT-MF", "reviewer", "13900000015"),
    DemoUser("lvhua", "韩梅", "DEPT-LHSR", "reviewer", "13900000016"),
    DemoUser("huadong", "赵伟", "91310000132201234K", "designer", "13900000006"),
    DemoUser("expert", "周涛", "DEPT-ZJW", "bid_expert", "13900000007"),
    DemoUser("bidadmin", "吴芳", "DEPT-ZJW", "bid_admin", "13900000008"),
    DemoUser("admin", "系统管理员", "DEPT-ZJW", "admin", "13900000009"),
    DemoUser("audit", "审计员", "DEPT-ZJW", "auditor", "13900000010"),
)

PROJECTS: tuple[tuple[str, str, str], ...] = (
    # (code, name, owner login)
    ("2026-310115-47-01-000123", "浦东新区张江科学城人才公寓项目", "pujiang"),
    ("2026-310115-47-01-000456", "浦江置业前滩商业综合体项目", "pujiang"),
    ("2026-310104-48-01-000789", "徐汇区漕河泾道路及排水改造工程", "shencheng"),
)

INSERT_ORG = """
    INSERT INTO organization (id, kind, name, code, credit_code) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (code) DO UPDATE SET credit_code = EXCLUDED.credit_code"""
PROJECT_EXISTS = "SELECT 1 FROM project WHERE code = $1"
DEMO_PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name


SEED_USER = """
    SELECT u.id, u.login, u.org_id, o.name AS org_name, u.role
    FROM app_user u JOIN organization o ON o.id = u.org_id WHERE u.id = $1"""


async def seed_actor(conn: Any, user_id: uuid.UUID) -> CurrentUser:
    """A demo account as the seed acts for it: who (id, login, enterprise, role) is all the records need,
    so its sealed personal name is not opened (the login stands in as the display name)."""
    row = await conn.fetchrow(SEED_USER, user_id)
    return CurrentUser(id=row["id"], login=row["login"], display_name=row["login"], org_id=row["org_id"],
                       org_name=row["org_name"], role=row["role"])  # fmt: skip


def stable_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{kind}:{key}")


def demo_password(settings: Settings) -> str:
    """The demo accounts' password: the configured one, or one made for this deployment and kept in
    `var_dir` (mode 0600): a demo never ships a default password (等保 访问控制)."""
    if settings.demo_password is not None:
        return settings.demo_password.get_secret_value()
    path = settings.var_path / DEMO_PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    password = f"Tb{secrets.randbelow(10**4):04d}-{secrets.token_hex(3)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password)
    return password


async def seed_accounts(conn: Any, pii: Pii, acl_key: bytes, password: str) -> int:
    """Create the demo organisations and accounts that are missing; returns how many accounts were made."""
    made = 0
    async with conn.transaction():
        for code, kind, name, credit_code in ORGANIZATIONS:
            await conn.execute(INSERT_ORG, stable_id("org", code), kind, name, code, credit_code)
    for user in USERS:
        if await users.find_by_login(conn, pii, acl_key, user.login):
            continue
        new = users.NewUser(
            id=stable_id("user", user.login),
            login=user.login, name=user.display_name, org_id=stable_id("org", user.org_code), role=user.role,
            phone=user.phone, password_hash=await hash_password_async(password),
        )  # fmt: skip
        await users.create_user(conn, pii, acl_key, new)
        made += 1
    return made


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
        if code == PROJECTS[0][0]:
            await seed_approval(actors, stable_id("project", code), stable_id("user", login), timeout_s)
    return added


# The first demo project's parallel approval, accepted a week ago: one task already overdue, one due
# soon, the others on time (as of the day `make run` first seeds it).
DEMO_TASKS: tuple[tuple[str, str, int], ...] = (
    ("DEPT-ZJW", "建筑工程施工许可", 15),
    ("DEPT-GHZY", "建设工程规划许可", 20),
    ("DEPT-XF", "消防设计审查", 3),
    ("DEPT-SW", "排水许可", 7),
)


async def seed_approval(actors: ActorSystem, project_id: uuid.UUID, by: uuid.UUID, timeout_s: float) -> None:
    names = dict((code, name) for code, _, name, _ in ORGANIZATIONS)
    tasks = [
        TaskSpec(dept_org_id=stable_id("org", code), dept_name=names[code], item=item, limit_workdays=limit)
        for code, item, limit in DEMO_TASKS
    ]
    msg = StartApproval(tasks=tasks, accepted_on=clock.today() - timedelta(days=7), by=by)
    try:
        await actors.ref(project_address(project_id)).ask(msg, timeout_s)
    except CalendarNotCovered as exc:  # the calendar package is older than today: no demo board
        logger.warning("seed.approval_skipped", extra={"reason": exc.detail})


async def seed_bids(pool: Any, actors: ActorSystem, pii: Any, acl_key: bytes, timeout_s: float) -> int:
    """The demo bid session (评标会议) of 住建委 with the demo expert, unless it exists."""
    organiser = next(u for u in USERS if u.role == "bid_admin")
    org_id = stable_id("org", organiser.org_code)
    async with pool.acquire() as conn:
        if await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM bid_session WHERE id = $1)", stable_id("bid", "demo")
        ):
            return 0
        experts = await expert_specs(
            conn, pii, acl_key, [stable_id("user", u.login) for u in USERS if u.role == "bid_expert"]
        )
    names = dict((code, name) for code, _, name, _ in ORGANIZATIONS)
    msg = CreateBidSession(
        name="浦江置业前滩商业综合体 BIM 辅助设计方案评标会", org_id=org_id, org_name=names[organiser.org_code],
        created_by=stable_id("user", organiser.login), experts=experts,
    )  # fmt: skip
    await actors.ref(bid_address(stable_id("bid", "demo"))).ask(msg, timeout_s)
    return 1
