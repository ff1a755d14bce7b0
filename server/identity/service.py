"""Identity operations: password and SMS-code login, password and phone changes, logout records.

Every attempt is recorded in the audit chain, success or failure. Failures never say whether an
account exists: an unknown name, a wrong password and a disabled account get the same answer and take
the same time. Must not: import Starlette, or log passwords, codes or phone numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from server.audit import service as audit
from server.audit.models import AuditRecord, Outcome
from server.errors import TongbanError
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
from server.identity.sms_codes import SmsCodes
from server.identity.users import UserRow
from server.identity.validators import validate_mobile


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
        user = await users.find_by_login(conn, identity.pii, identity.acl_key, login)
        usable = user is not None and user.status == "active"
        verdict = await verify_password_async(user.password_hash if usable and user else None, password)
        if not verdict.matches:
            left = await identity.lockout.fail(login)
            async with conn.transaction():
                await _audit(conn, identity, "identity.login", "failure", login=login, user=user, ip=ip,
                             method="password")  # fmt: skip
            message = f"用户名或密码错误，还可尝试 {left} 次" if left else "登录失败次数过多，账号已暂时锁定"
            raise LoginFailed(message)
        assert user is not None
        await identity.lockout.clear(login)
        async with conn.transaction():
            if verdict.needs_rehash:
                await users.set_password(conn, user.id, await hash_password_async(password))
            await _audit(
                conn, identity, "identity.login", "success", login=login, user=user, ip=ip, method="password"
            )
    expired = user.password_changed_at is not None and password_expired(
        identity.policy, user.password_changed_at, datetime.now(UTC)
    )
    return user, expired


async def issue_login_code(identity: Identity, phone: str, ip: str | None) -> SmsCodeOut:
    """Send a login code to `phone` if an active account has it; answer the same either way."""
    phone = validate_mobile(phone)
    async with identity.pool.acquire() as conn:
        user = await users.find_by_phone(conn, identity.pii, identity.acl_key, phone)
    deliver = user is not None and user.status == "active"
    issued = await identity.codes.issue("login", phone, ip, deliver=deliver)
    return SmsCodeOut(resend_in_s=issued.resend_in_s, expires_in_s=issued.expires_in_s)


async def sms_login(identity: Identity, phone: str, code: str, ip: str | None) -> UserRow:
    phone = validate_mobile(phone)
    async with identity.pool.acquire() as conn:
        user = await users.find_by_phone(conn, identity.pii, identity.acl_key, phone)
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


async def _check_current_password(identity: Identity, conn: Any, user: CurrentUser, password: str) -> UserRow:
    row = await users.get_user(conn, identity.pii, identity.acl_key, user.id)
    if not (await verify_password_async(row.password_hash, password)).matches:
        raise WrongPassword()
    return row


async def change_password(
    identity: Identity, user: CurrentUser, current: str, new: str, ip: str | None
) -> int:
    """Set a new password and end every session of the user (they log in again). Returns sessions closed."""
    check_password(identity.policy, new, login=user.login, display_name=user.display_name)
    async with identity.pool.acquire() as conn:
        row = await _check_current_password(identity, conn, user, current)
        await check_not_reused(
            identity.policy,
            new,
            await users.recent_password_hashes(conn, row.id, identity.policy.history_size),
        )
        new_hash = await hash_password_async(new)
        async with conn.transaction():
            await users.set_password(conn, row.id, new_hash)
            await _audit(conn, identity, "identity.password_change", "success", login=None, user=row, ip=ip)
    return await identity.sessions.close_all(user.id)


async def issue_phone_change_code(
    identity: Identity, user: CurrentUser, new_phone: str, password: str, ip: str | None
) -> SmsCodeOut:
    """Re-authenticate with the password, then send a code to the new number (ASVS 7.5.1)."""
    new_phone = validate_mobile(new_phone)
    async with identity.pool.acquire() as conn:
        await _check_current_password(identity, conn, user, password)
    issued = await identity.codes.issue("change_phone", new_phone, ip)
    return SmsCodeOut(resend_in_s=issued.resend_in_s, expires_in_s=issued.expires_in_s)


async def change_phone(
    identity: Identity, user: CurrentUser, new_phone: str, code: str, ip: str | None
) -> None:
    new_phone = validate_mobile(new_phone)
    await identity.codes.verify("change_phone", new_phone, code)
    async with identity.pool.acquire() as conn, conn.transaction():
        row = await users.get_user(conn, identity.pii, identity.acl_key, user.id)
        await users.set_phone(conn, identity.pii, row.id, new_phone)
        await _audit(conn, identity, "identity.phone_change", "success", login=None, user=row, ip=ip)


async def record_logout(identity: Identity, user: CurrentUser, ip: str | None, *, everywhere: bool) -> None:
    async with identity.pool.acquire() as conn, conn.transaction():
        record = AuditRecord(
            action="identity.logout_everywhere" if everywhere else "identity.logout", ip=ip,
            actor_id=user.id, actor_login=user.login, org_id=user.org_id,
        )  # fmt: skip
        await audit.append(conn, identity.audit_key, record)


async def list_demo_accounts(conn: Any) -> list[DemoAccount]:
    return [DemoAccount.model_validate(dict(r)) for r in await conn.fetch(sql.DEMO_USERS)]
