"""User and role administration routes (system administrators)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request

from server.identity import admin
from server.identity.models import Done
from server.identity.orgs import OrgOut, list_orgs
from server.identity.users import UserOut, list_users
from server.identity.validators import IdCardNumber, MobileNumber
from server.routing import ApiRoute, RouteTable, client_ip, require_user
from server.runtime import runtime


class UserList(BaseModel):
    items: list[UserOut]


class OrgList(BaseModel):
    items: list[OrgOut]


class NewUserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    login: str = Field(min_length=3, max_length=32, pattern=r"^[a-z][a-z0-9_.-]+$", description="登录名")
    name: str = Field(min_length=1, max_length=50, description="姓名")
    org_id: UUID
    role: str = Field(max_length=32)
    phone: MobileNumber | None = None
    id_card: IdCardNumber | None = None
    password: str = Field(min_length=1, max_length=1024, description="初始密码")


class CreatedOut(BaseModel):
    id: UUID


class UserPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, max_length=32)
    status: Literal["active", "disabled"] | None = None


class SessionsEnded(BaseModel):
    sessions_closed: int


class RoleTable(BaseModel):
    roles: dict[str, list[str]]


async def get_users(request: Request) -> UserList:
    identity = runtime(request).identity
    async with identity.pool.acquire() as conn:
        return UserList(items=await list_users(conn, identity.pii, identity.acl_key))


async def get_orgs(request: Request) -> OrgList:
    async with runtime(request).pool.acquire() as conn:
        return OrgList(items=await list_orgs(conn))


async def post_user(request: Request, body: NewUserIn) -> CreatedOut:
    user_id = await admin.create_account(
        runtime(request).identity, require_user(request), client_ip(request), login=body.login, name=body.name,
        org_id=body.org_id, role=body.role, phone=body.phone, id_card=body.id_card, password=body.password,
    )  # fmt: skip
    return CreatedOut(id=user_id)


async def patch_user(request: Request, body: UserPatchIn) -> UserOut:
    return await admin.update_account(
        runtime(request).identity, require_user(request), client_ip(request), request.path_params["user_id"],
        role=body.role, status=body.status,
    )  # fmt: skip


async def end_user_sessions(request: Request) -> SessionsEnded:
    closed = await admin.end_sessions(
        runtime(request).identity, require_user(request), client_ip(request), request.path_params["user_id"]
    )
    return SessionsEnded(sessions_closed=closed)


async def get_roles(request: Request) -> RoleTable:
    identity = runtime(request).identity
    async with identity.pool.acquire() as conn:
        return RoleTable(roles=await admin.role_table(conn, identity))


async def _set_grant(request: Request, granted: bool) -> Done:
    rt = runtime(request)
    await admin.set_grant(
        rt.identity, rt.acl, require_user(request), client_ip(request), request.path_params["role"],
        request.path_params["permission"], granted=granted,
    )  # fmt: skip
    return Done()


async def put_grant(request: Request) -> Done:
    return await _set_grant(request, granted=True)


async def delete_grant(request: Request) -> Done:
    return await _set_grant(request, granted=False)


GRANT = "/api/v1/admin/roles/{role}/permissions/{permission}"

ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/admin/users", get_users, "user.manage", UserList, summary="用户列表", tags=("admin",)),
        ApiRoute("POST", "/api/v1/admin/users", post_user, "user.manage", CreatedOut, NewUserIn, 201,
                 summary="新建用户", tags=("admin",)),
        ApiRoute("PATCH", "/api/v1/admin/users/{user_id:uuid}", patch_user, "user.manage", UserOut, UserPatchIn,
                 summary="修改用户角色或状态", tags=("admin",)),
        ApiRoute("POST", "/api/v1/admin/users/{user_id:uuid}/sessions/end", end_user_sessions, "user.manage",
                 SessionsEnded, summary="强制下线", tags=("admin",)),
        ApiRoute("GET", "/api/v1/admin/orgs", get_orgs, "user.manage", OrgList,
                 summary="单位列表（新建用户时选择）", tags=("admin",)),
        ApiRoute("GET", "/api/v1/admin/roles", get_roles, "permission.manage", RoleTable,
                 summary="角色权限表", tags=("admin",)),
        ApiRoute("PUT", GRANT, put_grant, "permission.manage", Done, summary="授予权限", tags=("admin",)),
        ApiRoute("DELETE", GRANT, delete_grant, "permission.manage", Done, summary="收回权限", tags=("admin",)),
    ]
)  # fmt: skip
