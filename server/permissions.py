"""The one permission table: which role holds which permission. Routes name a permission; nothing
else in the code compares role names.

Replaced by data in the database when the identity issue lands; the names stay.
Must not: hold object-level rules (those live in each domain's `access.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PUBLIC: Final = "public"  # no login needed
AUTHENTICATED: Final = "authenticated"  # any logged-in user

ROLES: Final[tuple[str, ...]] = (
    "applicant",  # 建设单位申请人
    "agent",  # 经办人 / 代理
    "reviewer",  # 审批部门审查人员
    "approver",  # 审批部门审批负责人
    "issuer",  # 审批部门发证人员
    "designer",  # 设计单位
    "bid_expert",  # 评标专家
    "bid_admin",  # 评标管理员
    "admin",  # 系统管理员
    "auditor",  # 审计员
)

ROLE_LABELS: Final[dict[str, str]] = {
    "applicant": "建设单位申请人",
    "agent": "经办人",
    "reviewer": "部门审查人员",
    "approver": "部门审批负责人",
    "issuer": "部门发证人员",
    "designer": "设计人员",
    "bid_expert": "评标专家",
    "bid_admin": "评标管理员",
    "admin": "系统管理员",
    "auditor": "审计员",
}

# project.read: the projects of one's own organisation; project.read_any: every project.
ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "applicant": frozenset(
        {
            "project.create",
            "project.read",
            "approval.dispatch",
            "doc.edit",
            "drawing.read",
            "drawing.upload",
            "file.upload",
            "bim.rules.read",
            "deliverable.read",
            "deliverable.generate",
            "kaigong.apply",
        }
    ),
    "agent": frozenset(
        {
            "project.create",
            "project.read",
            "approval.dispatch",
            "doc.edit",
            "drawing.read",
            "drawing.upload",
            "file.upload",
            "bim.rules.read",
            "deliverable.read",
            "deliverable.generate",
            "kaigong.apply",
        }
    ),
    "reviewer": frozenset(
        {
            "project.read",
            "project.read_any",
            "task.update",
            "drawing.read",
            "deliverable.read",
            "kaigong.handle",
        }
    ),
    "approver": frozenset(
        {
            "project.read",
            "project.read_any",
            "task.update",
            "drawing.read",
            "deliverable.read",
            "deliverable.generate",
            "deliverable.certify",
            "kaigong.handle",
            "kaigong.extend",
        }
    ),
    "issuer": frozenset(
        {
            "project.read",
            "project.read_any",
            "task.update",
            "drawing.read",
            "deliverable.read",
            "deliverable.generate",
            "deliverable.certify",
            "kaigong.handle",
        }
    ),
    "designer": frozenset(
        {
            "project.read",
            "doc.edit",
            "drawing.read",
            "drawing.upload",
            "file.upload",
            "bim.rules.read",
            "bim.submit",
            "bim.check.read",
            "deliverable.read",
            "deliverable.generate",
        }
    ),
    "bid_expert": frozenset({"bid.read", "bim.rules.read", "bim.check.read"}),
    "bid_admin": frozenset({"bid.read", "bid.manage", "bim.rules.read", "bim.check.read"}),
    # 三权分立 (等保): the system administrator manages accounts and grants but does not read the audit
    # log; the auditor reads it and changes nothing.
    "admin": frozenset(
        {
            "project.create",
            "project.read",
            "project.read_any",
            "approval.dispatch",
            "user.manage",
            "permission.manage",
            "bid.read",
            "bid.manage",
            "doc.edit",
            "drawing.read",
            "drawing.read_any",
            "bim.rules.read",
            "bim.rules.manage",
            "bim.check.read",
            "deliverable.read",
            "approval.catalogue.manage",
            "kaigong.stats",
            "calendar.manage",
        }
    ),
    "auditor": frozenset({"project.read", "project.read_any", "audit.read"}),
}

PERMISSION_LABELS: Final[dict[str, str]] = {
    "project.create": "登记项目",
    "project.read": "查看本单位项目",
    "project.read_any": "查看全部项目",
    "audit.read": "查询审计日志",
    "approval.dispatch": "发起并联审批",
    "task.update": "办理本部门审批任务",
    "bid.read": "参加评标会议",
    "bid.manage": "组织评标会议",
    "user.manage": "管理用户账号",
    "permission.manage": "管理角色权限",
    "doc.edit": "编辑本单位项目的协同文档",
    "drawing.read": "查看本单位或本部门审查项目的图纸",
    "drawing.read_any": "查看全部项目的图纸",
    "drawing.upload": "上传本单位项目的图纸",
    "bim.rules.read": "查看BIM检查规则库",
    "bim.rules.manage": "管理BIM检查规则库",
    "file.upload": "上传文件（断点续传）",
    "bim.submit": "向评标会议提交BIM模型",
    "bim.check.read": "查看BIM模型检查结果（本单位提交的或本人参加的评标会议的）",
    "deliverable.read": "查看可见项目出具的文件（图纸、计算书、证书）",
    "deliverable.generate": "生成、签发、撤销本单位项目的设计文件（由填报数据生成）",
    "deliverable.certify": "出具、签发、撤销证书与凭证（施工许可证、消防验收备案凭证等）",
    "kaigong.apply": "填报并提交本单位项目的开工一件事申报，补正、撤回",
    "kaigong.handle": "办理本部门的开工一件事办件（受理、补正、审查、办结）",
    "kaigong.stats": "查看开工一件事统计",
    "kaigong.extend": "批准延长本部门办件的办理时限",
    "calendar.manage": "更正工作日历（节假日、调休上班日）",
    "approval.catalogue.manage": "维护审批事项目录（草稿、发布）",
}

PERMISSIONS: Final[frozenset[str]] = frozenset(PERMISSION_LABELS) | {PUBLIC, AUTHENTICATED}


def role_has(
    role: str | None, permission: str, grants: Mapping[str, frozenset[str]] = ROLE_PERMISSIONS
) -> bool:
    """Whether `role` holds `permission` under `grants` (the live table is data: `server.identity.acl`;
    the default is the table a new deployment starts with)."""
    if permission == PUBLIC:
        return True
    if role is None:
        return False
    if permission == AUTHENTICATED:
        return role in ROLES
    return permission in grants.get(role, frozenset())
