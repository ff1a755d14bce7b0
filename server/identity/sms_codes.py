"""One-time SMS codes for SMS-code login and phone-number changes: issue, rate-limit, verify, burn.

A code is kept in Redis only as HMAC-SHA256(key, purpose, phone, nonce, code): under the deployment's
key when one is passed (wire it with `KeyRing.key(HMAC_KEY)`), else under the record's own random
nonce, which still keeps the code out of Redis but lets whoever reads a dump try all 10^6 codes.
Validity, cooldown and rate windows are judged against the injected clock from timestamps stored
with each record; Redis TTLs (a little longer) only collect the garbage, so tests can move time.
Issuing checks the cooldown and both rate limits and records the code in one Lua script, so two
concurrent requests for one phone cannot both pass. Wrong tries are counted per code; the last
allowed wrong try burns the code, and a new code (after the cooldown) starts a new count, which
bounds guessing to `max_wrong_tries * phone_limit` per phone and window (50 in 10^6 a day).

`issue(..., deliver=False)` is for numbers that belong to no account: it checks and records
exactly as a real issue does, answers the same `IssuedCode`, and waits about as long as a real
delivery has recently taken instead of sending, so the answer tells an attacker nothing about
which numbers have accounts. Only failures of the gateway itself (503, or a number it refuses)
can still differ: a failed delivery keeps its code and cooldown, because a timed-out send may
have reached the phone.

Malformed codes (not `digits` digits after NFKC, which turns full-width IME digits into ASCII)
are refused with 422 before Redis is read and spend no try: they cannot match, so counting them
would punish typos without slowing any guesser.

Must not: store, log or return a code; log a full phone number or an IP; know about accounts,
HTTP or the database (callers decide what a verified code unlocks and whether to deliver).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import math
import random
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError

from clients.sms.client import SmsProvider
from clients.sms.models import SmsMessage, TemplateCode, mask_phone, require_phone
from server.errors import InvalidInput, RedisUnavailable, TongbanError

logger = logging.getLogger(__name__)

Purpose = Literal["login", "change_phone"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)
Clock = Callable[[], datetime]
Pause = Callable[[float], Awaitable[None]]

HMAC_KEY = "sms-code"  # name of the code-digest key in the key ring
# Defaults follow the flow control Chinese SMS gateways apply to verification codes (Aliyun:
# one a minute and ten a day per number) and their "5分钟内有效" templates.
CODE_DIGITS = 6
CODE_VALID_S = 5 * 60
RESEND_COOLDOWN_S = 60
MAX_WRONG_TRIES = 5
PHONE_LIMIT, PHONE_WINDOW_S = 10, 24 * 3600
# An office or a campus shares one address; 30 an hour lets it work and stops one host spraying numbers.
IP_LIMIT, IP_WINDOW_S = 30, 3600
REDIS_TIMEOUT_S = 2.0
# Redis keeps a record this much longer than it is valid, so the clock decides, never the TTL.
GC_GRACE_S = 60
# IPv6 hosts usually hold a whole /64: limiting single addresses would not limit them.
IPV6_PREFIX = 64
# Decoy waits start from a typical gateway round trip and follow the measured sends from then on.
DECOY_PRIOR_S, DECOY_MAX_S, DECOY_WEIGHT = 0.15, 3.0, 0.2
_MAX_TYPED_CHARS = 32
_REDIS_DOWN = (RedisError, OSError, TimeoutError)

# KEYS: code record, cooldown, phone window[, ip window]
# ARGV: now_ms, cooldown_ms, phone_window_ms, phone_limit, ip_window_ms, ip_limit, nonce, digest,
#       code_ttl_ms, cooldown_ttl_ms, grace_ms. Answers {0, 0} when issued, else {1 cooldown |
#       2 phone limit | 3 ip limit, milliseconds to wait}.
_ISSUE = """
local now = tonumber(ARGV[1])
local last = redis.call('GET', KEYS[2])
if last then
  local wait = tonumber(last) + tonumber(ARGV[2]) - now
  if wait > 0 then return {1, wait} end
end
local function wait_for(key, window, limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
local wait = wait_for(KEYS[3], tonumber(ARGV[3]), tonumber(ARGV[4]))
if wait > 0 then return {2, wait} end
if #KEYS == 4 then
  wait = wait_for(KEYS[4], tonumber(ARGV[5]), tonumber(ARGV[6]))
  if wait > 0 then return {3, wait} end
end
local grace = tonumber(ARGV[11])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[10])
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[7])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[3]) + grace)
if #KEYS == 4 then
  redis.call('ZADD', KEYS[4], ARGV[1], ARGV[7])
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[5]) + grace)
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'nonce', ARGV[7], 'digest', ARGV[8], 'issued_at_ms', ARGV[1], 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[9])
return {0, 0}
"""
# Both below act only on the record that was read (same nonce): a newer code is left alone.
# KEYS: code record; ARGV: nonce, max_wrong_tries. Answers 1 when the code was consumed.
_CONSUME = """
if redis.call('HGET', KEYS[1], 'nonce') ~= ARGV[1] then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'tries')) >= tonumber(ARGV[2]) then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""
# Answers the wrong tries so far (burning the code at the limit), or -1 when the record is gone.
_WRONG_TRY = """
if redis.call('HGET', KEYS[1], 'nonce') ~= ARGV[1] then return -1 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], 'digest') end
return tries
"""


class SmsCodeExpired(InvalidInput):
    """The code ran out, was used, was replaced by a newer one, or was never issued: one message for
    all, so the answer does not tell whether a number was ever sent a code."""

    code, message = "sms_code_expired", "验证码已失效，请重新获取验证码"


class SmsCodeWrong(InvalidInput):
    code, message = "sms_code_wrong", "验证码错误"

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"验证码错误，还可尝试 {tries_left} 次", tries_left=tries_left)


class SmsCodeMalformed(InvalidInput):
    code, message = "sms_code_malformed", "请输入短信中的数字验证码"

    def __init__(self, digits: int) -> None:
        super().__init__(f"请输入短信中的 {digits} 位数字验证码")


class SmsCodeThrottled(TongbanError):
    status, code, message = 429, "sms_code_throttled", "操作过于频繁，请稍后再试"


class SmsCodeLocked(SmsCodeThrottled):
    code, message = "sms_code_locked", "验证码错误次数过多，已失效，请重新获取验证码"


class SmsCodeCooldown(SmsCodeThrottled):
    code, message = "sms_code_cooldown", "请稍后再获取验证码"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"请 {retry_after_s} 秒后再获取验证码", retry_after_s=retry_after_s)


class SmsCodeRateLimited(SmsCodeThrottled):
    code, message = "sms_code_rate_limited", "获取验证码次数过多，请稍后再试"

    def __init__(self, retry_after_s: int) -> None:
        wait = _spoken_wait(retry_after_s)
        super().__init__(f"获取验证码次数过多，请 {wait}后再试", retry_after_s=retry_after_s)


class SmsCodePolicy(BaseModel):
    """How codes look, how long they live and how often they may be asked for and guessed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    digits: int = Field(default=CODE_DIGITS, ge=4, le=10)
    valid_s: int = Field(default=CODE_VALID_S, ge=60)
    resend_cooldown_s: int = Field(default=RESEND_COOLDOWN_S, ge=1)
    max_wrong_tries: int = Field(default=MAX_WRONG_TRIES, ge=1)
    phone_limit: int = Field(default=PHONE_LIMIT, ge=1, description="codes per phone per window")
    phone_window_s: int = Field(default=PHONE_WINDOW_S, ge=1)
    ip_limit: int = Field(default=IP_LIMIT, ge=1, description="codes per client address per window")
    ip_window_s: int = Field(default=IP_WINDOW_S, ge=1)
    login_template: TemplateCode = "SMS_LOGIN_CODE"
    change_phone_template: TemplateCode = "SMS_CHANGE_PHONE_CODE"
    redis_timeout_s: float = Field(default=REDIS_TIMEOUT_S, gt=0)

    def template_of(self, purpose: Purpose) -> str:
        return self.login_template if purpose == "login" else self.change_phone_template

    @property
    def valid_minutes(self) -> int:
        return math.ceil(self.valid_s / 60)


class IssuedCode(BaseModel):
    """What the UI may know about an issued code: when it may ask again and when the code expires.
    The same whether or not the code was delivered."""

    model_config = ConfigDict(frozen=True)

    type: Literal["identity.sms_code_issued"] = "identity.sms_code_issued"
    purpose: Purpose
    resend_in_s: int
    expires_in_s: int


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_code(digits: int = CODE_DIGITS) -> str:
    """A uniformly random code of `digits` decimal digits from the OS CSPRNG."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


class SmsCodes:
    """Issues and verifies one-time SMS codes; one instance per process, shared by all requests."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        provider: SmsProvider,
        policy: SmsCodePolicy,
        clock: Clock = utc_now,
        code_factory: Callable[[], str] | None = None,
        *,
        key: bytes | None = None,
        pause: Pause = asyncio.sleep,
    ) -> None:
        if key is not None and len(key) < 16:
            raise ValueError("the code-digest key must hold at least 16 bytes")
        self._redis, self._prefix, self._provider, self._policy = redis, prefix, provider, policy
        self._clock, self._key, self._pause = clock, key, pause
        self._new_code = code_factory or (lambda: new_code(policy.digits))
        self._issue = redis.register_script(_ISSUE)
        self._consume = redis.register_script(_CONSUME)
        self._wrong_try = redis.register_script(_WRONG_TRY)
        self._send_s = DECOY_PRIOR_S

    def key_of(self, purpose: Purpose, phone: str) -> str:
        """The Redis hash holding the phone's current code for `purpose` (digest, never the code)."""
        return f"{self._prefix}identity:sms_code:{_checked(purpose)}:{self._tag(require_phone(phone))}"

    def _tag(self, phone: str) -> str:
        """The phone number as it appears in key names: a keyed digest, so a Redis dump or `KEYS *` does
        not list people's numbers."""
        return hmac.new(self._key or b"tongban-sms-keys", phone.encode(), hashlib.sha256).hexdigest()[:32]

    async def issue(
        self, purpose: Purpose, phone: str, ip: str | None, *, deliver: bool = True
    ) -> IssuedCode:
        """Record a new code for (purpose, phone), replacing any earlier one, and send it unless
        `deliver` is false (see the module docstring). Raises `InvalidPhone`, `SmsCodeCooldown`,
        `SmsCodeRateLimited`, `RedisUnavailable`, or the provider's `SmsFailure`."""
        policy = self._policy
        key = self.key_of(purpose, phone)
        code, nonce = self._new_code(), secrets.token_hex(16)
        if not _well_formed(code, policy.digits):
            raise ValueError(f"code_factory must return {policy.digits} ASCII digits")
        now_ms = self._now_ms()
        tag = self._tag(require_phone(phone))
        keys = [key, self._key_for("sms_cooldown", purpose, tag), self._key_for("sms_phone", tag)]
        if ip is not None:
            keys.append(self._key_for("sms_ip", _ip_bucket(ip)))
        grace_ms = GC_GRACE_S * 1000
        args: list[str | int] = [
            now_ms,
            policy.resend_cooldown_s * 1000,
            policy.phone_window_s * 1000,
            policy.phone_limit,
            policy.ip_window_s * 1000,
            policy.ip_limit,
            nonce,
            self._digest(purpose, phone, nonce, code),
            policy.valid_s * 1000 + grace_ms,
            policy.resend_cooldown_s * 1000 + grace_ms,
            grace_ms,
        ]
        async with self._redis_call():
            verdict, wait_ms = await self._issue(keys=keys, args=args)
        fields = {"purpose": purpose, "phone": mask_phone(phone)}
        if verdict != 0:
            wait_s = max(1, math.ceil(int(wait_ms) / 1000))
            scope = {1: "cooldown", 2: "phone", 3: "ip"}[int(verdict)]
            logger.info("identity.sms_code_refused", extra={**fields, "reason": scope, "wait_s": wait_s})
            raise SmsCodeCooldown(wait_s) if scope == "cooldown" else SmsCodeRateLimited(wait_s)
        if deliver:
            await self._deliver(purpose, phone, code)
        else:
            await self._pause(min(self._send_s * random.uniform(0.8, 1.2), DECOY_MAX_S))
        logger.info("identity.sms_code_issued", extra={**fields, "delivered": deliver})
        return IssuedCode(purpose=purpose, resend_in_s=policy.resend_cooldown_s, expires_in_s=policy.valid_s)

    async def verify(self, purpose: Purpose, phone: str, code: str) -> None:
        """Return if `code` is the phone's current, unexpired code for `purpose`, and use it up;
        else raise `SmsCodeMalformed`, `SmsCodeWrong`, `SmsCodeExpired`, `SmsCodeLocked`,
        `InvalidPhone` or `RedisUnavailable`."""
        policy = self._policy
        key = self.key_of(purpose, phone)
        typed = unicodedata.normalize("NFKC", code).strip() if len(code) <= _MAX_TYPED_CHARS else ""
        if not _well_formed(typed, policy.digits):
            raise SmsCodeMalformed(policy.digits)
        fields = {"purpose": purpose, "phone": mask_phone(phone)}
        async with self._redis_call():
            raw: dict[Any, Any] = await self._redis.hgetall(key)  # type: ignore[misc]
        record = {_text(name): _text(value) for name, value in raw.items()}
        nonce, stored = record.get("nonce", ""), record.get("digest")
        if not record:
            raise _rejected(SmsCodeExpired(), "absent", fields)
        if stored is None or int(record.get("tries", "0")) >= policy.max_wrong_tries:
            raise _rejected(SmsCodeLocked(), "locked", fields)
        if self._now_ms() - int(record.get("issued_at_ms", "0")) >= policy.valid_s * 1000:
            raise _rejected(SmsCodeExpired(), "expired", fields)
        if hmac.compare_digest(stored, self._digest(purpose, phone, nonce, typed)):
            async with self._redis_call():
                consumed = await self._consume(keys=[key], args=[nonce, policy.max_wrong_tries])
            if int(consumed) != 1:  # a concurrent verify used it, or wrong tries burnt it meanwhile
                raise _rejected(SmsCodeExpired(), "raced", fields)
            logger.info("identity.sms_code_verified", extra=fields)
            return
        async with self._redis_call():
            tries = int(await self._wrong_try(keys=[key], args=[nonce, policy.max_wrong_tries]))
        if tries < 0:  # a newer code replaced the one this guess was checked against
            raise _rejected(SmsCodeExpired(), "replaced", fields)
        tries_left = policy.max_wrong_tries - tries
        error = SmsCodeWrong(tries_left) if tries_left > 0 else SmsCodeLocked()
        raise _rejected(error, "wrong", {**fields, "tries_left": max(tries_left, 0)})

    async def _deliver(self, purpose: Purpose, phone: str, code: str) -> None:
        message = SmsMessage(
            phone=phone,
            template=self._policy.template_of(purpose),
            params={"code": code, "minutes": str(self._policy.valid_minutes)},
            sent_at=self._clock(),
        )
        started = time.perf_counter()
        await self._provider.send(message)
        took_s = time.perf_counter() - started
        self._send_s += DECOY_WEIGHT * (min(took_s, DECOY_MAX_S) - self._send_s)

    def _digest(self, purpose: Purpose, phone: str, nonce: str, code: str) -> str:
        key = self._key if self._key is not None else bytes.fromhex(nonce)
        text = f"{purpose}\n{phone}\n{nonce}\n{code}".encode()
        return hmac.new(key, text, hashlib.sha256).hexdigest()

    def _key_for(self, kind: str, *parts: str) -> str:
        return ":".join((f"{self._prefix}identity:{kind}", *parts))

    def _now_ms(self) -> int:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return int(now.timestamp() * 1000)

    @asynccontextmanager
    async def _redis_call(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self._policy.redis_timeout_s):
                yield
        except _REDIS_DOWN as exc:
            logger.warning("identity.sms_code_redis_unavailable", extra={"error": type(exc).__name__})
            raise RedisUnavailable() from exc


def _rejected(error: TongbanError, reason: str, fields: Mapping[str, object]) -> TongbanError:
    logger.info("identity.sms_code_rejected", extra={**fields, "reason": reason})
    return error


def _checked(purpose: Purpose) -> Purpose:
    if purpose not in PURPOSES:  # a caller that ignored the type hints
        raise ValueError(f"unknown SMS code purpose {purpose!r}")
    return purpose


def _well_formed(code: str, digits: int) -> bool:
    return len(code) == digits and code.isascii() and code.isdigit()


def _ip_bucket(ip: str) -> str:
    """The address the per-IP limit counts under: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "raw-" + hashlib.sha256(ip.encode()).hexdigest()[:32]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _spoken_wait(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} 分钟"
    return f"{math.ceil(seconds / 3600)} 小时"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
