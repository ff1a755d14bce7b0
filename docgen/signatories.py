"""The people who sign a design document (签字人员): real names by role, printed in the signature table
of a calculation book and the 签字区 of every drawing sheet; the hand or electronic signatures go beside
them. They come with the generation request (`content["signatories"]`), not from the filling form.
Must not: hold signatures themselves.
"""

from __future__ import annotations

from typing import Any

from docgen.errors import Problem

ROLES = ("审定", "审核", "项目负责人", "专业负责人", "校对", "设计")
NAME_MAX_LENGTH = 20


def check(content: dict[str, Any]) -> list[Problem]:
    signatories = content.get("signatories", {})
    if not isinstance(signatories, dict):
        return [Problem("signatories", "签字人员应为按职责填写的姓名", "invalid")]
    problems: list[Problem] = []
    for role, name in signatories.items():
        if role not in ROLES:
            problems.append(Problem(f"signatories.{role}", f"职责应为：{'、'.join(ROLES)}之一", "invalid"))
        elif not isinstance(name, str) or not name.strip():
            problems.append(Problem(f"signatories.{role}", f"请填写{role}人员姓名", "invalid"))
        elif len(name) > NAME_MAX_LENGTH:
            problems.append(
                Problem(f"signatories.{role}", f"{role}人员姓名不能超过 {NAME_MAX_LENGTH} 个字", "too_long")
            )
    return problems


def names(content: dict[str, Any]) -> dict[str, str]:
    """Role → name, for checked content (empty when none were given)."""
    signatories = content.get("signatories") or {}
    return {role: str(name).strip() for role, name in signatories.items() if role in ROLES}
