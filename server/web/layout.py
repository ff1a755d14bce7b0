"""What the shared layout (`base.html`) needs to know about the caller on every page: who they are and
which header links they may follow.

Must not: compare role names; a link shows exactly when the caller's role holds the permission of the
page it leads to, as the permission table says.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request

from server.routing import current_user, holds

# (href, label, permission of the page it opens), in header order.
NAV_LINKS: Final[tuple[tuple[str, str, str], ...]] = (
    ("/projects", "项目", "project.read"),
    ("/bids", "评标会议", "bid.read"),
    ("/bim/bids", "提交模型", "bim.submit"),
    ("/kaigong/workbench", "审批工作台", "kaigong.handle"),
    ("/admin/users", "用户管理", "user.manage"),
    ("/admin/roles", "角色权限", "permission.manage"),
    ("/admin/bim/rule-sets", "BIM规则库", "bim.rules.manage"),
    ("/admin/approval/catalogue", "事项目录", "approval.catalogue.manage"),
    ("/admin/kaigong/messages", "专栏留言", "approval.catalogue.manage"),
    ("/admin/kaigong/stats", "办件统计", "kaigong.stats"),
)


async def nav_links(request: Request) -> list[tuple[str, str]]:
    if await current_user(request) is None:
        return []
    return [(href, label) for href, label, permission in NAV_LINKS if await holds(request, permission)]


async def page_context(request: Request, **extra: object) -> dict[str, object]:
    """The template context of a page with the header filled in for the caller, plus `extra`."""
    return {"user": await current_user(request), "nav": await nav_links(request), **extra}
