"""Opens what the identity operations need, once per process: sessions, lockout, SMS codes and their
provider, personal-data sealing, the verified permission table.

Must not: be called per request.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from clients.sms.client import DevSmsProvider, GatewayConfig, HttpSmsProvider, SmsProvider
from server.audit.service import AUDIT_KEY
from server.config import Settings
from server.errors import Unavailable
from server.identity import acl
from server.identity.lockout import Lockout
from server.identity.passwords import PRESETS
from server.identity.pii import Pii
from server.identity.service import Identity
from server.identity.sessions import SIGNING_KEY, SessionStore
from server.identity.sms_codes import HMAC_KEY as SMS_CODE_KEY
from server.identity.sms_codes import SmsCodePolicy, SmsCodes
from server.keystore import KeyRing


class SmsMisconfigured(RuntimeError):
    """`sms_provider=http` without the gateway's URL, key or secret."""


@dataclass
class IdentityParts:
    identity: Identity
    sessions: SessionStore
    acl: acl.PermissionCache
    dev_sms: DevSmsProvider | None
    sms: SmsProvider

    async def aclose(self) -> None:
        if isinstance(self.sms, HttpSmsProvider):
            await self.sms.aclose()


def sms_provider(settings: Settings, redis: Redis) -> SmsProvider:
    if settings.sms_provider == "dev":
        return DevSmsProvider(redis, settings.redis_prefix, timeout_s=settings.redis_timeout_s)
    if not (settings.sms_gateway_url and settings.sms_gateway_app_key and settings.sms_gateway_secret):
        raise SmsMisconfigured(
            "TONGBAN_SMS_PROVIDER=http needs TONGBAN_SMS_GATEWAY_URL, _APP_KEY and _SECRET"
        )
    return HttpSmsProvider(
        GatewayConfig(
            url=settings.sms_gateway_url, app_key=settings.sms_gateway_app_key, secret=settings.sms_gateway_secret,
            timeout_s=settings.sms_timeout_s, max_attempts=settings.sms_max_attempts,
        )
    )  # fmt: skip


async def open_identity(settings: Settings, pool: Any, redis: Redis, keys: KeyRing) -> IdentityParts:
    sms = sms_provider(settings, redis)
    sessions = SessionStore(
        redis,
        settings.redis_prefix,
        keys.key(SIGNING_KEY),
        settings.session_ttl_s,
        settings.session_absolute_s,
    )
    acl_key, audit_key = keys.key(acl.ACL_KEY), keys.key(AUDIT_KEY)
    identity = Identity(
        pool=pool,
        sessions=sessions,
        lockout=Lockout(redis, settings.redis_prefix, settings.login_max_failures, settings.login_lock_s),
        codes=SmsCodes(redis, settings.redis_prefix, sms, SmsCodePolicy(), key=keys.key(SMS_CODE_KEY)),
        pii=Pii(keys, settings.pii_key_version),
        acl_key=acl_key,
        audit_key=audit_key,
        policy=PRESETS[settings.password_policy],
    )
    cache = acl.PermissionCache(pool, redis, settings.redis_prefix, acl_key, audit_key)
    with contextlib.suppress(Unavailable):  # pending migrations: the server starts and /readyz says so
        await cache.table()  # verify the table at start: tampered rows are reported now, not at first use
    dev = sms if isinstance(sms, DevSmsProvider) else None
    return IdentityParts(identity, sessions, cache, dev, sms)
