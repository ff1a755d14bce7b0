"""The user's own account through the HTTP API: changing the password (policy, re-authentication,
history, every session ended, expiry after 90 days) and the phone number (password first, a code sent
to the new number, the new number stored sealed and found by its blind index)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.server.identity.conftest import (
    audit_entries,
    error_of,
    new_password,
    new_phone,
    sms_code,
    wrong_code,
)


async def _change_password(client: httpx.AsyncClient, current: str, new: str) -> httpx.Response:
    return await client.post(
        "/api/v1/account/password", json={"current_password": current, "new_password": new}
    )


async def _login(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/login", json={"login": login, "password": password})


async def test_a_new_password_breaking_the_policy_is_refused_listing_every_broken_rule(
    new_account, open_client
):
    account = await new_account()
    client = await open_client(account)
    short = await _change_password(client, account.password, "abc")
    assert error_of(short) == (422, "weak_password")
    assert set(short.json()["error"]["rules"]) == {"too_short", "too_few_classes"}
    assert "长度至少 8 位" in short.json()["error"]["message"]
    with_login = await _change_password(client, account.password, f"X-{account.login}-9")
    assert with_login.json()["error"]["rules"] == ["contains_login"]
    with_name = await _change_password(client, account.password, f"Xy-9-{account.name}-z")
    assert with_name.json()["error"]["rules"] == ["contains_name"]
    common = await _change_password(client, account.password, "Password123!")
    assert "common" in common.json()["error"]["rules"]
    assert (await client.get("/api/v1/me")).status_code == 200  # nothing changed, nobody logged out
    assert (await _login(client, account.login, account.password)).status_code == 200


async def test_a_wrong_current_password_is_refused_with_403_and_changes_nothing(new_account, open_client):
    account = await new_account()
    client = await open_client(account)
    refused = await _change_password(client, new_password(), new_password())
    assert error_of(refused) == (403, "wrong_password")
    assert (await client.get("/api/v1/me")).status_code == 200
    assert (await _login(client, account.login, account.password)).status_code == 200


async def test_guessing_the_current_password_from_a_session_locks_the_name_like_failed_logins(
    new_account, open_client
):
    account = await new_account()
    client = await open_client(account)
    for tries_left in (4, 3, 2, 1):
        guessed = await _change_password(client, new_password(), new_password())
        assert error_of(guessed) == (403, "wrong_password")
        assert f"还可尝试 {tries_left} 次" in guessed.json()["error"]["message"]
    assert error_of(await _change_password(client, new_password(), new_password())) == (403, "wrong_password")
    assert error_of(await _change_password(client, account.password, new_password())) == (
        429,
        "account_locked",
    )
    phone_code = await client.post(
        "/api/v1/account/phone/code", json={"new_phone": new_phone(), "password": account.password}
    )
    assert error_of(phone_code) == (429, "account_locked")
    assert error_of(await _login(await open_client(), account.login, account.password)) == (
        429,
        "account_locked",
    )


async def test_a_recently_used_password_cannot_be_chosen_again(new_account, open_client):
    account = await new_account()
    client = await open_client(account)
    assert error_of(await _change_password(client, account.password, account.password)) == (
        422,
        "weak_password",
    )
    second = new_password()
    assert (await _change_password(client, account.password, second)).status_code == 200
    client = await open_client(account, password=second)
    reused = await _change_password(client, second, account.password)
    assert error_of(reused) == (422, "weak_password")
    assert reused.json()["error"]["rules"] == ["reused"]


async def test_changing_the_password_ends_every_session_and_only_the_new_password_logs_in(
    new_account, open_client, auditor
):
    account = await new_account()
    laptop, phone = await open_client(account), await open_client(account)
    new = new_password()
    changed = await _change_password(laptop, account.password, new)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"logged_out": True, "sessions_closed": 2}
    assert "max-age=0" in changed.headers["set-cookie"].lower()
    assert (await laptop.get("/api/v1/me")).status_code == 401
    assert (await phone.get("/api/v1/me")).status_code == 401
    fresh = await open_client()
    assert error_of(await _login(fresh, account.login, account.password)) == (401, "login_failed")
    assert (await _login(fresh, account.login, new)).status_code == 200
    [entry] = await audit_entries(auditor, actor=account.login, action="identity.password_change")
    assert entry["outcome"] == "success"


@pytest.mark.parametrize(("age_days", "expired"), [(91, True), (89, False)])
async def test_a_password_older_than_90_days_is_reported_expired_at_login(
    new_account, open_client, pool, age_days, expired
):
    account = await new_account()
    await pool.execute(
        "UPDATE app_user SET password_changed_at = now() - make_interval(days => $2) WHERE id = $1::uuid",
        account.id, age_days,
    )  # fmt: skip
    response = await _login(await open_client(), account.login, account.password)
    assert response.status_code == 200
    assert response.json()["password_expired"] is expired


async def test_a_session_with_an_expired_password_may_only_change_it(new_account, open_client, pool):
    account = await new_account()
    await pool.execute(
        "UPDATE app_user SET password_changed_at = now() - interval '100 days' WHERE id = $1::uuid",
        account.id,
    )
    client = await open_client(account)
    refused = await client.get("/api/v1/projects")
    assert error_of(refused) == (403, "password_expired")
    assert (await client.get("/api/v1/me")).status_code == 200  # who am I, logout and the account stay open
    new = new_password()
    assert (await _change_password(client, account.password, new)).status_code == 200
    renewed = await open_client(account, password=new)
    assert (await renewed.get("/api/v1/projects")).status_code == 200


async def test_a_changed_password_is_no_longer_expired(new_account, open_client, pool):
    account = await new_account()
    await pool.execute(
        "UPDATE app_user SET password_changed_at = now() - interval '200 days' WHERE id = $1::uuid",
        account.id,
    )
    client = await open_client(account)
    new = new_password()
    assert (await _change_password(client, account.password, new)).status_code == 200
    assert (await _login(client, account.login, new)).json()["password_expired"] is False


@pytest.mark.usefixtures("fresh_sms_window")
class TestPhoneChange:
    async def _ask(self, client: httpx.AsyncClient, phone: str, password: str) -> httpx.Response:
        return await client.post(
            "/api/v1/account/phone/code", json={"new_phone": phone, "password": password}
        )

    async def _confirm(self, client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
        return await client.post("/api/v1/account/phone", json={"new_phone": phone, "code": code})

    async def test_a_phone_change_code_needs_the_current_password(self, new_account, open_client):
        account = await new_account()
        client = await open_client(account)
        target = new_phone()
        assert error_of(await self._ask(client, target, new_password())) == (403, "wrong_password")
        assert await sms_code(client, target) is None

    async def test_a_new_phone_is_confirmed_by_a_code_sent_to_it_and_then_logs_in_instead_of_the_old(
        self, new_account, open_client, pool, pii
    ):
        account = await new_account()
        assert account.phone is not None
        client = await open_client(account)
        target = new_phone()
        asked = await self._ask(client, target, account.password)
        assert (asked.status_code, asked.json()["sent"]) == (200, True)
        code = await sms_code(client, target)
        assert code is not None
        assert await sms_code(client, account.phone) is None  # the old number is sent nothing
        assert error_of(await self._confirm(client, target, wrong_code(code))) == (422, "sms_code_wrong")
        assert error_of(await self._confirm(client, new_phone(), code)) == (422, "sms_code_expired")
        assert await pool.fetchval(
            "SELECT phone_index FROM app_user WHERE id = $1::uuid", account.id
        ) == pii.index(account.phone)
        assert (await self._confirm(client, target, code)).status_code == 200
        row = await pool.fetchrow(
            "SELECT phone_sealed, phone_index FROM app_user WHERE id = $1::uuid", account.id
        )
        assert target.encode() not in row["phone_sealed"]
        assert target not in row["phone_index"]
        assert row["phone_index"] == pii.index(target)
        assert pii.open_value("app_user", "phone", uuid.UUID(account.id), row["phone_sealed"]) == target

        anonymous = await open_client()
        assert (
            await anonymous.post("/api/v1/login/sms/code", json={"phone": account.phone})
        ).status_code == 200
        assert await sms_code(anonymous, account.phone) is None  # the old number has no account any more
        assert (await anonymous.post("/api/v1/login/sms/code", json={"phone": target})).status_code == 200
        login_code = await sms_code(anonymous, target)
        assert login_code not in (None, code)
        logged_in = await anonymous.post("/api/v1/login/sms", json={"phone": target, "code": login_code})
        assert logged_in.json()["user"]["login"] == account.login

    async def test_a_code_asked_for_by_one_account_cannot_change_another_accounts_phone(
        self, new_account, open_client, pool, pii
    ):
        """Whoever has taken over a session without its password must not bind their own number to it
        with a code they asked for from their own account."""
        attacker, victim = await new_account(), await new_account()
        attacker_client, stolen_session = await open_client(attacker), await open_client(victim)
        theirs = new_phone()
        assert (await self._ask(attacker_client, theirs, attacker.password)).status_code == 200
        code = await sms_code(attacker_client, theirs)
        assert code is not None
        assert error_of(await self._confirm(stolen_session, theirs, code)) == (422, "sms_code_expired")
        index = await pool.fetchval("SELECT phone_index FROM app_user WHERE id = $1::uuid", victim.id)
        assert index == pii.index(victim.phone)
        assert (await self._confirm(attacker_client, theirs, code)).status_code == 200

    async def test_a_number_another_account_uses_cannot_be_taken(self, new_account, open_client, pool, pii):
        account, other = await new_account(), await new_account()
        client = await open_client(account)
        assert (await self._ask(client, other.phone, account.password)).status_code == 200
        code = await sms_code(client, other.phone)
        assert code is not None
        assert error_of(await self._confirm(client, other.phone, code)) == (409, "conflict")
        index = await pool.fetchval("SELECT phone_index FROM app_user WHERE id = $1::uuid", account.id)
        assert index == pii.index(account.phone)

    @pytest.mark.parametrize("phone", ["12812341234", "1390000000", "13900000001' --"])
    async def test_a_malformed_new_number_is_refused_with_422(self, new_account, open_client, phone):
        account = await new_account()
        client = await open_client(account)
        assert (await self._ask(client, phone, account.password)).status_code == 422
        assert (await self._confirm(client, phone, "123456")).status_code == 422
