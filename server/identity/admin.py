"""User and role administration (system administrators): accounts, their roles and status, their
sessions, and the permission table. Every change is audited; disabling an account or changing its
role ends its sessions at once (ASVS 7.4.2).

Must not: import Starlette.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from server.audit import service as audit
from server.audit.models import AuditRecord
from server.errors import Conflict, NotFound
from server.identity import acl, users
from server.identity.models import CurrentUser
from server.identity.passwords import check_password, hash_password_async
from server.identity.service import Identity
from server.identity.users import NewUser, UserOut
from server.identity.validators import validate_id_card, validate_mobile
from server.permissions import PERMISSIONS, ROLES


def _record(admin: CurrentUser, action: str, ip: str | None, target: str, **detail: object) -> AuditRecord:
    return AuditRecord(action=action, actor_id=admin.id, actor_login=admin.login, org_id=admin.org_id, ip=ip,
                       target=target, detail=detail)  # fmt: skip


async def create_account(
    identity: Identity, admin: CurrentUser, ip: str | None, *, login: str, name: str, org_id: UUID, role: str,
    phone: str | None, id_card: str | None, password: str,
) -> UUID:  # fmt: skip
    check_password(identity.policy, password, login=login, display_name=name)
    new = NewUser(
        login=login, name=name, org_id=org_id, role=role, phone=validate_mobile(phone) if phone else None,
        id_card=validate_id_card(id_card) if id_card else None, password_hash=await hash_password_async(password),
    )  # fmt: skip
    async with identity.pool.acquire() as conn:
        if not await conn.fetchval("SELECT 1 FROM organization WHERE id = $1", org_id):
            raise NotFound("单位不存在")
        async with conn.transaction():
            user_id = await users.create_user(conn, identity.pii, identity.acl_key, new)
            record = _record(admin, "identity.user_create", ip, f"user:{user_id}", login=login, role=role)
            await audit.append(conn, identity.audit_key, record)
    return user_id


async def update_account(
    identity: Identity,
    admin: CurrentUser,
    ip: str | None,
    user_id: UUID,
    *,
    role: str | None,
    status: str | None,
) -> UserOut:
    if user_id == admin.id and (status == "disabled" or (role is not None and role != admin.role)):
        raise Conflict("不能停用自己的账号或修改自己的角色")
    async with identity.pool.acquire() as conn:
        async with conn.transaction():
            user = await users.get_user(conn, identity.pii, identity.acl_key, user_id)
            new_role, new_status = role or user.role, status or user.status
            await users.set_role_and_status(conn, identity.acl_key, user, new_role, new_status)
            await audit.append(conn, identity.audit_key, _record(
                admin, "identity.user_update", ip, f"user:{user_id}", role=[user.role, new_role],
                status=[user.status, new_status],
            ))  # fmt: skip
        updated = await users.get_user_out(conn, identity.pii, identity.acl_key, user_id)
    if (new_role, new_status) != (user.role, user.status):
        await identity.sessions.close_all(user_id)
    return updated


async def end_sessions(identity: Identity, admin: CurrentUser, ip: str | None, user_id: UUID) -> int:
    async with identity.pool.acquire() as conn:
        await users.get_user(conn, identity.pii, identity.acl_key, user_id)
        closed = await identity.sessions.close_all(user_id)
        async with conn.transaction():
            record = _record(admin, "identity.sessions_end", ip, f"user:{user_id}", closed=closed)
            await audit.append(conn, identity.audit_key, record)
    return closed


async def role_table(conn: Any, identity: Identity) -> dict[str, list[str]]:
    table = await acl.load(conn, identity.acl_key)
    return {role: sorted(table.grants.get(role, frozenset())) for role in ROLES}


async def set_grant(
    identity: Identity, cache: acl.PermissionCache, admin: CurrentUser, ip: str | None, role: str, permission: str,
    *, granted: bool,
) -> None:  # fmt: skip
    if role not in ROLES or permission not in PERMISSIONS or permission in ("public", "authenticated"):
        raise NotFound("角色或权限不存在")
    if role == admin.role and permission == "permission.manage" and not granted:
        raise Conflict("不能收回自己角色的权限管理权限")
    async with identity.pool.acquire() as conn, conn.transaction():
        if granted:
            await acl.grant(conn, identity.acl_key, role, permission)
        else:
            await acl.revoke(conn, role, permission)
        action = "identity.permission_grant" if granted else "identity.permission_revoke"
        await audit.append(
            conn, identity.audit_key, _record(admin, action, ip, f"role:{role}", permission=permission)
        )
    await cache.changed()
