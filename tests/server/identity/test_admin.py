"""User administration through the HTTP API: validated accounts, unique logins, role changes and
disabling that take effect at once, no self-lockout, administrators only, and a list that shows
personal data masked."""

from __future__ import annotations

import httpx
import pytest

from server.seed import stable_id
from tests.server.identity.conftest import PUJIANG_ORG, error_of, new_login, new_password


def _new_user(**changes: object) -> dict[str, object]:
    return {
        "login": new_login(), "name": "测试用户", "org_id": str(PUJIANG_ORG), "role": "applicant",
        "password": new_password(), **changes,
    }  # fmt: skip


async def _logins(admin: httpx.AsyncClient) -> set[str]:
    return {u["login"] for u in (await admin.get("/api/v1/admin/users")).json()["items"]}


async def _patch(admin: httpx.AsyncClient, user_id: str, **changes: str) -> httpx.Response:
    return await admin.patch(f"/api/v1/admin/users/{user_id}", json=changes)


async def test_an_account_made_by_the_administrator_logs_in_with_its_role_and_organisation(
    new_account, open_client
):
    account = await new_account(role="reviewer", id_card=True)
    me = (await (await open_client(account)).get("/api/v1/me")).json()["user"]
    assert (me["id"], me["role"], me["org_id"], me["display_name"]) == (
        account.id, "reviewer", str(PUJIANG_ORG), account.name,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"id_card": "11010519491231002"}, "id_card", "invalid_id_card_number"),
        ({"id_card": "110105194912310021"}, "id_card", "invalid_id_card_number"),  # check digit (X is right)
        ({"id_card": "110105194902301234"}, "id_card", "invalid_id_card_number"),  # 30 February
        ({"phone": "12812341234"}, "phone", "invalid_mobile_number"),
        ({"phone": "1381234123"}, "phone", "invalid_mobile_number"),
        ({"login": "Robert'); DROP TABLE app_user;--"}, "login", "string_pattern_mismatch"),
        ({"login": "x" * 33}, "login", "string_too_long"),
        ({"name": "名" * 51}, "name", "string_too_long"),
        ({"org_id": "not-a-uuid"}, "org_id", "uuid_parsing"),
        ({"role": "superuser' OR '1'='1" * 3}, "role", "string_too_long"),
        ({"is_admin": True}, "is_admin", "extra_forbidden"),
    ],
)
async def test_an_invalid_field_of_a_new_account_is_refused_with_422_at_its_path(admin, changes, field, code):
    body = _new_user(**changes)
    response = await admin.post("/api/v1/admin/users", json=body)
    assert error_of(response) == (422, "invalid_input"), response.text
    fields = {f["field"]: f["type"] for f in response.json()["error"]["fields"]}
    assert fields == {field: code}
    assert body["login"] not in await _logins(admin)


async def test_a_weak_initial_password_an_unknown_role_or_organisation_is_refused(admin):
    weak = await admin.post("/api/v1/admin/users", json=_new_user(password="abc"))
    assert error_of(weak) == (422, "weak_password")
    role = await admin.post("/api/v1/admin/users", json=_new_user(role="superuser"))
    assert error_of(role) == (404, "not_found")
    org = await admin.post("/api/v1/admin/users", json=_new_user(org_id=str(stable_id("org", "nowhere"))))
    assert error_of(org) == (404, "not_found")


async def test_a_login_or_phone_already_taken_is_refused_with_409(admin, new_account):
    account = await new_account()
    same_login = await admin.post("/api/v1/admin/users", json=_new_user(login=account.login))
    assert error_of(same_login) == (409, "conflict")
    same_phone = await admin.post("/api/v1/admin/users", json=_new_user(phone=account.phone))
    assert error_of(same_phone) == (409, "conflict")
    formatted = await admin.post("/api/v1/admin/users", json=_new_user(phone=f"+86 {account.phone}"))
    assert error_of(formatted) == (409, "conflict")


async def test_a_role_change_ends_the_users_sessions_at_once_and_the_new_role_applies_at_login(
    admin, new_account, open_client
):
    account = await new_account()
    client = await open_client(account)
    assert (await client.get("/api/v1/admin/users")).status_code == 403
    changed = await _patch(admin, account.id, role="admin")
    assert changed.status_code == 200, changed.text
    assert (changed.json()["login"], changed.json()["role"], changed.json()["status"]) == (
        account.login, "admin", "active",
    )  # fmt: skip
    assert (await client.get("/api/v1/me")).status_code == 401
    again = await open_client(account)
    assert (await again.get("/api/v1/me")).json()["user"]["role"] == "admin"
    assert (await again.get("/api/v1/admin/users")).status_code == 200


async def test_disabling_an_account_ends_its_sessions_and_refuses_its_logins_until_enabled(
    admin, new_account, open_client
):
    account = await new_account()
    client = await open_client(account)
    disabled = await _patch(admin, account.id, status="disabled")
    assert disabled.json()["status"] == "disabled"
    assert (await client.get("/api/v1/me")).status_code == 401
    refused = await client.post("/api/v1/login", json={"login": account.login, "password": account.password})
    assert error_of(refused) == (401, "login_failed")
    assert (await _patch(admin, account.id, status="active")).status_code == 200
    await open_client(account)


async def test_an_administrator_can_force_a_user_out(admin, new_account, open_client):
    account = await new_account()
    laptop, phone = await open_client(account), await open_client(account)
    ended = await admin.post(f"/api/v1/admin/users/{account.id}/sessions/end")
    assert ended.json() == {"sessions_closed": 2}
    assert (await laptop.get("/api/v1/me")).status_code == 401
    assert (await phone.get("/api/v1/me")).status_code == 401


async def test_an_administrator_cannot_disable_themself_or_change_their_own_role(admin):
    me = (await admin.get("/api/v1/me")).json()["user"]
    assert error_of(await _patch(admin, me["id"], status="disabled")) == (409, "conflict")
    assert error_of(await _patch(admin, me["id"], role="reviewer")) == (409, "conflict")
    assert (await admin.get("/api/v1/admin/users")).status_code == 200
    assert (await admin.get("/api/v1/me")).json()["user"]["role"] == "admin"


async def test_an_unknown_user_or_role_in_a_change_is_refused(admin, new_account):
    missing = await _patch(admin, str(stable_id("user", "nobody")), status="disabled")
    assert error_of(missing) == (404, "not_found")
    account = await new_account()
    assert error_of(await _patch(admin, account.id, role="superuser")) == (404, "not_found")
    bad_status = await _patch(admin, account.id, status="deleted")
    assert error_of(bad_status) == (422, "invalid_input")


@pytest.mark.parametrize("login", ["pujiang", "zhujian", "audit", "bidadmin"])
async def test_only_administrators_manage_accounts(as_user, new_account, login):
    account = await new_account()
    client = await as_user(login)
    attempts = [
        await client.get("/api/v1/admin/users"),
        await client.post("/api/v1/admin/users", json=_new_user()),
        await client.patch(f"/api/v1/admin/users/{account.id}", json={"role": "admin"}),
        await client.post(f"/api/v1/admin/users/{account.id}/sessions/end"),
    ]
    assert [error_of(r) for r in attempts] == [(403, "forbidden")] * 4


async def test_the_user_list_shows_names_and_phones_masked_only(admin, new_account):
    account = await new_account(id_card=True)
    response = await admin.get("/api/v1/admin/users")
    [listed] = [u for u in response.json()["items"] if u["login"] == account.login]
    assert listed["name_masked"] == account.name[0] + "*" * (len(account.name) - 1)
    assert listed["phone_masked"] == f"{account.phone[:3]}****{account.phone[-4:]}"
    for secret in (account.phone, account.name, account.id_card):
        assert secret not in response.text
    # The hidden middle digits are short enough to occur by chance in ids or in other users'
    # masks, so look for them only in this user's values that are neither ids nor the mask.
    shown = [v for k, v in listed.items() if k not in {"id", "org_id", "login", "phone_masked"}]
    assert not [v for v in shown if isinstance(v, str) and account.phone[3:7] in v]
    assert "password" not in response.text


async def test_an_account_without_a_phone_is_listed_without_one(admin, new_account):
    account = await new_account(phone=False)
    listed = [
        u for u in (await admin.get("/api/v1/admin/users")).json()["items"] if u["login"] == account.login
    ]
    assert listed[0]["phone_masked"] is None


async def test_each_account_change_is_in_the_audit_chain(admin, new_account, auditor):
    account = await new_account()
    await _patch(admin, account.id, role="agent")
    found = (await auditor.get("/api/v1/audit", params={"target": f"user:{account.id}"})).json()["items"]
    assert [(e["action"], e["actor_login"]) for e in found] == [
        ("identity.user_update", "admin"),
        ("identity.user_create", "admin"),
    ]
    assert found[0]["detail"] == {"role": ["applicant", "agent"], "status": ["active", "active"]}
    assert account.phone not in str(found)
