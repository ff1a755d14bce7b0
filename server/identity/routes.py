"""Login (password, SMS code), logout, "who am I", and the user's own account (password, phone)."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from server.errors import Forbidden, NotFound
from server.identity import service
from server.identity.models import (
    DevSmsMessage,
    Done,
    LoggedOut,
    PasswordChangeIn,
    PasswordLoginIn,
    PhoneChangeCodeIn,
    PhoneChangeIn,
    SessionOut,
    SmsCodeIn,
    SmsCodeOut,
    SmsLoginIn,
)
from server.identity.sessions import COOKIE
from server.identity.users import UserRow
from server.permissions import AUTHENTICATED, PUBLIC
from server.routing import ApiRoute, RouteTable, client_ip, current_session, require_user
from server.runtime import runtime


async def _start_session(request: Request, user: UserRow, password_expired: bool = False) -> SessionOut:
    cookie, session = await runtime(request).sessions.open(
        user.current_user(), password_expired=password_expired
    )
    request.state.set_cookie = cookie
    return SessionOut(user=session.user, csrf_token=session.csrf, password_expired=password_expired)


async def login(request: Request, body: PasswordLoginIn) -> SessionOut:
    identity = runtime(request).identity
    user, expired = await service.password_login(identity, body.login, body.password, client_ip(request))
    return await _start_session(request, user, expired)


async def request_login_code(request: Request, body: SmsCodeIn) -> SmsCodeOut:
    return await service.issue_login_code(runtime(request).identity, body.phone, client_ip(request))


async def sms_login(request: Request, body: SmsLoginIn) -> SessionOut:
    user = await service.sms_login(runtime(request).identity, body.phone, body.code, client_ip(request))
    return await _start_session(request, user)


async def logout(request: Request) -> LoggedOut:
    rt = runtime(request)
    user = require_user(request)
    await rt.sessions.close(request.cookies[COOKIE])
    await service.record_logout(rt.identity, user, client_ip(request), everywhere=False)
    request.state.set_cookie = ""
    return LoggedOut()


async def logout_everywhere(request: Request) -> LoggedOut:
    rt = runtime(request)
    user = require_user(request)
    closed = await rt.sessions.close_all(user.id)
    await service.record_logout(rt.identity, user, client_ip(request), everywhere=True)
    request.state.set_cookie = ""
    return LoggedOut(sessions_closed=closed)


async def me(request: Request) -> SessionOut:
    session = await current_session(request)
    assert session is not None  # the route's permission admitted it
    return SessionOut(user=session.user, csrf_token=session.csrf)


async def change_password(request: Request, body: PasswordChangeIn) -> LoggedOut:
    user = require_user(request)
    closed = await service.change_password(
        runtime(request).identity, user, body.current_password, body.new_password, client_ip(request)
    )
    request.state.set_cookie = ""  # every session ended, this one too: log in with the new password
    return LoggedOut(sessions_closed=closed)


async def request_phone_change_code(request: Request, body: PhoneChangeCodeIn) -> SmsCodeOut:
    user = require_user(request)
    identity = runtime(request).identity
    return await service.issue_phone_change_code(
        identity, user, body.new_phone, body.password, client_ip(request)
    )


async def change_phone(request: Request, body: PhoneChangeIn) -> Done:
    user = require_user(request)
    await service.change_phone(runtime(request).identity, user, body.new_phone, body.code, client_ip(request))
    return Done()


def _on_this_machine(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


async def dev_sms_inbox(request: Request, query: SmsCodeIn) -> DevSmsMessage:
    """The demo's SMS inbox: the latest message the development provider 'sent' to a phone. Only for
    visitors on this machine: a deployment that forgot to configure its SMS gateway must not hand out
    everyone's login codes to the network."""
    rt = runtime(request)
    if rt.dev_sms is None:
        raise Forbidden("短信演示收件箱仅在开发短信通道下可用")
    if not _on_this_machine(client_ip(request)):
        raise Forbidden("短信演示收件箱仅供本机访问")
    message = await rt.dev_sms.latest(query.phone)
    if message is None:
        raise NotFound("该号码暂无短信")
    return DevSmsMessage(phone=message.masked_phone, template=message.template, params=message.params,
                         sent_at=message.sent_at)  # fmt: skip


ROUTES = RouteTable(
    api=[
        ApiRoute("POST", "/api/v1/login", login, PUBLIC, SessionOut, PasswordLoginIn,
                 summary="密码登录", tags=("identity",)),
        ApiRoute("POST", "/api/v1/login/sms/code", request_login_code, PUBLIC, SmsCodeOut, SmsCodeIn,
                 summary="获取短信登录验证码", tags=("identity",)),
        ApiRoute("POST", "/api/v1/login/sms", sms_login, PUBLIC, SessionOut, SmsLoginIn,
                 summary="短信验证码登录", tags=("identity",)),
        ApiRoute("POST", "/api/v1/logout", logout, AUTHENTICATED, LoggedOut,
                 summary="退出登录", tags=("identity",)),
        ApiRoute("POST", "/api/v1/logout/everywhere", logout_everywhere, AUTHENTICATED, LoggedOut,
                 summary="退出全部设备上的登录", tags=("identity",)),
        ApiRoute("GET", "/api/v1/me", me, AUTHENTICATED, SessionOut, summary="当前用户", tags=("identity",)),
        ApiRoute("POST", "/api/v1/account/password", change_password, AUTHENTICATED, LoggedOut, PasswordChangeIn,
                 summary="修改密码（修改后须重新登录）", tags=("account",)),
        ApiRoute("POST", "/api/v1/account/phone/code", request_phone_change_code, AUTHENTICATED, SmsCodeOut,
                 PhoneChangeCodeIn, summary="向新手机号发送验证码", tags=("account",)),
        ApiRoute("POST", "/api/v1/account/phone", change_phone, AUTHENTICATED, Done, PhoneChangeIn,
                 summary="更换手机号", tags=("account",)),
        ApiRoute("GET", "/api/v1/dev/sms", dev_sms_inbox, PUBLIC, DevSmsMessage, query=SmsCodeIn,
                 summary="演示短信收件箱（仅开发短信通道）", tags=("dev",)),
    ]
)  # fmt: skip
