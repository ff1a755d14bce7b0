"""The user's API tokens: create (the token text is shown once), list, revoke. Managing tokens needs
a person's browser session, never a token."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request

from server.errors import Forbidden
from server.identity import tokens
from server.identity.models import Done
from server.permissions import AUTHENTICATED, PERMISSION_LABELS
from server.routing import ApiRoute, RouteTable, client_ip, current_session, require_user
from server.runtime import runtime


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=64, description="用途，如“离线设计客户端”")
    scopes: list[str] = Field(min_length=1, max_length=32, description="权限名，须为本人角色已有的权限")
    expires_in_days: int | None = Field(default=90, ge=1, le=3650, description="有效天数；空为不过期")

    @field_validator("scopes")
    @classmethod
    def _known(cls, scopes: list[str]) -> list[str]:
        unknown = sorted(set(scopes) - set(PERMISSION_LABELS))
        if unknown:
            raise ValueError(f"未知的权限：{'、'.join(unknown)}")
        return scopes


class TokenCreated(tokens.TokenOut):
    token: str = Field(description="令牌全文，仅此一次显示")


class TokenList(BaseModel):
    items: list[tokens.TokenOut]


class TokensNeedSession(Forbidden):
    code, message = "session_required", "请登录后在浏览器中管理令牌"


async def _person(request: Request) -> None:
    session = await current_session(request)
    if session is None or session.scopes is not None:
        raise TokensNeedSession()


async def post_token(request: Request, body: TokenIn) -> TokenCreated:
    await _person(request)
    rt, user = runtime(request), require_user(request)
    held = (await rt.acl.table()).grants.get(user.role, frozenset())
    async with rt.pool.acquire() as conn:
        token_id, text = await tokens.create_token(
            conn, rt.keys.key(tokens.TOKEN_KEY), rt.identity.audit_key, user, held, name=body.name,
            scopes=body.scopes, expires_in_days=body.expires_in_days, ip=client_ip(request),
        )  # fmt: skip
        listed = await tokens.list_tokens(conn, user)
    created = next(t for t in listed if t.id == token_id)
    return TokenCreated(**created.model_dump(), token=text)


async def get_tokens(request: Request) -> TokenList:
    await _person(request)
    async with runtime(request).pool.acquire() as conn:
        return TokenList(items=await tokens.list_tokens(conn, require_user(request)))


async def delete_token(request: Request) -> Done:
    await _person(request)
    rt = runtime(request)
    async with rt.pool.acquire() as conn:
        await tokens.revoke_token(conn, rt.identity.audit_key, require_user(request),
                                  request.path_params["token_id"], client_ip(request))  # fmt: skip
    return Done()


ROUTES = RouteTable(
    api=[
        ApiRoute("GET", "/api/v1/account/tokens", get_tokens, AUTHENTICATED, TokenList,
                 summary="我的接口令牌", tags=("account",)),
        ApiRoute("POST", "/api/v1/account/tokens", post_token, AUTHENTICATED, TokenCreated, TokenIn, 201,
                 summary="新建接口令牌（仅显示一次）", tags=("account",)),
        ApiRoute("DELETE", "/api/v1/account/tokens/{token_id:uuid}", delete_token, AUTHENTICATED, Done,
                 summary="吊销接口令牌", tags=("account",)),
    ]
)  # fmt: skip
