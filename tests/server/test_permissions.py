"""Every route declares a permission from the one table, and every route is walked with every role:
a role without the permission is refused, one with it is let through, and nobody is anonymous by
accident."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from server.app import route_table
from server.permissions import AUTHENTICATED, PERMISSIONS, PUBLIC, ROLES, role_has
from server.routing import ApiRoute, RawRoute
from server.seed import USERS, stable_id
from tests.conftest import unique_code
from tests.support.clients import DEMO_PASSWORD

TABLE = route_table()
LOGIN_OF_ROLE = {u.role: u.login for u in USERS}
PUJIANG = next(u for u in USERS if u.login == "pujiang")
# Routes that end or replace the caller's own session: walking them would log the walker out.
SESSION_CHANGING = {
    "/api/v1/login", "/api/v1/login/sms", "/api/v1/logout", "/api/v1/logout/everywhere", "/api/v1/account/password",
}  # fmt: skip

# A valid body for every API route that takes one; a new route without an entry fails this suite.
BODIES = {
    ("POST", "/api/v1/projects"): lambda: {"code": unique_code(), "name": "权限测试项目"},
    ("POST", "/api/v1/projects/{project_id:uuid}/approval"): lambda: {
        "tasks": [
            {"dept_org_id": str(stable_id("org", "DEPT-ZJW")), "item": "施工许可", "limit_workdays": 5}
        ],
        "accepted_on": "2026-11-02",
    },
    ("PUT", "/api/v1/projects/{project_id:uuid}/tasks/{dept_org_id:uuid}"): lambda: {
        "status": "in_review",
        "note": "已受理",
    },
    ("POST", "/api/v1/projects/{project_id:uuid}/documents"): lambda: {"title": "权限走查文档"},
    ("POST", "/api/v1/documents/{doc_id:uuid}/versions"): lambda: {"name": "权限走查版本"},
    ("POST", "/api/v1/login"): lambda: {"login": "pujiang", "password": DEMO_PASSWORD},
    ("POST", "/api/v1/login/sms/code"): lambda: {"phone": "13955550000"},
    ("POST", "/api/v1/login/sms"): lambda: {"phone": "13955550000", "code": "000000"},
    ("POST", "/api/v1/account/password"): lambda: {"current_password": DEMO_PASSWORD, "new_password": "x"},
    ("POST", "/api/v1/account/phone/code"): lambda: {
        "new_phone": f"1375555{uuid.uuid4().int % 10**4:04d}",
        "password": DEMO_PASSWORD,
    },
    ("POST", "/api/v1/account/phone"): lambda: {"new_phone": "13755550000", "code": "000000"},
    ("POST", "/api/v1/admin/users"): lambda: {
        "login": f"walk{uuid.uuid4().hex[:8]}",
        "name": "走查用户",
        "org_id": str(stable_id("org", PUJIANG.org_code)),
        "role": "applicant",
        "password": "Walk-9-password",
    },
    ("PATCH", "/api/v1/admin/users/{user_id:uuid}"): lambda: {"status": "active"},
    ("POST", "/api/v1/account/tokens"): lambda: {"name": "走查", "scopes": ["no.such.permission"]},
    ("POST", "/api/v1/bids"): lambda: {
        "name": "权限走查评标会议",
        "expert_ids": [str(stable_id("user", "expert"))],
    },
    ("PUT", "/api/v1/bids/{bid_id:uuid}/annotations/{annotation_id:uuid}"): lambda: {"open": True},
    ("POST", "/api/v1/bids/{bid_id:uuid}/reminders"): lambda: {"at": "2030-01-01T09:00:00+08:00"},
    ("POST", "/api/v1/admin/orgs"): lambda: {
        "kind": "enterprise",
        "name": "走查单位",
        "credit_code": "91310115MA1K4AB146",
    },
}
BODIES |= {
    ("POST", "/api/v1/projects/{project_id:uuid}/buildings"): lambda: {"name": f"走查楼{uuid.uuid4().hex[:6]}"},
    ("POST", "/api/v1/projects/{project_id:uuid}/drawings"): lambda: {"entries": [
        {"building_id": str(uuid.UUID(int=0)), "discipline": "建筑", "number": "建施-01", "title": "走查"}
    ]},
}  # fmt: skip
BODIES |= {  # the rule library (server/bim/routes.py)
    ("POST", "/api/v1/bim/rule-sets"): lambda: {"name": f"走查规则集{uuid.uuid4().hex[:8]}"},
    ("PUT", "/api/v1/bim/rule-set-versions/{version_id:uuid}"): lambda: {
        "content": {"allowed_schemas": ["IFC4"], "max_model_bytes": 1024, "rules": {}},
        "summary": "走查",
        "expected_revision": 1,
    },
    ("POST", "/api/v1/bim/rule-set-versions/{version_id:uuid}/publish"): lambda: {"expected_revision": 1},
    ("PUT", "/api/v1/bids/{bid_id:uuid}/rule-set"): lambda: {"version_id": str(uuid.UUID(int=1))},
}
BODIES |= {  # deliverables: a document nobody may see (404 past the permission check)
    ("POST", "/api/v1/projects/{project_id:uuid}/deliverables"): lambda: {
        "kind": "structure_notes", "doc_id": str(uuid.UUID(int=0)), "version_id": str(uuid.UUID(int=1))},
    ("POST", "/api/v1/deliverables/{deliverable_id:str}/revoke"): lambda: {"reason": "走查撤销"},
}  # fmt: skip
BODIES |= {("PUT", "/api/v1/projects/{project_id:uuid}/data"): lambda: {"sections": {}, "revision": 999}}
BODIES |= {  # 开工一件事: a case nobody holds (404 past the permission check)
    ("POST", "/api/v1/kaigong/cases/{case_id:uuid}/department-actions"): lambda: {"action": "accept"},
    ("POST", "/api/v1/kaigong/cases/{case_id:uuid}/applicant-actions"): lambda: {"action": "withdraw"},
    ("POST", "/api/v1/kaigong/cases/{case_id:uuid}/extensions"): lambda: {"days": 5, "reason": "走查延期"},
    ("PUT", "/api/v1/admin/calendar/{day:str}"): lambda: {"is_workday": True, "note": "走查"},
}
BODIES |= {  # the item catalogue (server/approval/catalogue_routes.py): a version nobody has (404 past the check)
    ("PUT", "/api/v1/admin/approval/catalogue/versions/{version_id:uuid}"): lambda: {
        "content": {}, "expected_revision": 1,
    },
    ("POST", "/api/v1/admin/approval/catalogue/versions/{version_id:uuid}/publish"): lambda: {"expected_revision": 1},
    ("POST", "/api/v1/approval/catalogue/form"): lambda: {"facts": {"project_type": "房建"}},
    ("POST", "/api/v1/projects/{project_id:uuid}/kaigong/form/check"): lambda: {"values": {}},
    ("PUT", "/api/v1/projects/{project_id:uuid}/kaigong/draft"): lambda: {"values": {}, "revision": 999},
    ("POST", "/api/v1/projects/{project_id:uuid}/kaigong/applications"): lambda: {
        "signed": "e30=", "signature": "AAAAAAAAAAA=", "certificate_id": str(uuid.UUID(int=0))},
}  # fmt: skip
BODIES |= {  # 申报材料 (server/approval/material_routes.py): a material nobody has (404 past the check)
    ("POST", "/api/v1/projects/{project_id:uuid}/kaigong/materials/{material_code:str}/reuse"): lambda: {
        "material_id": str(uuid.UUID(int=0))},
}  # fmt: skip
BODIES |= {  # the public 开工一件事 column (server/approval/column_routes.py); a message nobody left (404)
    ("POST", "/api/v1/kaigong/messages"): lambda: {"kind": "consult", "name": "走查", "phone": "13955550000",
                                                   "content": "权限走查留言"},
    ("POST", "/api/v1/admin/kaigong/messages/{message_id:uuid}/reply"): lambda: {"reply": "走查答复"},
}  # fmt: skip
QUERIES = {
    ("GET", "/api/v1/dev/sms"): {"phone": "13900000001"},
    ("GET", "/api/v1/kaigong/progress"): {"code": "2026-310115-47-01-000000"},
}
# Path parameters: a project of pujiang's, pujiang's own account, a grant that PUT then DELETE leave as found,
# a bid session and a document nobody may see (404 past the permission check).
PATH = {
    "user_id:uuid": str(stable_id("user", "pujiang")), "role": "bid_expert", "permission": "project.read",
    "token_id:uuid": str(uuid.UUID(int=0)), "dept_org_id:uuid": str(stable_id("org", "DEPT-ZJW")),
    "bid_id:uuid": str(uuid.UUID(int=0)), "annotation_id:uuid": str(uuid.UUID(int=1)),
    "doc_id:uuid": str(uuid.UUID(int=0)), "version_id:uuid": str(uuid.UUID(int=1)), "form_id": "rich_text",
    "drawing_id:uuid": str(uuid.UUID(int=0)), "version:int": "1", "upload_id:uuid": str(uuid.UUID(int=0)),
    "building_id:uuid": str(uuid.UUID(int=0)), "rule_set_id:uuid": str(uuid.UUID(int=0)),
    "check_id:uuid": str(uuid.UUID(int=0)), "kind": "xlsx",
    "deliverable_id:str": "TB20260101AAAAAAAA", "ext:str": "pdf", "n:int": "1", "case_id:uuid": str(uuid.UUID(int=0)),
    "year:int": "2026", "day:str": "1999-01-01",
    "code:str": "SGXK", "material_code:str": "SG01", "message_id:uuid": str(uuid.UUID(int=0)),
    "material_id:uuid": str(uuid.UUID(int=0)), "sm3:str": "0" * 64,
}  # fmt: skip


def test_every_role_has_a_demo_account_and_every_route_names_a_known_permission():
    assert set(LOGIN_OF_ROLE) == set(ROLES)
    for route in [*TABLE.api, *TABLE.pages, *TABLE.sockets, *TABLE.raw]:
        assert route.permission in PERMISSIONS, route.path


def test_every_api_route_that_takes_a_body_or_query_has_a_sample_here():
    assert {(r.method, r.path) for r in TABLE.api if r.body is not None} <= set(BODIES)
    required = {
        (r.method, r.path) for r in TABLE.api if r.query and r.query.model_json_schema().get("required")
    }
    assert required <= set(QUERIES)


def _concrete(path: str, project_id: str) -> str:
    values = {**PATH, "project_id:uuid": project_id}
    return re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], path)


async def _call(client: httpx.AsyncClient, route: ApiRoute | RawRoute, project_id: str) -> httpx.Response:
    body = BODIES.get((route.method, route.path))
    return await client.request(
        route.method, _concrete(route.path, project_id), json=body() if body else None,
        params=QUERIES.get((route.method, route.path)),
    )  # fmt: skip


@pytest.fixture
async def project_id(as_user) -> str:
    owner = await as_user("pujiang")
    created = await owner.post("/api/v1/projects", json={"code": unique_code(), "name": "权限走查项目"})
    return str(created.json()["id"])


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonymous")
async def test_each_api_route_admits_exactly_the_roles_holding_its_permission(role, server, project_id):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        if role is not None:
            logged_in = await client.post(
                "/api/v1/login", json={"login": LOGIN_OF_ROLE[role], "password": DEMO_PASSWORD}
            )
            client.headers["x-csrf-token"] = logged_in.json()["csrf_token"]
        for route in [*TABLE.api, *TABLE.raw]:
            if route.path in SESSION_CHANGING:
                continue  # covered by the identity tests
            response = await _call(client, route, project_id)
            if route.permission == PUBLIC:
                assert response.status_code not in (401, 403), (route.path, response.text)
            elif role is None:
                assert response.status_code == 401, (route.method, route.path, response.status_code)
            elif role_has(role, route.permission):
                assert response.status_code not in (401, 403), (role, route.method, route.path, response.text)
            else:
                assert response.status_code == 403, (role, route.method, route.path, response.status_code)
                if route.method != "HEAD":  # a HEAD answer has no body
                    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("role", [None, *ROLES], ids=lambda r: r or "anonymous")
async def test_each_page_admits_the_roles_holding_its_permission_and_sends_others_to_login_or_away(
    role, server, project_id
):
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        if role is not None:
            await client.post("/api/v1/login", json={"login": LOGIN_OF_ROLE[role], "password": DEMO_PASSWORD})
        for page in TABLE.pages:
            response = await client.get(_concrete(page.path, project_id))
            if page.permission == PUBLIC:
                assert response.status_code < 400, page.path
            elif role is None:
                assert response.status_code == 303, page.path
                assert response.headers["location"].startswith("/login?next=")
            elif role_has(role, page.permission) or page.permission == AUTHENTICATED:
                assert response.status_code not in (401, 403), (role, page.path)
            else:
                assert response.status_code == 403, (role, page.path, response.status_code)
                assert response.headers["content-type"].startswith("text/html")  # a page for a person
                assert "没有执行该操作的权限" in response.text


async def test_one_enterprise_never_sees_another_enterprises_project_but_reviewers_do(as_user, project_id):
    other = await as_user("shencheng")
    hidden = await other.get(f"/api/v1/projects/{project_id}")
    assert hidden.status_code == 404
    assert project_id not in {p["id"] for p in (await other.get("/api/v1/projects")).json()["items"]}
    reviewer = await as_user("zhujian")
    assert (await reviewer.get(f"/api/v1/projects/{project_id}")).status_code == 200
    assert project_id in {p["id"] for p in (await reviewer.get("/api/v1/projects")).json()["items"]}
    colleague = await as_user("pujiang_agent")
    assert (await colleague.get(f"/api/v1/projects/{project_id}")).status_code == 200


async def test_the_session_cookie_is_http_only_and_same_site(server):
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post("/api/v1/login", json={"login": "pujiang", "password": DEMO_PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
