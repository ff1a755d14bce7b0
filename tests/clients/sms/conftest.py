"""SMS fixtures: a stub gateway per test with a fresh secret, an HTTP provider configured for it, a dev
provider on real Redis under its own key prefix, and a factory of login-code messages."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from clients.sms.client import DevSmsProvider, GatewayConfig, HttpSmsProvider
from clients.sms.models import SmsMessage
from clients.sms.stub import StubGateway
from server.logging import JsonFormatter

APP_KEY = "tongban-test"
LOGIN_TEMPLATE = "SMS_LOGIN_CODE"
PHONE = "13812345678"
CODE = "739146"


def login_code(phone: str = PHONE, code: str = CODE) -> SmsMessage:
    return SmsMessage(phone=phone, template=LOGIN_TEMPLATE, params={"code": code}, sent_at=datetime.now(UTC))


def logged_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record as the JSON line production would write, extra fields included."""
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records]


@pytest.fixture
def secret() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def gateway(secret: str) -> Iterator[StubGateway]:
    with StubGateway(APP_KEY, secret, templates=frozenset({LOGIN_TEMPLATE})) as stub:
        yield stub


@pytest.fixture
def config(gateway: StubGateway, secret: str) -> GatewayConfig:
    return GatewayConfig(
        url=gateway.url,
        app_key=APP_KEY,
        secret=SecretStr(secret),
        timeout_s=2.0,
        max_attempts=3,
        backoff_s=0.01,
    )


@pytest.fixture
async def provider(config: GatewayConfig) -> AsyncIterator[HttpSmsProvider]:
    async with HttpSmsProvider(config) as http_provider:
        yield http_provider


@pytest.fixture
def dev(redis: Redis, redis_prefix: str) -> DevSmsProvider:
    return DevSmsProvider(redis, f"{redis_prefix}{uuid.uuid4().hex[:8]}:", keep=3, ttl_s=120)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
