"""Identity operations: password and SMS-code login, password and phone changes, logout records.

Every attempt is recorded in the audit chain, success or failure. Failures never say whether an
account exists: an unknown name, a wrong password and a disabled account get the same answer and take
the same time. Must not: import Starlette, or log passwords, codes or phone numbers.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from redis.exceptions import RedisError

from server.audit import service as audit
from server.audit.models import AuditRecord, Outcome
from server.errors import RedisUnavailable, TongbanError
from server.identity import sql, users
from server.identity.lockout import Lockout
from server.identity.models import CurrentUser, DemoAccount, SmsCodeOut
from server.identity.passwords import (
    PasswordPolicy,
    check_not_reused,
    check_password,
    hash_password_async,
    password_expired,
    verify_password_async,
)
from server.identity.pii import Pii
from server.identity.sessions import SessionStore
from server.identity.sms_codes import CODE_VALID_S, GC_GRACE_S, SmsCodeExpired, SmsCodes
from server.identity.users import AccountTampered, UserRow
from server.identity.validators import validate_mobile

T = TypeVar("T")
REDIS_TIMEOUT_S = 2.0
LOCKED_NOW = "登录失败次数过多，账号已暂时锁定"  # the failure that set the lock


class LoginFailed(TongbanError):
    status, code, message = 401, "login_failed", "用户名或密码错误"


class SmsLoginFailed(TongbanError):
    status, code, message = 401, "login_failed", "手机号或验证码错误"


class WrongPassword(TongbanError):
    status, code, message = 403, "wrong_password", "当前密码不正确"


@dataclass(frozen=True)
class Identity:
    """What the identity operations need, opened once per process."""

    pool: Any
    sessions: SessionStore
    lockout: Lockout
    codes: SmsCodes
    pii: Pii
    acl_key: bytes
    audit_key: bytes
    policy: PasswordPolicy


async def _audit(
    conn: Any, identity: Identity, action: str, outcome: Outcome, *, login: str | None, user: UserRow | None,
    ip: str | None, **detail: object,
) -> None:  # fmt: skip
    record = AuditRecord(
        action=action, outcome=outcome, ip=ip, actor_login=user.login if user else login,
        actor_id=user.id if user else None, org_id=user.org_id if user else None, detail=detail,
    )  # fmt: skip
    await audit.append(conn, identity.audit_key, record)


async def password_login(
    identity: Identity, login: str, password: str, ip: str | None
) -> tuple[UserRow, bool]:
    """The user, and whether their password has passed its maximum age (they must change it first)."""
    await identity.lockout.check(login)
    async with identity.pool.acquire() as conn:
        lookup = users.find_by_login(conn, identity.pii, identity.acl_key, login)
        user = await _checked(identity, conn, ip, lookup, login=login, method="password")
    # Hash with no database connection held: ~90 ms of CPU each, and a burst of logins must not take
    # the pool from everyone else (loadtest/RESULTS.md, 2026-11-28).
    usable = user is not None and user.status == "active"
    verdict = await verify_password_async(user.password_hash if usable and user else None, password)
    new_hash = await hash_password_async(password) if verdict.needs_rehash else None
    async with identity.pool.acquire() as conn:
        if not verdict.matches:
            async with conn.transaction():
                await _audit(conn, identity, "identity.login", "failure", login=login, user=user, ip=ip,
                             method="password")  # fmt: skip
            tries_left = await identity.lockout.fail(login)
            raise LoginFailed(f"用户名或密码错误，还可尝试 {tries_left} 次" if tries_left else LOCKED_NOW)
        assert user is not None
        await identity.lockout.succeed(login)
        async with conn.transaction():
            if new_hash is not None:
                await users.set_password(conn, user.id, new_hash)
            await _audit(
                conn, identity, "identity.login", "success", login=login, user=user, ip=ip, method="password"
            )
    expired = user.password_changed_at is not None and password_expired(
        identity.policy, user.password_changed_at, datetime.now(UTC)
    )
    return user, expired


async def _checked(
    identity: Identity, conn: Any, ip: str | None, lookup: Awaitable[UserRow | None], *, login: str | None,
    method: str,
) -> UserRow | None:  # fmt: skip
    """The account `lookup` finds; one whose role assignment or sealed data was changed behind the
    application's back is reported in the audit chain before it is refused."""
    try:
        return await lookup
    except AccountTampered as exc:
        async with conn.transaction():
            record = AuditRecord(
                action="security.account_tampered", outcome="failure", actor_login=login, ip=ip,
                target=f"user:{exc.user_id}", detail={"method": method},
            )  # fmt: skip
            await audit.append(conn, identity.audit_key, record)
        raise


async def issue_login_code(identity: Identity, phone: str, ip: str | None) -> SmsCodeOut:
    """Send a login code to `phone` if an active account has it; answer the same either way."""
    phone = validate_mobile(phone)
    async with identity.pool.acquire() as conn:
        lookup = users.find_by_phone(conn, identity.pii, identity.acl_key, phone)
        user = await _checked(identity, conn, ip, lookup, login=None, method="sms")
    deliver = user is not None and user.status == "active"
    issued = await identity.codes.issue("login", phone, ip, deliver=deliver)
    return SmsCodeOut(resend_in_s=issued.resend_in_s, expires_in_s=issued.expires_in_s)


async def sms_login(identity: Identity, phone: str, code: str, ip: str | None) -> UserRow:
    phone = validate_mobile(phone)
    async with identity.pool.acquire() as conn:
        lookup = users.find_by_phone(conn, identity.pii, identity.acl_key, phone)
        user = await _checked(identity, conn, ip, lookup, login=None, method="sms")
        try:
            await identity.codes.verify("login", phone, code)
        except TongbanError:
            async with conn.transaction():
                await _audit(
                    conn, identity, "identity.login", "failure", login=None, user=user, ip=ip, method="sms"
                )
            raise
        if user is None or user.status != "active":
            raise SmsLoginFailed()
        async with conn.transaction():
            await _audit(
                conn, identity, "identity.login", "success", login=None, user=user, ip=ip, method="sms"
            )
    return user


async def _check_current_password(identity: Identity, user: CurrentUser, password: str) -> UserRow:
    """Re-authentication inside a session counts against the login name's lockout like a login does:
    whoever holds a stolen session must not get unlimited guesses at the password behind it.
    Hashes with no database connection held."""
    await identity.lockout.check(user.login)
    async with identity.pool.acquire() as conn:
        row = await users.get_user(conn, identity.pii, identity.acl_key, user.id)
    if not (await verify_password_async(row.password_hash, password)).matches:
        tries_left = await identity.lockout.fail(user.login)
        raise WrongPassword(f"当前密码不正确，还可尝试 {tries_left} 次" if tries_left else LOCKED_NOW)
    await identity.lockout.succeed(user.login)
    return row


async def change_password(
    identity: Identity, user: CurrentUser, current: str, new: str, ip: str | None
) -> int:
    """Set a new password and end every session of the user (they log in again). Returns sessions closed."""
    check_password(identity.policy, new, login=user.login, display_name=user.display_name)
    row = await _check_current_password(identity, user, current)
    async with identity.pool.acquire() as conn:
        recent = await users.recent_password_hashes(conn, row.id, identity.policy.history_size)
    await check_not_reused(identity.policy, new, recent)
    new_hash = await hash_password_async(new)
    async with identity.pool.acquire() as conn, conn.transaction():
        await users.set_password(conn, row.id, new_hash)
        await _audit(conn, identity, "identity.password_change", "success", login=None, user=row, ip=ip)
    return await identity.sessions.close_all(user.id)


def _phone_change_key(identity: Identity, user: CurrentUser) -> str:
    return f"{identity.sessions.prefix}identity:phone_change:{user.id}"


async def _redis_call(call: Awaitable[T]) -> T:
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            return await call
    except (RedisError, OSError, TimeoutError) as exc:
        raise RedisUnavailable() from exc


async def issue_phone_change_code(
    identity: Identity, user: CurrentUser, new_phone: str, password: str, ip: str | None
) -> SmsCodeOut:
    """Re-authenticate with the password, then send a code to the new number (ASVS 7.5.1).

    Codes are kept per number, so the account that asked (after giving its password) is remembered
    beside it, by the number's blind index: a code asked for from one account (say the attacker's
    own) must not confirm the change on another (a session taken over without its password)."""
    new_phone = validate_mobile(new_phone)
    await _check_current_password(identity, user, password)
    pending_s = CODE_VALID_S + GC_GRACE_S
    await _redis_call(
        identity.sessions.redis.set(
            _phone_change_key(identity, user), identity.pii.index(new_phone), ex=pending_s
        )
    )
    issued = await identity.codes.issue("change_phone", new_phone, ip)
    return SmsCodeOut(resend_in_s=issued.resend_in_s, expires_in_s=issued.expires_in_s)


async def change_phone(
    identity: Identity, user: CurrentUser, new_phone: str, code: str, ip: str | None
) -> None:
    """Set the number a code was sent to, by the account that asked for the code (see above)."""
    new_phone = validate_mobile(new_phone)
    key = _phone_change_key(identity, user)
    pending = await _redis_call(identity.sessions.redis.get(key))
    asked = pending.decode() if isinstance(pending, bytes) else pending
    if asked is None or not hmac.compare_digest(asked, identity.pii.index(new_phone)):
        raise SmsCodeExpired()  # as for a number never sent a code: it was not sent one for this account
    await identity.codes.verify("change_phone", new_phone, code)
    async with identity.pool.acquire() as conn, conn.transaction():
        row = await users.get_user(conn, identity.pii, identity.acl_key, user.id)
        await users.set_phone(conn, identity.pii, row.id, new_phone)
        await _audit(conn, identity, "identity.phone_change", "success", login=None, user=row, ip=ip)
    await _redis_call(identity.sessions.redis.delete(key))


async def record_logout(identity: Identity, user: CurrentUser, ip: str | None, *, everywhere: bool) -> None:
    async with identity.pool.acquire() as conn, conn.transaction():
        record = AuditRecord(
            action="identity.logout_everywhere" if everywhere else "identity.logout", ip=ip,
            actor_id=user.id, actor_login=user.login, org_id=user.org_id,
        )  # fmt: skip
        await audit.append(conn, identity.audit_key, record)


async def list_demo_accounts(conn: Any) -> list[DemoAccount]:
    return [DemoAccount.model_validate(dict(r)) for r in await conn.fetch(sql.DEMO_USERS)]
