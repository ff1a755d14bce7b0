"""One-time SMS codes against real Redis: issue, verify once, expiry by the clock, cooldown, rate
limits, burning after wrong tries, silent issues for unknown numbers, races, and what is never kept
or logged. Time moves only through the injected clock; the decoy pause is recorded, not slept."""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from clients.sms.client import DevSmsProvider
from clients.sms.errors import InvalidPhone
from server.errors import RedisUnavailable
from server.identity.sms_codes import (
    IssuedCode,
    Purpose,
    SmsCodeCooldown,
    SmsCodeExpired,
    SmsCodeLocked,
    SmsCodeMalformed,
    SmsCodePolicy,
    SmsCodeRateLimited,
    SmsCodes,
    SmsCodeWrong,
    new_code,
)
from server.logging import JsonFormatter
from tests.support.processes import free_port

START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
FIXED_CODE = "739146"


class FakeClock:
    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Pauses:
    taken_s: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.taken_s.append(seconds)


@dataclass
class World:
    codes: SmsCodes
    sms: DevSmsProvider
    clock: FakeClock
    pauses: Pauses
    redis: Redis
    prefix: str

    async def delivered_code(self, phone: str) -> str:
        message = await self.sms.latest(phone)
        assert message is not None
        return message.params["code"]

    async def delivered_count(self, phone: str) -> int:
        return len(await self.sms.recent(phone))


def new_phone() -> str:
    return f"139{secrets.randbelow(10**8):08d}"


def new_ip() -> str:
    return f"10.{secrets.randbelow(256)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


@pytest.fixture
def make_world(redis: Redis, redis_prefix: str) -> Callable[..., World]:
    """`make_world(policy=..., code_factory=...)`: a service under its own key prefix, with a dev
    provider under another (the provider keeps codes in clear, the service must not)."""

    def make(policy: SmsCodePolicy | None = None, code_factory: Callable[[], str] | None = None) -> World:
        run = uuid.uuid4().hex[:8]
        sms = DevSmsProvider(redis, f"{redis_prefix}{run}:dev:", keep=20, ttl_s=120)
        clock, pauses, prefix = FakeClock(), Pauses(), f"{redis_prefix}{run}:codes:"
        codes = SmsCodes(redis, prefix, sms, policy or SmsCodePolicy(), clock, code_factory, pause=pauses)
        return World(codes, sms, clock, pauses, redis, prefix)

    return make


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    return make_world()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_an_issued_code_is_delivered_with_its_template_and_verifies(world):
    phone = new_phone()
    issued = await world.codes.issue("login", phone, new_ip())
    assert issued == IssuedCode(purpose="login", resend_in_s=60, expires_in_s=300)
    message = await world.sms.latest(phone)
    assert message is not None
    assert (message.template, message.params["minutes"]) == ("SMS_LOGIN_CODE", "5")
    assert len(message.params["code"]) == 6
    assert message.params["code"].isdigit()
    await world.codes.verify("login", phone, message.params["code"])


async def test_a_phone_change_code_uses_its_own_template_and_only_verifies_for_that_purpose(world):
    phone = new_phone()
    await world.codes.issue("change_phone", phone, None)
    message = await world.sms.latest(phone)
    assert message is not None
    assert message.template == "SMS_CHANGE_PHONE_CODE"
    with pytest.raises(SmsCodeExpired):
        await world.codes.verify("login", phone, message.params["code"])
    await world.codes.verify("change_phone", phone, message.params["code"])


async def test_a_used_code_cannot_be_replayed(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    code = await world.delivered_code(phone)
    await world.codes.verify("login", phone, code)
    with pytest.raises(SmsCodeExpired):
        await world.codes.verify("login", phone, code)


async def test_a_wrong_code_is_refused_with_422_and_the_tries_left(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    wrong = f"{(int(await world.delivered_code(phone)) + 1) % 10**6:06d}"
    with pytest.raises(SmsCodeWrong) as refused:
        await world.codes.verify("login", phone, wrong)
    assert (refused.value.status, refused.value.data) == (422, {"tries_left": 4})
    assert refused.value.detail == "验证码错误，还可尝试 4 次"


async def test_the_fifth_wrong_code_burns_the_code_so_even_the_right_one_then_fails(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    code = await world.delivered_code(phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for tries_left in (4, 3, 2, 1):
        with pytest.raises(SmsCodeWrong) as refused:
            await world.codes.verify("login", phone, wrong)
        assert refused.value.data["tries_left"] == tries_left
    with pytest.raises(SmsCodeLocked) as locked:
        await world.codes.verify("login", phone, wrong)
    assert (locked.value.status, locked.value.detail) == (429, "验证码错误次数过多，已失效，请重新获取验证码")
    with pytest.raises(SmsCodeLocked):
        await world.codes.verify("login", phone, code)


async def test_a_burnt_code_is_replaced_by_a_new_one_after_the_cooldown(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    wrong = f"{(int(await world.delivered_code(phone)) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises((SmsCodeWrong, SmsCodeLocked)):
            await world.codes.verify("login", phone, wrong)
    world.clock.advance(60)
    await world.codes.issue("login", phone, None)
    await world.codes.verify("login", phone, await world.delivered_code(phone))


async def test_a_code_is_good_until_300_seconds_by_the_clock_and_expired_after(world):
    early, late = new_phone(), new_phone()
    await world.codes.issue("login", early, None)
    await world.codes.issue("login", late, None)
    world.clock.advance(299)
    await world.codes.verify("login", early, await world.delivered_code(early))
    world.clock.advance(1)
    with pytest.raises(SmsCodeExpired) as expired:
        await world.codes.verify("login", late, await world.delivered_code(late))
    assert (expired.value.status, expired.value.detail) == (422, "验证码已失效，请重新获取验证码")


async def test_redis_forgets_a_code_a_little_after_it_expires(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    ttl_s = await world.redis.ttl(world.codes.key_of("login", phone))
    assert 300 < ttl_s <= 360


async def test_a_code_never_issued_reads_exactly_like_an_expired_one(world):
    with pytest.raises(SmsCodeExpired) as never:
        await world.codes.verify("login", new_phone(), "123456")
    assert (never.value.status, never.value.code, never.value.detail) == (
        422,
        "sms_code_expired",
        "验证码已失效，请重新获取验证码",
    )


async def test_a_new_code_replaces_the_previous_one(make_world):
    world = make_world(code_factory=iter(["111111", "222222"]).__next__)
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    world.clock.advance(60)
    await world.codes.issue("login", phone, None)
    with pytest.raises(SmsCodeWrong):
        await world.codes.verify("login", phone, "111111")
    await world.codes.verify("login", phone, "222222")


async def test_a_second_code_within_60_seconds_is_refused_with_the_seconds_to_wait(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    world.clock.advance(45)
    with pytest.raises(SmsCodeCooldown) as refused:
        await world.codes.issue("login", phone, None)
    assert (refused.value.status, refused.value.detail) == (429, "请 15 秒后再获取验证码")
    assert refused.value.data == {"retry_after_s": 15}
    assert await world.delivered_count(phone) == 1
    world.clock.advance(15)
    await world.codes.issue("login", phone, None)
    assert await world.delivered_count(phone) == 2


async def test_the_cooldown_is_kept_per_purpose(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    await world.codes.issue("change_phone", phone, None)
    with pytest.raises(SmsCodeCooldown):
        await world.codes.issue("change_phone", phone, None)


async def test_a_phone_gets_at_most_ten_codes_a_day(world):
    phone = new_phone()
    for _ in range(10):
        await world.codes.issue("login", phone, new_ip())
        world.clock.advance(60)
    with pytest.raises(SmsCodeRateLimited) as refused:
        await world.codes.issue("change_phone", phone, new_ip())
    wait_s = 24 * 3600 - 10 * 60
    assert (refused.value.status, refused.value.data) == (429, {"retry_after_s": wait_s})
    assert refused.value.detail == "获取验证码次数过多，请 24 小时后再试"
    world.clock.advance(wait_s)
    await world.codes.issue("login", phone, new_ip())
    assert await world.delivered_count(phone) == 11


async def test_an_address_gets_at_most_its_limit_of_codes_an_hour_whatever_the_phones(make_world):
    world = make_world(SmsCodePolicy(ip_limit=3))
    ip = new_ip()
    for _ in range(3):
        await world.codes.issue("login", new_phone(), ip)
    world.clock.advance(30 * 60)
    refused_phone = new_phone()
    with pytest.raises(SmsCodeRateLimited) as refused:
        await world.codes.issue("login", refused_phone, ip)
    assert refused.value.detail == "获取验证码次数过多，请 30 分钟后再试"
    assert await world.sms.latest(refused_phone) is None
    await world.codes.issue("login", new_phone(), new_ip())
    world.clock.advance(30 * 60)
    await world.codes.issue("login", refused_phone, ip)


async def test_ipv6_addresses_in_one_64_share_their_limit(make_world):
    world = make_world(SmsCodePolicy(ip_limit=2))
    await world.codes.issue("login", new_phone(), "2001:db8:1:2::1")
    await world.codes.issue("login", new_phone(), "2001:db8:1:2:ffff::9")
    with pytest.raises(SmsCodeRateLimited):
        await world.codes.issue("login", new_phone(), "2001:db8:1:2::abcd")
    await world.codes.issue("login", new_phone(), "2001:db8:1:3::1")


async def test_a_refused_request_does_not_count_against_the_limits(make_world):
    world = make_world(SmsCodePolicy(phone_limit=2))
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    for _ in range(5):
        with pytest.raises(SmsCodeCooldown):
            await world.codes.issue("login", phone, None)
    world.clock.advance(60)
    await world.codes.issue("login", phone, None)


async def test_without_delivery_nothing_is_sent_but_the_caller_sees_the_same_answer_and_cooldown(world):
    known, unknown = new_phone(), new_phone()
    delivered = await world.codes.issue("login", known, None)
    silent = await world.codes.issue("login", unknown, None, deliver=False)
    assert silent == delivered
    assert await world.sms.latest(unknown) is None
    with pytest.raises(SmsCodeCooldown) as refused_known:
        await world.codes.issue("login", known, None)
    with pytest.raises(SmsCodeCooldown) as refused_unknown:
        await world.codes.issue("login", unknown, None, deliver=False)
    assert refused_unknown.value.detail == refused_known.value.detail


async def test_without_delivery_the_answer_waits_about_as_long_as_a_recent_delivery(world):
    await world.codes.issue("login", new_phone(), None)
    assert world.pauses.taken_s == []
    await world.codes.issue("login", new_phone(), None, deliver=False)
    assert len(world.pauses.taken_s) == 1
    assert 0 < world.pauses.taken_s[0] <= 3.0


async def test_a_code_issued_without_delivery_counts_against_the_limits(make_world):
    world = make_world(SmsCodePolicy(ip_limit=1))
    ip = new_ip()
    await world.codes.issue("login", new_phone(), ip, deliver=False)
    with pytest.raises(SmsCodeRateLimited):
        await world.codes.issue("login", new_phone(), ip)


async def test_of_concurrent_requests_for_one_phone_exactly_one_gets_a_code(world):
    phone = new_phone()
    outcomes = await asyncio.gather(
        *(world.codes.issue("login", phone, new_ip()) for _ in range(8)), return_exceptions=True
    )
    assert sum(isinstance(o, IssuedCode) for o in outcomes) == 1
    assert sum(isinstance(o, SmsCodeCooldown) for o in outcomes) == 7
    assert await world.delivered_count(phone) == 1


async def test_of_concurrent_verifications_with_the_right_code_exactly_one_succeeds(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    code = await world.delivered_code(phone)
    outcomes = await asyncio.gather(
        *(world.codes.verify("login", phone, code) for _ in range(6)), return_exceptions=True
    )
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, SmsCodeExpired) for o in outcomes if o is not None)


async def test_concurrent_wrong_codes_spend_exactly_the_allowed_tries(world):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    code = await world.delivered_code(phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    outcomes = await asyncio.gather(
        *(world.codes.verify("login", phone, wrong) for _ in range(9)), return_exceptions=True
    )
    assert sorted(o.data["tries_left"] for o in outcomes if isinstance(o, SmsCodeWrong)) == [1, 2, 3, 4]
    assert sum(isinstance(o, SmsCodeLocked) for o in outcomes) == 5
    with pytest.raises(SmsCodeLocked):
        await world.codes.verify("login", phone, code)


async def test_redis_holds_a_digest_of_the_code_and_never_the_code(make_world):
    world = make_world(code_factory=lambda: FIXED_CODE)
    phone = new_phone()
    await world.codes.issue("login", phone, new_ip())
    assert await world.delivered_code(phone) == FIXED_CODE
    record = await world.redis.hgetall(world.codes.key_of("login", phone))
    assert set(record) == {b"nonce", b"digest", b"issued_at_ms", b"tries"}
    stored: list[bytes] = []
    async for key in world.redis.scan_iter(match=f"{world.prefix}*"):
        kind = (await world.redis.type(key)).decode()
        if kind == "hash":
            stored += [*(await world.redis.hgetall(key)).values()]
        elif kind == "zset":
            stored += await world.redis.zrange(key, 0, -1)
        else:
            stored.append(await world.redis.get(key))
    assert stored
    assert not [value for value in stored if FIXED_CODE.encode() in value]


async def test_with_the_deployment_key_the_record_still_verifies_and_differs_from_a_keyless_digest(
    redis, redis_prefix
):
    run = uuid.uuid4().hex[:8]
    sms = DevSmsProvider(redis, f"{redis_prefix}{run}:dev:", ttl_s=120)
    keyed = SmsCodes(
        redis,
        f"{redis_prefix}{run}:keyed:",
        sms,
        SmsCodePolicy(),
        FakeClock(),
        lambda: FIXED_CODE,
        key=secrets.token_bytes(32),
        pause=Pauses(),
    )
    keyless = SmsCodes(
        redis,
        f"{redis_prefix}{run}:keyless:",
        sms,
        SmsCodePolicy(),
        FakeClock(),
        lambda: FIXED_CODE,
        pause=Pauses(),
    )
    phone = new_phone()
    await keyed.issue("login", phone, None)
    keyed_record = await redis.hgetall(keyed.key_of("login", phone))
    await redis.hset(keyless.key_of("login", phone), mapping=keyed_record)
    with pytest.raises(SmsCodeWrong):
        await keyless.verify("login", phone, FIXED_CODE)
    await keyed.verify("login", phone, FIXED_CODE)


def test_a_short_deployment_key_is_refused(world):
    with pytest.raises(ValueError, match="16 bytes"):
        SmsCodes(world.redis, world.prefix, world.sms, SmsCodePolicy(), key=b"short")


async def test_nothing_logged_holds_the_code_or_the_full_phone(make_world, logs):
    world = make_world(code_factory=lambda: FIXED_CODE)
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    with pytest.raises(SmsCodeWrong):
        await world.codes.verify("login", phone, "000000")
    await world.codes.verify("login", phone, FIXED_CODE)
    with pytest.raises(SmsCodeCooldown):
        await world.codes.issue("login", phone, None)
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in logs.records]
    masked = f"{phone[:3]}****{phone[-4:]}"
    assert any("identity.sms_code_verified" in line and masked in line for line in lines)
    assert not [line for line in lines if FIXED_CODE in line or phone in line]


@pytest.mark.parametrize("typed", ["12345", "1234567", "12345a", "", "１２３４５", "12 345", "１" * 40])
async def test_a_malformed_code_is_refused_with_422_without_spending_a_try(world, typed):
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    with pytest.raises(SmsCodeMalformed) as refused:
        await world.codes.verify("login", phone, typed)
    assert (refused.value.status, refused.value.detail) == (422, "请输入短信中的 6 位数字验证码")
    record = await world.redis.hgetall(world.codes.key_of("login", phone))
    assert record[b"tries"] == b"0"


async def test_full_width_digits_from_a_chinese_input_method_are_read_as_the_code(make_world):
    world = make_world(code_factory=lambda: FIXED_CODE)
    phone = new_phone()
    await world.codes.issue("login", phone, None)
    await world.codes.verify("login", phone, " ７３９１４６ ")


@pytest.mark.parametrize("phone", ["12812345678", "1391234567", "+8613912345678", "*"])
async def test_an_invalid_phone_is_refused_before_anything_is_stored_or_sent(world, phone):
    with pytest.raises(InvalidPhone):
        await world.codes.issue("login", phone, None)
    with pytest.raises(InvalidPhone):
        await world.codes.verify("login", phone, "123456")
    assert [key async for key in world.redis.scan_iter(match=f"{world.prefix}*")] == []


async def test_an_unreachable_redis_surfaces_as_redis_unavailable(world):
    down = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        codes = SmsCodes(down, "tbtest:nowhere:", world.sms, SmsCodePolicy(redis_timeout_s=2))
        with pytest.raises(RedisUnavailable):
            await codes.issue("login", new_phone(), None)
        with pytest.raises(RedisUnavailable):
            await codes.verify("login", new_phone(), "123456")
    finally:
        await down.aclose()


def test_the_default_policy_is_six_digits_for_five_minutes_once_a_minute_ten_a_day_thirty_an_hour():
    policy = SmsCodePolicy()
    assert (policy.digits, policy.valid_s, policy.resend_cooldown_s, policy.max_wrong_tries) == (
        6,
        300,
        60,
        5,
    )
    assert (policy.phone_limit, policy.phone_window_s) == (10, 24 * 3600)
    assert (policy.ip_limit, policy.ip_window_s) == (30, 3600)


def test_default_codes_are_six_digits_spread_over_the_whole_range():
    codes = [new_code() for _ in range(2000)]
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)
    assert {c[0] for c in codes} == set("0123456789")
    assert len(set(codes)) > 1900


async def test_a_code_factory_that_breaks_the_policy_is_a_programming_error(make_world):
    world = make_world(code_factory=lambda: "12345")
    with pytest.raises(ValueError, match="6 ASCII digits"):
        await world.codes.issue("login", new_phone(), None)


@pytest.mark.parametrize("purpose", ["login", "change_phone"])
async def test_each_purpose_delivers_a_code_that_says_how_many_minutes_it_lasts(make_world, purpose: Purpose):
    world = make_world(SmsCodePolicy(valid_s=600))
    phone = new_phone()
    issued = await world.codes.issue(purpose, phone, None)
    message = await world.sms.latest(phone)
    assert message is not None
    assert message.params["minutes"] == "10"
    assert issued.expires_in_s == 600
