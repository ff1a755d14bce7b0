"""The dev provider against real Redis: what it keeps, for how long, and what it never logs."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from clients.sms.client import DevSmsProvider
from clients.sms.errors import InvalidPhone
from server.errors import RedisUnavailable
from tests.clients.sms.conftest import CODE, PHONE, logged_lines, login_code
from tests.support.processes import free_port


async def test_a_sent_code_is_stored_and_the_newest_is_readable_as_the_latest(dev):
    await dev.send(login_code(code="111111"))
    sent = login_code(code="222222")
    receipt = await dev.send(sent)
    assert (receipt.provider, receipt.message_id) == ("dev", sent.message_id)
    assert await dev.latest(PHONE) == sent


async def test_a_phone_without_messages_has_no_latest(dev):
    assert await dev.latest("13700000000") is None


async def test_each_phone_keeps_only_its_newest_messages(dev, redis):
    for code in ("100001", "100002", "100003", "100004", "100005"):
        await dev.send(login_code(code=code))
    await dev.send(login_code(phone="13600000000", code="200001"))
    assert [m.params["code"] for m in await dev.recent(PHONE)] == ["100005", "100004", "100003"]
    assert await redis.llen(dev.key_of(PHONE)) == 3
    assert [m.params["code"] for m in await dev.recent("13600000000")] == ["200001"]


async def test_stored_messages_expire_after_the_configured_time_to_live(dev, redis):
    await dev.send(login_code())
    assert 0 < await redis.ttl(dev.key_of(PHONE)) <= 120


async def test_reading_with_an_invalid_phone_is_refused_rather_than_reading_another_key(dev):
    with pytest.raises(InvalidPhone):
        await dev.latest("*")


async def test_nothing_the_dev_provider_logs_contains_the_code_or_the_full_phone(dev, logs):
    await dev.send(login_code())
    await dev.latest(PHONE)
    lines = logged_lines(logs)
    assert any("sms.stored" in line and "138****5678" in line for line in lines)
    assert not [line for line in lines if CODE in line or PHONE in line]


async def test_an_unreachable_redis_surfaces_as_redis_unavailable():
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        with pytest.raises(RedisUnavailable):
            await DevSmsProvider(down, "tbtest:nowhere:").send(login_code())
    finally:
        await down.aclose()
