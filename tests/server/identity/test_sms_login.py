"""SMS-code login through the HTTP API and the demo inbox: a code logs in once, a number without an
account gets the same answer and no message, five wrong codes burn the code, bad numbers are 422."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.server.identity.conftest import audit_entries, error_of, new_phone, sms_code, wrong_code

pytestmark = pytest.mark.usefixtures("fresh_sms_window")


async def _request_code(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/v1/login/sms/code", json={"phone": phone})


async def _sms_login(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post("/api/v1/login/sms", json={"phone": phone, "code": code})


async def test_a_code_from_the_inbox_logs_the_user_in_once_and_is_audited(open_client, new_account, auditor):
    account = await new_account()
    assert account.phone is not None
    client = await open_client()
    asked = await _request_code(client, account.phone)
    assert (asked.status_code, asked.json()) == (200, {"sent": True, "resend_in_s": 60, "expires_in_s": 300})
    code = await sms_code(client, account.phone)
    assert code is not None
    assert re.fullmatch(r"\d{6}", code)
    inbox = (await client.get("/api/v1/dev/sms", params={"phone": account.phone})).json()
    assert inbox["phone"] == f"{account.phone[:3]}****{account.phone[-4:]}"
    logged_in = await _sms_login(client, account.phone, code)
    assert logged_in.status_code == 200, logged_in.text
    assert "httponly" in logged_in.headers["set-cookie"].lower()
    assert (await client.get("/api/v1/me")).json()["user"]["login"] == account.login
    [entry] = await audit_entries(auditor, actor=account.login, action="identity.login")
    assert (entry["outcome"], entry["detail"]) == ("success", {"method": "sms"})
    async with httpx.AsyncClient(base_url=str(client.base_url)) as replay:
        assert error_of(await _sms_login(replay, account.phone, code)) == (422, "sms_code_expired")
        assert (await replay.get("/api/v1/me")).status_code == 401


async def test_a_number_without_an_account_gets_the_same_answer_and_no_message(
    open_client, new_account, admin
):
    account, disabled = await new_account(), await new_account()
    assert (
        await admin.patch(f"/api/v1/admin/users/{disabled.id}", json={"status": "disabled"})
    ).status_code == 200
    client = await open_client()
    nobody = new_phone()
    answers = {phone: await _request_code(client, phone) for phone in (account.phone, nobody, disabled.phone)}
    assert len({(r.status_code, r.text) for r in answers.values()}) == 1
    assert await sms_code(client, account.phone) is not None
    assert await sms_code(client, nobody) is None
    assert await sms_code(client, disabled.phone) is None
    # Asking again at once is refused alike, whether or not a message went out.
    again = {phone: await _request_code(client, phone) for phone in answers}
    assert len({(r.status_code, r.text) for r in again.values()}) == 1
    assert error_of(again[nobody]) == (429, "sms_code_cooldown")
    # A wrong guess reads the same for both: the number without an account holds an undelivered code.
    code = await sms_code(client, account.phone)
    assert code is not None
    guesses = [await _sms_login(client, phone, wrong_code(code)) for phone in (account.phone, nobody)]
    assert guesses[0].json() == guesses[1].json()
    assert error_of(guesses[1]) == (422, "sms_code_wrong")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_five_wrong_codes_burn_the_code_so_the_right_one_no_longer_logs_in(open_client, new_account):
    account = await new_account()
    client = await open_client()
    assert (await _request_code(client, account.phone)).status_code == 200
    code = await sms_code(client, account.phone)
    assert code is not None
    for tries_left in (4, 3, 2, 1):
        wrong = await _sms_login(client, account.phone, wrong_code(code))
        assert error_of(wrong) == (422, "sms_code_wrong")
        assert wrong.json()["error"]["tries_left"] == tries_left
    assert error_of(await _sms_login(client, account.phone, wrong_code(code))) == (429, "sms_code_locked")
    assert error_of(await _sms_login(client, account.phone, code)) == (429, "sms_code_locked")
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_a_number_written_with_the_country_code_and_spaces_is_the_same_number(open_client, new_account):
    account = await new_account()
    client = await open_client()
    spaced = f"+86 {account.phone[:3]} {account.phone[3:7]} {account.phone[7:]}"
    assert (await _request_code(client, spaced)).status_code == 200
    code = await sms_code(client, account.phone)
    assert code is not None
    assert (await _sms_login(client, spaced, code)).status_code == 200


@pytest.mark.parametrize(
    "phone",
    [
        "12345678901",
        "1390000000a",
        "13900000001' OR '1'='1",
        "139000000011",
        "1390000000",
        "139 0000 0001; --",
    ],
)
async def test_a_malformed_phone_number_is_refused_with_422_and_nothing_is_sent(anonymous, phone):
    response = await _request_code(anonymous, phone)
    assert response.status_code == 422, response.text
    login = await _sms_login(anonymous, phone, "123456")
    assert login.status_code == 422, login.text


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", "12345'", "' OR 1=1", ""])
async def test_a_malformed_code_is_refused_with_422(anonymous, code):
    response = await _sms_login(anonymous, new_phone(), code)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] in ("sms_code_malformed", "invalid_input")
