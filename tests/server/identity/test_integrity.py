"""Access-control data changed behind the application's back (a direct SQL edit) is refused and
reported: a permission row whose MAC does not match grants nothing once the table reloads, and an
account whose role assignment or sealed personal data was altered cannot log in, while everyone
else carries on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from server.identity.acl import RECHECK_S
from tests.server.identity.conftest import SHENCHENG_ORG, audit_entries, error_of

FIND_GRANT = "SELECT mac FROM role_permission WHERE role = $1 AND permission = $2"
SET_GRANT_MAC = "UPDATE role_permission SET mac = $3 WHERE role = $1 AND permission = $2"
INSERT_GRANT = "INSERT INTO role_permission (role, permission, mac) VALUES ($1, $2, $3)"
DELETE_GRANT = "DELETE FROM role_permission WHERE role = $1 AND permission = $2"

Sql = Callable[..., Awaitable[Any]]


@pytest.fixture
async def behind_the_back(pool: Any, redis: Any, settings: Any) -> AsyncIterator[Sql]:
    """`await behind_the_back(sql, *args, undo=(sql, *args))`: change the permission table directly, then
    make every node reload it (as an administrator's change on another node would); undone after the
    test."""
    undo: list[tuple[Any, ...]] = []
    version_key = f"{settings.redis_prefix}acl-version"

    async def change(statement: str, *args: object, revert: tuple[Any, ...]) -> None:
        undo.append(revert)
        await pool.execute(statement, *args)
        await redis.incr(version_key)
        await asyncio.sleep(RECHECK_S * 1.2)  # nodes notice a change made elsewhere within RECHECK_S

    yield change
    for statement, *args in reversed(undo):
        await pool.execute(statement, *args)
    await redis.incr(version_key)


async def _acl_reports(auditor: httpx.AsyncClient) -> list[list[str]]:
    return [
        e["detail"]["rows"] for e in await audit_entries(auditor, action="security.acl_tampered", limit="5")
    ]


async def test_a_grant_inserted_with_another_rows_mac_is_not_honoured_and_is_reported(
    as_user, pool, behind_the_back, auditor
):
    applicant = await as_user("pujiang")
    admins_mac = await pool.fetchval(FIND_GRANT, "admin", "user.manage")
    await behind_the_back(
        INSERT_GRANT,
        "applicant",
        "user.manage",
        admins_mac,
        revert=(DELETE_GRANT, "applicant", "user.manage"),
    )
    assert error_of(await applicant.get("/api/v1/admin/users")) == (403, "forbidden")
    assert (await applicant.get("/api/v1/projects")).status_code == 200
    assert ["applicant:user.manage"] in await _acl_reports(auditor)
    admin = await as_user("admin")
    roles = (await admin.get("/api/v1/admin/roles")).json()["roles"]
    assert "user.manage" not in roles["applicant"]
    assert "user.manage" in roles["admin"]


async def test_a_grant_whose_mac_is_not_even_hex_is_refused_without_breaking_the_table(
    as_user, behind_the_back, auditor
):
    applicant = await as_user("pujiang")
    await behind_the_back(
        INSERT_GRANT, "applicant", "audit.read", "forged", revert=(DELETE_GRANT, "applicant", "audit.read")
    )
    assert error_of(await applicant.get("/api/v1/audit")) == (403, "forbidden")
    assert (await applicant.get("/api/v1/projects")).status_code == 200
    assert ["applicant:audit.read"] in await _acl_reports(auditor)


async def test_an_altered_mac_withdraws_that_grant_alone_until_it_is_restored(as_user, pool, behind_the_back):
    applicant, agent = await as_user("pujiang"), await as_user("pujiang_agent")
    original = await pool.fetchval(FIND_GRANT, "applicant", "project.read")
    agents_mac = await pool.fetchval(FIND_GRANT, "agent", "project.read")
    await behind_the_back(
        SET_GRANT_MAC, "applicant", "project.read", agents_mac,
        revert=(SET_GRANT_MAC, "applicant", "project.read", original),
    )  # fmt: skip
    assert error_of(await applicant.get("/api/v1/projects")) == (403, "forbidden")
    assert (await agent.get("/api/v1/projects")).status_code == 200
    await behind_the_back(SET_GRANT_MAC, "applicant", "project.read", original, revert=("SELECT 1",))
    assert (await applicant.get("/api/v1/projects")).status_code == 200


TAMPERINGS = {
    "role raised to admin": ("UPDATE app_user SET role = 'admin' WHERE id = $1::uuid",),
    "moved to another enterprise": ("UPDATE app_user SET org_id = $2 WHERE id = $1::uuid", SHENCHENG_ORG),
    "disabled account re-enabled": ("UPDATE app_user SET status = 'active' WHERE id = $1::uuid",),
    "role assignment mac removed": ("UPDATE app_user SET acl_mac = NULL WHERE id = $1::uuid",),
    "role assignment mac not hex": ("UPDATE app_user SET acl_mac = 'forged' WHERE id = $1::uuid",),
}


@pytest.mark.parametrize("tampering", TAMPERINGS.values(), ids=TAMPERINGS.keys())
async def test_an_account_changed_in_the_database_cannot_log_in_and_everyone_else_can(
    tampering, new_account, open_client, admin, pool, auditor, as_user
):
    account = await new_account()
    before = await open_client(account)
    if "status" in tampering[0]:
        await admin.patch(f"/api/v1/admin/users/{account.id}", json={"status": "disabled"})
    statement, *args = tampering
    await pool.execute(statement, account.id, *args)

    refused = await (await open_client()).post(
        "/api/v1/login", json={"login": account.login, "password": account.password}
    )
    assert error_of(refused) == (403, "account_integrity_failed")
    sms = await (await open_client()).post("/api/v1/login/sms/code", json={"phone": account.phone})
    assert error_of(sms) == (403, "account_integrity_failed")
    [report, *_] = await audit_entries(
        auditor, action="security.account_tampered", target=f"user:{account.id}"
    )
    assert (report["outcome"], report["ip"]) == ("failure", "127.0.0.1")
    # A session opened before keeps what it was given and gains nothing from the altered row.
    if "status" not in tampering[0]:
        assert error_of(await before.get("/api/v1/admin/users")) == (403, "forbidden")
    listed = (await admin.get("/api/v1/admin/users")).json()["items"]
    assert [u["status"] for u in listed if u["login"] == account.login] == ["tampered"]
    assert (await (await as_user("pujiang")).get("/api/v1/me")).status_code == 200


async def test_personal_data_copied_from_another_account_does_not_open_and_refuses_that_account(
    new_account, open_client, admin, pool
):
    account, other = await new_account(), await new_account()
    await pool.execute(
        "UPDATE app_user SET phone_sealed = (SELECT phone_sealed FROM app_user WHERE id = $2::uuid) "
        "WHERE id = $1::uuid",
        account.id, other.id,
    )  # fmt: skip
    refused = await (await open_client()).post(
        "/api/v1/login", json={"login": account.login, "password": account.password}
    )
    assert error_of(refused) == (403, "account_integrity_failed")
    listed = await admin.get("/api/v1/admin/users")
    assert listed.status_code == 200
    [row] = [u for u in listed.json()["items"] if u["login"] == account.login]
    assert (row["status"], row["phone_masked"]) == ("tampered", None)
    assert other.phone not in listed.text
    await open_client(other)


async def test_a_sealed_value_naming_a_key_the_deployment_never_had_is_refused_and_makes_no_key(
    new_account, open_client, pool, var_dir
):
    account = await new_account()
    sealed: bytes = await pool.fetchval("SELECT name_sealed FROM app_user WHERE id = $1::uuid", account.id)
    assert sealed[2:7] == b"pii-1"
    await pool.execute(
        "UPDATE app_user SET name_sealed = $2 WHERE id = $1::uuid",
        account.id,
        sealed.replace(b"pii-1", b"pii-9", 1),
    )
    refused = await (await open_client()).post(
        "/api/v1/login", json={"login": account.login, "password": account.password}
    )
    assert error_of(refused) == (403, "account_integrity_failed")
    assert not (var_dir / "keys" / "pii-9.key").exists()
