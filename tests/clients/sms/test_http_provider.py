"""The HTTP provider against the stub gateway: signing, retries, idempotency, time limits and how each
gateway answer surfaces."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from clients.sms.client import GatewayConfig, HttpSmsProvider
from clients.sms.errors import (
    InvalidPhone,
    SmsGatewayRefused,
    SmsPhoneRejected,
    SmsRateLimited,
    SmsTemplateRejected,
    SmsUnavailable,
)
from clients.sms.models import GatewayCode, GatewayRequest, SmsMessage
from clients.sms.signing import new_nonce, signed_headers
from clients.sms.stub import StubGateway
from server.errors import Unavailable
from tests.clients.sms.conftest import APP_KEY, CODE, LOGIN_TEMPLATE, PHONE, logged_lines, login_code
from tests.support.processes import free_port

# How far past its computed worst case a send may return: scheduling, not gateway time.
SLACK_S = 1.0


async def test_a_signed_message_is_delivered_once_with_the_gateways_id(provider, gateway):
    message = login_code()
    receipt = await provider.send(message)
    assert (receipt.provider, receipt.message_id, receipt.attempts) == ("http", message.message_id, 1)
    assert receipt.biz_id
    assert gateway.messages == [
        GatewayRequest(
            phone=PHONE, template=LOGIN_TEMPLATE, params={"code": CODE}, request_id=message.message_id
        )
    ]


async def test_a_wrong_secret_is_refused_by_the_gateway_and_surfaces_as_a_refusal_ops_must_fix(
    config, gateway
):
    wrong = config.model_copy(update={"secret": SecretStr("not-the-secret")})
    async with HttpSmsProvider(wrong) as provider:
        with pytest.raises(SmsGatewayRefused) as refused:
            await provider.send(login_code())
    assert (refused.value.gateway_code, refused.value.attempts) == (GatewayCode.BAD_SIGNATURE, 1)
    assert isinstance(refused.value, Unavailable)
    assert refused.value.status == 503
    assert gateway.messages == []


async def test_a_gateway_answering_503_twice_is_retried_and_the_message_delivered_once(provider, gateway):
    gateway.fail_next(2, status=503)
    message = login_code()
    receipt = await provider.send(message)
    assert receipt.attempts == 3
    calls = gateway.calls
    assert [call.request_id for call in calls] == [message.message_id] * 3
    assert len({call.nonce for call in calls}) == 3
    assert [m.request_id for m in gateway.messages] == [message.message_id]


async def test_a_message_the_gateway_took_before_its_answer_was_lost_is_not_sent_twice(provider, gateway):
    gateway.fail_next(1, status=502, after_processing=True)
    message = login_code()
    receipt = await provider.send(message)
    assert (receipt.attempts, len(gateway.calls)) == (2, 2)
    assert [m.request_id for m in gateway.messages] == [message.message_id]


async def test_a_hanging_gateway_times_out_within_the_bound_and_raises_unavailable(config, gateway):
    quick = config.model_copy(update={"timeout_s": 0.3, "max_attempts": 2})
    gateway.hang_next(2)
    message = login_code()
    async with HttpSmsProvider(quick) as provider:
        started = time.monotonic()
        with pytest.raises(SmsUnavailable) as unavailable:
            await provider.send(message)
        elapsed_s = time.monotonic() - started
    assert isinstance(unavailable.value, Unavailable)
    assert unavailable.value.attempts == 2
    assert elapsed_s < quick.worst_case_s + SLACK_S
    assert [call.request_id for call in gateway.calls] == [message.message_id] * 2


async def test_an_unreachable_gateway_raises_unavailable_after_the_limited_attempts(config):
    nowhere = config.model_copy(update={"url": f"http://127.0.0.1:{free_port()}/v1/sms/send"})
    async with HttpSmsProvider(nowhere) as provider:
        with pytest.raises(SmsUnavailable) as unavailable:
            await provider.send(login_code())
    assert unavailable.value.attempts == config.max_attempts
    assert unavailable.value.status == 503


@pytest.mark.parametrize(
    "phone", ["12812345678", "1381234567", "138123456789", "+8613812345678", "138 1234 5678"]
)
async def test_an_invalid_phone_is_rejected_before_any_call(provider, gateway, phone):
    with pytest.raises(ValueError, match="mainland China mobile number"):
        login_code(phone=phone)
    unchecked = SmsMessage.model_construct(**{**login_code().model_dump(), "phone": phone})
    with pytest.raises(InvalidPhone) as invalid:
        await provider.send(unchecked)
    assert invalid.value.status == 422
    assert gateway.calls == []


async def test_a_replayed_nonce_is_refused_by_the_gateway(config, gateway):
    nonce = new_nonce()
    async with HttpSmsProvider(config, nonce=lambda: nonce) as provider:
        await provider.send(login_code())
        with pytest.raises(SmsGatewayRefused) as refused:
            await provider.send(login_code())
    assert refused.value.gateway_code == GatewayCode.REPLAYED_NONCE
    assert len(gateway.messages) == 1


async def test_a_request_signed_with_a_clock_ten_minutes_behind_is_refused(config, gateway):
    async with HttpSmsProvider(config, now=lambda: datetime.now(UTC) - timedelta(minutes=10)) as provider:
        with pytest.raises(SmsGatewayRefused) as refused:
            await provider.send(login_code())
    assert refused.value.gateway_code == GatewayCode.STALE_TIMESTAMP
    assert gateway.messages == []


async def test_a_number_the_gateway_refuses_surfaces_as_a_phone_rejection_and_is_not_retried(
    provider, gateway
):
    gateway.block(PHONE)
    with pytest.raises(SmsPhoneRejected) as rejected:
        await provider.send(login_code())
    assert (rejected.value.status, rejected.value.gateway_code) == (422, GatewayCode.PHONE_BLOCKED)
    assert len(gateway.calls) == 1


async def test_a_template_the_gateway_does_not_know_surfaces_as_a_template_rejection(provider, gateway):
    message = login_code().model_copy(update={"template": "SMS_UNKNOWN"})
    with pytest.raises(SmsTemplateRejected) as rejected:
        await provider.send(message)
    assert (rejected.value.status, rejected.value.gateway_code) == (422, GatewayCode.INVALID_TEMPLATE)


async def test_a_gateway_rate_limit_surfaces_as_429_and_is_not_retried(provider, gateway):
    gateway.fail_next(1, status=429, code=GatewayCode.RATE_LIMITED)
    with pytest.raises(SmsRateLimited) as limited:
        await provider.send(login_code())
    assert limited.value.status == 429
    assert (len(gateway.calls), gateway.messages) == (1, [])


async def test_the_stub_answers_an_invalid_number_sent_to_it_directly_with_the_gateway_code(
    gateway: StubGateway, secret: str
):
    body = (
        b'{"phone": "12345", "template": "SMS_LOGIN_CODE", "params": {"code": "1"}, "request_id": "r-000001"}'
    )
    headers = signed_headers(APP_KEY, secret, body, int(time.time()), new_nonce())
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.post(gateway.url, content=body, headers=headers)
    assert (response.status_code, response.json()["code"]) == (400, GatewayCode.INVALID_PHONE)
    assert gateway.messages == []


async def test_the_http_provider_never_logs_the_code_or_the_full_phone(provider, gateway, logs):
    gateway.fail_next(1, status=503)
    await provider.send(login_code())
    gateway.block("13900001111")
    with pytest.raises(SmsPhoneRejected):
        await provider.send(login_code(phone="13900001111", code="582064"))
    lines = logged_lines(logs)
    assert any("sms.retrying" in line for line in lines)
    assert any("138****5678" in line for line in lines)
    for secret_text in (CODE, "582064", PHONE, "13900001111"):
        assert not [line for line in lines if secret_text in line], secret_text


def test_the_worst_case_of_a_send_counts_every_attempt_and_pause():
    config = GatewayConfig(
        url="http://127.0.0.1/",
        app_key="k",
        secret=SecretStr("s"),
        timeout_s=1.0,
        max_attempts=3,
        backoff_s=0.5,
    )
    assert config.worst_case_s == 3 * 1.0 + 0.5 + 1.0
