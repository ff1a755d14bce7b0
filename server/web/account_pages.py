"""The user's own account page: who they are, changing the password and the phone number, and ending
every session. The forms post to the account API (`server.identity.routes`) from `static/account.js`.

Must not: change anything itself; the page only shows, the API acts.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.identity.passwords import PasswordPolicy
from server.identity.users import get_user
from server.permissions import AUTHENTICATED
from server.routing import PageRoute, RouteTable, require_user
from server.runtime import runtime
from server.security.masking import mask_phone
from server.web.layout import page_context
from server.web.templating import templates


def password_rules(policy: PasswordPolicy) -> list[str]:
    """The deployment's password policy, as the sentences shown beside the new-password field."""
    rules = [f"长度 {policy.min_length}–{policy.max_length} 位"]
    if policy.min_character_classes:
        rules.append(f"包含大写字母、小写字母、数字、特殊字符中的至少 {policy.min_character_classes} 类")
    rules.append("不能包含登录名或姓名")
    if policy.reject_common:
        rules.append("不能使用常见的弱密码")
    if policy.history_size:
        rules.append(f"不能与最近 {policy.history_size} 次使用过的密码相同")
    if policy.max_age_days:
        rules.append(f"每 {policy.max_age_days} 天须更换一次")
    return rules


async def account_page(request: Request) -> Response:
    user = require_user(request)
    rt = runtime(request)
    identity = rt.identity
    async with identity.pool.acquire() as conn:
        row = await get_user(conn, identity.pii, identity.acl_key, user.id)
    context = await page_context(
        request,
        phone_masked=mask_phone(row.phone) if row.phone else None,
        password_rules=password_rules(identity.policy),
        password_expired=request.query_params.get("expired") == "1",
        dev_sms=rt.dev_sms is not None,
    )
    return templates.TemplateResponse(request, "account.html", context)


ROUTES = RouteTable(pages=[PageRoute("/account", account_page, AUTHENTICATED)])
