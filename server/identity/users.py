"""People and their accounts: creating them, loading them (opening their sealed personal data and
checking their role assignment's MAC), passwords with history, roles and status, phone numbers.

Must not: import Starlette, return password hashes or unmasked personal data beyond `CurrentUser`'s
own name, or load a user whose role assignment fails its MAC (`AccountTampered`).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from server.errors import Conflict, Forbidden, NotFound
from server.identity import sql
from server.identity.acl import assignment_intact, assignment_mac
from server.identity.models import CurrentUser
from server.identity.pii import Column, Pii
from server.permissions import ROLES
from server.security.errors import CryptoError
from server.security.gm import mask_name, mask_phone

logger = logging.getLogger(__name__)

TABLE = "app_user"
LIST_LIMIT = 1000
TAMPERED_MASK = "***"  # shown for a name that no longer opens


class AccountTampered(Forbidden):
    code, message = "account_integrity_failed", "账号权限数据校验失败，已拒绝并上报，请联系系统管理员"

    def __init__(self, user_id: UUID) -> None:
        super().__init__()
        self.user_id = user_id  # for the audit record; not part of the answer


class UserRow(BaseModel):
    """A loaded account, personal data opened; for services only (holds the password hash)."""

    id: UUID
    login: str
    org_id: UUID
    org_name: str
    org_kind: str
    role: str
    status: str
    name: str
    phone: str | None
    password_hash: str | None
    password_changed_at: datetime | None

    def current_user(self) -> CurrentUser:
        return CurrentUser(
            id=self.id, login=self.login, display_name=self.name, org_id=self.org_id, org_name=self.org_name,
            role=self.role,
        )  # fmt: skip


class UserOut(BaseModel):
    """What administrators see of an account: personal data masked."""

    id: UUID
    login: str
    org_id: UUID
    org_name: str
    role: str
    status: str
    name_masked: str
    phone_masked: str | None


class NewUser(BaseModel):
    id: UUID | None = None  # None: a random one
    login: str
    name: str
    org_id: UUID
    role: str
    phone: str | None = None
    id_card: str | None = None
    password_hash: str | None = None


def _opened(row: Any, pii: Pii) -> tuple[str, str | None]:
    """The row's name and phone. Raises `CryptoError` when a sealed value does not open (altered, or
    copied from another row or column: the AAD names both)."""
    name = (
        pii.open_value(TABLE, "name", row["id"], row["name_sealed"]) if row["name_sealed"] else row["login"]
    )
    phone = pii.open_value(TABLE, "phone", row["id"], row["phone_sealed"]) if row["phone_sealed"] else None
    return name, phone


def _open(row: Any, pii: Pii, acl_key: bytes) -> UserRow:
    if not assignment_intact(acl_key, row):
        logger.error("identity.assignment_tampered", extra={"user_id": str(row["id"])})
        raise AccountTampered(row["id"])
    try:
        name, phone = _opened(row, pii)
    except CryptoError as exc:
        logger.error("identity.personal_data_tampered", extra={"user_id": str(row["id"]), "error": exc.code})
        raise AccountTampered(row["id"]) from exc
    return UserRow(
        id=row["id"], login=row["login"], org_id=row["org_id"], org_name=row["org_name"], org_kind=row["org_kind"],
        role=row["role"], status=row["status"], name=name, phone=phone, password_hash=row["password_hash"],
        password_changed_at=row["password_changed_at"],
    )  # fmt: skip


async def find_by_login(conn: Any, pii: Pii, acl_key: bytes, login: str) -> UserRow | None:
    row = await conn.fetchrow(sql.USER_BY_LOGIN, login)
    return _open(row, pii, acl_key) if row else None


async def find_by_phone(conn: Any, pii: Pii, acl_key: bytes, phone: str) -> UserRow | None:
    row = await conn.fetchrow(sql.USER_BY_PHONE_INDEX, pii.index(phone))
    return _open(row, pii, acl_key) if row else None


async def get_user(conn: Any, pii: Pii, acl_key: bytes, user_id: UUID) -> UserRow:
    row = await conn.fetchrow(sql.USER_BY_ID, user_id)
    if row is None:
        raise NotFound("用户不存在")
    return _open(row, pii, acl_key)


def _listed(row: Any, pii: Pii, acl_key: bytes) -> UserOut:
    """One row of the administrators' list; a damaged row is listed as `tampered`, never hides the rest."""
    intact = assignment_intact(acl_key, row)
    try:
        name, phone = _opened(row, pii)
    except CryptoError:
        intact, name, phone = False, TAMPERED_MASK, None
    return UserOut(
        id=row["id"], login=row["login"], org_id=row["org_id"], org_name=row["org_name"], role=row["role"],
        status=row["status"] if intact else "tampered", name_masked=mask_name(name),
        phone_masked=mask_phone(phone) if phone else None,
    )  # fmt: skip


async def list_users(conn: Any, pii: Pii, acl_key: bytes) -> list[UserOut]:
    return [_listed(row, pii, acl_key) for row in await conn.fetch(sql.ALL_USERS, LIST_LIMIT)]


async def get_user_out(conn: Any, pii: Pii, acl_key: bytes, user_id: UUID) -> UserOut:
    row = await conn.fetchrow(sql.USER_BY_ID, user_id)
    if row is None:
        raise NotFound("用户不存在")
    return _listed(row, pii, acl_key)


async def create_user(conn: Any, pii: Pii, acl_key: bytes, new: NewUser) -> UUID:
    """Precondition: `new.phone` / `new.id_card` already validated and normalised."""
    if new.role not in ROLES:
        raise NotFound(f"角色 {new.role} 不存在")
    user_id = new.id or uuid.uuid4()
    phone_sealed = pii.seal(TABLE, "phone", user_id, new.phone) if new.phone else None
    card_sealed = pii.seal(TABLE, "id_card", user_id, new.id_card) if new.id_card else None
    mac = assignment_mac(acl_key, user_id, new.login, new.org_id, new.role, "active")
    try:
        async with conn.transaction():
            await conn.execute(
                sql.INSERT_USER, user_id, new.login, new.org_id, new.role, pii.seal(TABLE, "name", user_id, new.name),
                phone_sealed, pii.index(new.phone) if new.phone else None, card_sealed,
                pii.index(new.id_card) if new.id_card else None, new.password_hash, mac,
            )  # fmt: skip
            if new.password_hash:
                await conn.execute(sql.REMEMBER_PASSWORD, user_id, new.password_hash)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("登录名、手机号或身份证号已被其他账号使用") from exc
    return user_id


async def set_password(conn: Any, user_id: UUID, password_hash: str) -> None:
    """Precondition: `conn` is in a transaction."""
    await conn.execute(sql.SET_PASSWORD, user_id, password_hash)
    await conn.execute(sql.REMEMBER_PASSWORD, user_id, password_hash)


async def recent_password_hashes(conn: Any, user_id: UUID, count: int) -> list[str]:
    return [r["password_hash"] for r in await conn.fetch(sql.RECENT_PASSWORDS, user_id, count)]


async def set_role_and_status(conn: Any, acl_key: bytes, user: UserRow, role: str, status: str) -> None:
    if role not in ROLES:
        raise NotFound(f"角色 {role} 不存在")
    mac = assignment_mac(acl_key, user.id, user.login, user.org_id, role, status)
    await conn.execute(sql.SET_ROLE_AND_STATUS, user.id, role, status, mac)


async def set_phone(conn: Any, pii: Pii, user_id: UUID, phone: str) -> None:
    try:
        await conn.execute(sql.SET_PHONE, user_id, pii.seal(TABLE, "phone", user_id, phone), pii.index(phone))
    except asyncpg.UniqueViolationError as exc:
        raise Conflict("该手机号已被其他账号使用") from exc


async def reseal_all(conn: Any, pii: Pii, batch: int = 500) -> int:
    """Re-encrypt every sealed value not under the current key (`tongban keys rotate`). Returns the count."""
    done, after = 0, uuid.UUID(int=0)
    while rows := await conn.fetch(sql.SEALED_VALUES, after, batch):
        for row in rows:
            after = row["id"]
            columns: tuple[tuple[Column, bytes | None], ...] = (
                ("name", row["name_sealed"]), ("phone", row["phone_sealed"]), ("id_card", row["id_card_sealed"]),
            )  # fmt: skip
            if not any(value and pii.needs_rotation(value) for _, value in columns):
                continue
            resealed = [
                pii.seal(TABLE, column, row["id"], pii.open_value(TABLE, column, row["id"], value))
                if value
                else None
                for column, value in columns
            ]
            if await conn.execute(sql.RESEAL, row["id"], *resealed, *(v for _, v in columns)) == "UPDATE 1":
                done += 1
    return done
