"""SMS providers: the `SmsProvider` interface, `DevSmsProvider` (Redis, for development, the demo and
tests) and `HttpSmsProvider` (the real gateway).

The gateway's HTTP contract, spoken by `clients.sms.stub`:

    POST <gateway url>                       Content-Type: application/json
    X-App-Key: <app key>                     X-Timestamp: <Unix seconds>
    X-Nonce: <random, unique per request>    X-Signature-Method: HMAC-SHA256
    X-Signature: hex HMAC-SHA256(secret, app_key "\\n" timestamp "\\n" nonce "\\n" body)
    {"phone": "13812345678", "template": "SMS_LOGIN_CODE", "params": {"code": "123456"},
     "request_id": "<our message id: the idempotency key>"}

    answer: {"code": "OK" | <error code>, "message": "<free text>", "biz_id": "<gateway's id>" | null}
    200 OK                  accepted; a request_id seen before answers its first biz_id, not sent again
    400 MALFORMED_REQUEST, INVALID_PHONE, PHONE_BLOCKED, INVALID_TEMPLATE, INVALID_PARAMS
    401 UNKNOWN_APP, BAD_SIGNATURE, STALE_TIMESTAMP (more than 300 s from the gateway's clock)
    409 REPLAYED_NONCE      a nonce seen within the timestamp window
    429 RATE_LIMITED        too many messages to this number
    5xx UNAVAILABLE         (or any body) try again: same request_id, fresh timestamp and nonce

`HttpSmsProvider` retries only 5xx answers, connection errors and attempts that outlive their time
limit, with exponential backoff; the unchanged request_id makes a retry safe when the gateway did
take the first try. Rejected numbers and templates become 422s, rate limits a 429, and the rest
(gateway down, or refusing our credentials) `Unavailable` (see `clients.sms.errors`).
Must not: log the code, the params, the full phone number or the gateway's free text; read the
settings (the caller passes a `GatewayConfig` built from them); or send without a time limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from clients.sms.errors import (
    SmsFailure,
    SmsGatewayRefused,
    SmsPhoneRejected,
    SmsRateLimited,
    SmsTemplateRejected,
    SmsUnavailable,
)
from clients.sms.models import (
    GatewayCode,
    GatewayRequest,
    GatewayResponse,
    SmsMessage,
    SmsReceipt,
    mask_phone,
    require_phone,
)
from clients.sms.signing import new_nonce, signed_headers
from server.errors import RedisUnavailable

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# A login code is typed within minutes; the dev list outlives its use without piling up.
DEV_KEEP = 10
DEV_TTL_S = 10 * 60
DEV_TIMEOUT_S = 2.0
# One attempt must fit well inside a user's wait for "code sent"; three attempts with 0.2 s and
# 0.4 s pauses stay under ten seconds in the worst case.
HTTP_TIMEOUT_S = 3.0
HTTP_MAX_ATTEMPTS = 3
HTTP_BACKOFF_S = 0.2

_REJECTIONS: dict[str, type[SmsFailure]] = {
    GatewayCode.INVALID_PHONE: SmsPhoneRejected,
    GatewayCode.PHONE_BLOCKED: SmsPhoneRejected,
    GatewayCode.INVALID_TEMPLATE: SmsTemplateRejected,
    GatewayCode.INVALID_PARAMS: SmsTemplateRejected,
    GatewayCode.RATE_LIMITED: SmsRateLimited,
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class SmsProvider(Protocol):
    async def send(self, message: SmsMessage) -> SmsReceipt:
        """Hand the message over for delivery, or raise an `SmsFailure` (or `RedisUnavailable`)."""
        ...


class DevSmsProvider:
    """Keeps each phone's newest messages in a Redis list (`<prefix>sms:dev:<phone>`, capped, with a
    TTL) instead of sending them, so the demo page and tests can show the latest code."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        keep: int = DEV_KEEP,
        ttl_s: int = DEV_TTL_S,
        timeout_s: float = DEV_TIMEOUT_S,
        now: Clock = utc_now,
    ) -> None:
        if keep < 1 or ttl_s < 1:
            raise ValueError("keep and ttl_s must be positive")
        self._redis, self._prefix, self._keep, self._ttl_s = redis, prefix, keep, ttl_s
        self._timeout_s, self._now = timeout_s, now

    def key_of(self, phone: str) -> str:
        return f"{self._prefix}sms:dev:{require_phone(phone)}"

    async def send(self, message: SmsMessage) -> SmsReceipt:
        key = self.key_of(message.phone)
        try:
            async with asyncio.timeout(self._timeout_s), self._redis.pipeline(transaction=True) as pipe:
                pipe.lpush(key, message.model_dump_json())
                pipe.ltrim(key, 0, self._keep - 1)
                pipe.expire(key, self._ttl_s)
                await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            raise RedisUnavailable() from exc
        logger.info("sms.stored", extra=_log_fields(message, provider="dev"))
        return SmsReceipt(
            message_id=message.message_id,
            provider="dev",
            biz_id=f"dev-{message.message_id}",
            accepted_at=self._now(),
            attempts=1,
        )

    async def recent(self, phone: str) -> list[SmsMessage]:
        """The phone's kept messages, newest first."""
        key = self.key_of(phone)
        try:
            async with asyncio.timeout(self._timeout_s):
                raw: list[bytes | str] = await self._redis.lrange(key, 0, self._keep - 1)  # type: ignore[misc]
        except (RedisError, OSError, TimeoutError) as exc:
            raise RedisUnavailable() from exc
        return [SmsMessage.model_validate_json(item) for item in raw]

    async def latest(self, phone: str) -> SmsMessage | None:
        messages = await self.recent(phone)
        return messages[0] if messages else None


class GatewayConfig(BaseModel):
    """Where the gateway is and how we sign and pace requests to it (built from the settings)."""

    model_config = ConfigDict(frozen=True)

    url: str = Field(pattern=r"^https?://")
    app_key: str = Field(min_length=1)
    secret: SecretStr
    timeout_s: float = Field(default=HTTP_TIMEOUT_S, gt=0)
    max_attempts: int = Field(default=HTTP_MAX_ATTEMPTS, ge=1, le=5)
    backoff_s: float = Field(default=HTTP_BACKOFF_S, ge=0)

    def pause_s(self, attempt: int) -> float:
        """The longest pause after failed attempt `attempt` (1-based); the actual one is jittered."""
        return float(self.backoff_s * 2 ** (attempt - 1))

    @property
    def worst_case_s(self) -> float:
        """The longest `HttpSmsProvider.send` can take."""
        pauses = sum(self.pause_s(n) for n in range(1, self.max_attempts))
        return self.max_attempts * self.timeout_s + pauses


class HttpSmsProvider:
    """Sends through the gateway described in this module's docstring. Close it with `aclose()` (or
    use it as an async context manager) unless you passed your own `http` client."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        http: httpx.AsyncClient | None = None,
        now: Clock = utc_now,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        self._config, self._now, self._nonce = config, now, nonce
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(config.timeout_s))

    async def __aenter__(self) -> HttpSmsProvider:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def send(self, message: SmsMessage) -> SmsReceipt:
        require_phone(message.phone)  # a model_construct'ed message skipped validation
        body = GatewayRequest.of(message).model_dump_json().encode()
        attempts = self._config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = await self._post(body)
            except (httpx.TransportError, TimeoutError) as exc:
                reason = type(exc).__name__
            else:
                if response.status_code < 500:
                    return self._receipt(message, response, attempt)
                reason = f"http_{response.status_code}"
            if attempt < attempts:
                pause_s = self._config.pause_s(attempt) * random.uniform(0.5, 1.0)
                logger.warning(
                    "sms.retrying", extra={**_log_fields(message), "attempt": attempt, "reason": reason}
                )
                await asyncio.sleep(pause_s)
        logger.warning(
            "sms.unavailable", extra={**_log_fields(message), "attempts": attempts, "reason": reason}
        )
        raise SmsUnavailable(attempts=attempts)

    async def _post(self, body: bytes) -> httpx.Response:
        cfg = self._config
        timestamp_s = int(self._now().timestamp())
        headers = signed_headers(cfg.app_key, cfg.secret.get_secret_value(), body, timestamp_s, self._nonce())
        # httpx limits each phase (connect, each read); this limits the whole attempt, so a gateway
        # that drips bytes cannot hold us either.
        async with asyncio.timeout(cfg.timeout_s):
            return await self._http.post(cfg.url, content=body, headers=headers)

    def _receipt(self, message: SmsMessage, response: httpx.Response, attempt: int) -> SmsReceipt:
        try:
            answer = GatewayResponse.model_validate_json(response.content)
        except ValidationError:
            answer = None
        if answer is not None and answer.code == GatewayCode.OK:
            if response.is_success and answer.biz_id:
                logger.info(
                    "sms.sent", extra={**_log_fields(message), "biz_id": answer.biz_id, "attempts": attempt}
                )
                return SmsReceipt(
                    message_id=message.message_id,
                    provider="http",
                    biz_id=answer.biz_id,
                    accepted_at=self._now(),
                    attempts=attempt,
                )
            answer = None  # "OK" without an id, or with an error status: not an answer we understand
        if answer is None:
            logger.error("sms.bad_answer", extra={**_log_fields(message), "status": response.status_code})
            raise SmsUnavailable(attempts=attempt)
        fields = {**_log_fields(message), "status": response.status_code, "gateway_code": answer.code}
        failure = _REJECTIONS.get(answer.code)
        if failure is None:
            # Our credentials, clock or nonces are wrong, or the gateway changed: nothing the user can fix.
            logger.error("sms.gateway_refused", extra=fields)
            raise SmsGatewayRefused(gateway_code=answer.code, attempts=attempt)
        logger.info("sms.rejected", extra=fields)
        raise failure(gateway_code=answer.code, attempts=attempt)


def _log_fields(message: SmsMessage, **more: str) -> dict[str, str]:
    return {
        "message_id": message.message_id,
        "phone": mask_phone(message.phone),
        "template": message.template,
        **more,
    }
