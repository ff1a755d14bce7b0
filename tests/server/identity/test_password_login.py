"""Password login through the HTTP API: the session cookie and audit entry of a success, one answer for
every kind of failure, the lockout of a name after five failures (known or not), its end when its
Redis key expires, and hostile input that is refused cleanly."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.server.identity.conftest import (
    audit_entries,
    error_of,
    lockout_key,
    new_login,
    new_password,
)


async def _attempt(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/login", json={"login": login, "password": password})


async def test_a_successful_login_sets_an_http_only_session_cookie_and_is_audited(
    anonymous, new_account, auditor
):
    account = await new_account()
    response = await _attempt(anonymous, account.login, account.password)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("tb_session=")
    assert {"httponly", "samesite=lax", "path=/"} <= {part.strip() for part in cookie.split(";")}
    body = response.json()
    assert (body["user"]["login"], body["user"]["role"], body["password_expired"]) == (
        account.login, "applicant", False,
    )  # fmt: skip
    assert body["csrf_token"]
    assert (await anonymous.get("/api/v1/me")).json()["user"]["id"] == account.id
    [entry] = await audit_entries(auditor, actor=account.login, action="identity.login")
    assert (entry["outcome"], entry["actor_id"], entry["ip"]) == ("success", account.id, "127.0.0.1")
    assert entry["detail"] == {"method": "password"}


async def test_an_unknown_name_a_wrong_password_and_a_disabled_account_get_the_same_answers(
    anonymous, new_account, admin
):
    known, disabled = await new_account(), await new_account()
    assert (
        await admin.patch(f"/api/v1/admin/users/{disabled.id}", json={"status": "disabled"})
    ).status_code == 200
    attempts = {
        "unknown name": (new_login(), new_password()),
        "wrong password": (known.login, new_password()),
        "disabled account, right password": (disabled.login, disabled.password),
    }
    for tries_left in (4, 3, 2, 1, 0):
        answers = {what: await _attempt(anonymous, *attempt) for what, attempt in attempts.items()}
        bodies = {what: (r.status_code, r.json()) for what, r in answers.items()}
        assert len(set(map(str, bodies.values()))) == 1, bodies
        status, body = bodies["unknown name"]
        assert (status, body["error"]["code"]) == (401, "login_failed")
        assert all("set-cookie" not in r.headers for r in answers.values())
        if tries_left:
            assert body["error"]["message"] == f"用户名或密码错误，还可尝试 {tries_left} 次"
        else:
            assert body["error"]["message"] == "登录失败次数过多，账号已暂时锁定"
    locked = {what: await _attempt(anonymous, *attempt) for what, attempt in attempts.items()}
    assert len({(r.status_code, r.text) for r in locked.values()}) == 1
    assert error_of(locked["unknown name"]) == (429, "account_locked")


async def test_five_failures_lock_the_name_even_for_the_right_password_until_the_lock_expires(
    anonymous, new_account, redis, settings
):
    account = await new_account()
    for _ in range(5):
        assert error_of(await _attempt(anonymous, account.login, new_password())) == (401, "login_failed")
    refused = await _attempt(anonymous, account.login, account.password)
    assert error_of(refused) == (429, "account_locked")
    assert "15 分钟后再试" in refused.json()["error"]["message"]
    key = lockout_key(settings, account.login)
    assert settings.login_lock_s - 5 < await redis.ttl(key) <= settings.login_lock_s
    # The name is locked, not the spelling: the same name in other case or with spaces is locked too.
    assert error_of(await _attempt(anonymous, f" {account.login.upper()} ", account.password)) == (
        429, "account_locked",
    )  # fmt: skip
    await redis.delete(key)  # what Redis does when the 15 minutes are over
    assert (await _attempt(anonymous, account.login, account.password)).status_code == 200


async def test_a_successful_login_clears_the_failure_count(anonymous, new_account, redis, settings):
    account = await new_account()
    for _ in range(4):
        await _attempt(anonymous, account.login, new_password())
    assert (await _attempt(anonymous, account.login, account.password)).status_code == 200
    assert await redis.exists(lockout_key(settings, account.login)) == 0
    for tries_left in (4, 3, 2, 1):
        failed = await _attempt(anonymous, account.login, new_password())
        assert failed.json()["error"]["message"] == f"用户名或密码错误，还可尝试 {tries_left} 次"
    assert (await _attempt(anonymous, account.login, account.password)).status_code == 200


async def test_concurrent_guesses_spend_no_more_than_the_allowed_failures(server, new_account):
    account = await new_account()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        answers = await asyncio.gather(
            *(_attempt(client, account.login, new_password()) for _ in range(15)),
            _attempt(client, new_login(), new_password()),  # another name is not held up
        )
    statuses = sorted(r.status_code for r in answers[:-1])
    assert statuses == [401] * 5 + [429] * 10
    assert answers[-1].status_code == 401


async def test_many_concurrent_logins_with_the_right_password_all_succeed(server, new_account):
    """One account signed in on many devices at once (or a load test) is not a brute-force attack."""
    account = await new_account()
    clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for _ in range(12)]
    try:
        answers = await asyncio.gather(*(_attempt(c, account.login, account.password) for c in clients))
    finally:
        for client in clients:
            await client.aclose()
    assert [r.status_code for r in answers] == [200] * 12


@pytest.mark.parametrize(
    "login",
    [
        "admin' --",
        "' OR '1'='1",
        'admin"; DROP TABLE app_user; --',
        "admin' UNION SELECT password_hash FROM app_user --",
        "%",
        "_dmin",
        "admin\\",
        "管理员",
    ],
)
async def test_sql_metacharacters_in_the_login_name_are_just_a_failed_login(anonymous, pool, login):
    before = await pool.fetchval("SELECT count(*) FROM app_user")
    response = await _attempt(anonymous, login, "' OR '1'='1")
    assert error_of(response) == (401, "login_failed")
    assert await pool.fetchval("SELECT count(*) FROM app_user") == before


async def test_sql_metacharacters_in_a_password_work_as_plain_characters(anonymous, new_account):
    account = await new_account()
    assert error_of(await _attempt(anonymous, account.login, "' OR '1'='1' --")) == (401, "login_failed")
    assert error_of(await _attempt(anonymous, account.login, account.password + "' --")) == (
        401, "login_failed",
    )  # fmt: skip
    assert (await _attempt(anonymous, account.login, account.password)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"login": "a" * 65, "password": "x"}, "login"),
        ({"login": "admin", "password": "x" * 1025}, "password"),
        ({"login": "", "password": "x"}, "login"),
        ({"login": "admin", "password": ""}, "password"),
        ({"login": "admin"}, "password"),
        ({"login": 123, "password": "x"}, "login"),
        ({"login": "admin", "password": "x", "role": "admin"}, "role"),
        ({"login": "ad\x00min", "password": "x"}, "login"),
    ],
    ids=[
        "long-login", "long-password", "empty-login", "empty-password", "missing-password", "login-not-text",
        "extra-field", "nul-in-login",
    ],
)  # fmt: skip
async def test_malformed_login_input_is_refused_with_422_naming_the_field(anonymous, body, field):
    response = await anonymous.post("/api/v1/login", json=body)
    assert error_of(response) == (422, "invalid_input"), response.text
    assert field in {f["field"] for f in response.json()["error"]["fields"]}


async def test_a_login_body_that_is_not_json_is_refused_and_the_server_keeps_answering(anonymous):
    not_json = await anonymous.post(
        "/api/v1/login", content=b"login=admin&password=x", headers={"content-type": "application/json"}
    )
    assert error_of(not_json) == (400, "malformed_json")
    form = await anonymous.post("/api/v1/login", data={"login": "admin", "password": "x"})
    assert error_of(form) == (415, "unsupported_media_type")
    huge = await anonymous.post("/api/v1/login", json={"login": "admin", "password": "x" * 3_000_000})
    assert huge.status_code in (413, 422)
    assert (await anonymous.get("/healthz")).status_code == 200
