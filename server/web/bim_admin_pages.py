"""The rule-library pages (BIM 检查规则库): the list of rule sets with a form to create one
(`/admin/bim/rule-sets`), and one rule set (`/admin/bim/rule-sets/{id}`) with its versions, the
selected version read-only (published) or in the draft editor (rules enabled and their parameters,
IFC versions, size cap, stage time limits, IDS), the publish button and the history of saves.
The controls call the rule-library API (`server.bim.routes`) from `static/bim_rulesets.js`.

Must not: change anything itself; it reads through `server.bim.rulesets` like the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from bim.report import STAGE_LABELS
from server import clock
from server.bim import rulesets
from server.bim.models import DEFAULT_STAGE_TIMEOUTS_S, STATUS_LABELS, RuleSetDetail, VersionSummary
from server.bim.routes import MANAGE_RULES, READ
from server.routing import PageRoute, RouteTable, holds
from server.runtime import runtime
from server.web.layout import page_context
from server.web.templating import templates

SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3", "IFC4X3_ADD2")
STAGE_NAMES = {"normative": "规范性规则", "tender": "招标规则"}


@dataclass(frozen=True)
class RuleRow:
    """One rule as the editor shows it: registered rules (in the rule set or not) and rules the
    version names that are no longer registered (`registered` False: dropped on the next save)."""

    code: str
    title: str
    stage: str
    version: int | None  # the registered version, or the one frozen at publish
    enabled: bool
    params_json: str
    registered: bool


def local_time(at: datetime | None) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


def _params_json(params: Any) -> str:
    return json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True)


def rule_rows(content: dict[str, Any], published: bool) -> list[RuleRow]:
    registry = rulesets.registry()
    configs: dict[str, Any] = content.get("rules") or {}
    frozen: dict[str, int] = content.get("rule_versions") or {}
    codes = sorted(configs) if published else sorted(set(registry) | set(configs))
    rows = []
    for code in codes:
        rule = registry.get(code)
        config = configs.get(code) or {"enabled": False, "params": rulesets.defaults(rule) if rule else {}}
        rows.append(RuleRow(
            code=code, title=rule.title if rule else "（规则库中已无此规则）",
            stage=STAGE_NAMES.get(rule.stage, rule.stage) if rule else "—",
            version=frozen.get(code) if published else (rule.version if rule else None),
            enabled=bool(config.get("enabled")), params_json=_params_json(config.get("params") or {}),
            registered=rule is not None,
        ))  # fmt: skip
    return rows


def _megabytes(size: int) -> str:
    return f"{size / 1024**2:.3f}".rstrip("0").rstrip(".")


def _selected(detail: RuleSetDetail, wanted: str | None) -> VersionSummary | None:
    """The version named by `?version=`, else the draft, else the latest published one."""
    for version in detail.versions:
        if wanted and str(version.id) == wanted:
            return version
    drafts = [v for v in detail.versions if v.status == "draft"]
    return drafts[0] if drafts else (detail.versions[0] if detail.versions else None)


async def rule_sets_page(request: Request) -> Response:
    async with runtime(request).pool.acquire() as conn:
        items = await rulesets.list_rule_sets(conn)
    context = await page_context(
        request, rule_sets=items, can_manage=await holds(request, MANAGE_RULES), local_time=local_time
    )
    return templates.TemplateResponse(request, "bim_rulesets.html", context)


async def rule_set_page(request: Request) -> Response:
    rule_set_id: UUID = request.path_params["rule_set_id"]
    async with runtime(request).pool.acquire() as conn:
        detail = await rulesets.get_rule_set(conn, rule_set_id)
        chosen = _selected(detail, request.query_params.get("version"))
        version = await rulesets.get_version(conn, chosen.id) if chosen else None
    can_manage = await holds(request, MANAGE_RULES)
    published = version is None or version.status == "published"
    content = version.content if version else {}
    context = await page_context(
        request, rule_set=detail, version=version, content=content, can_manage=can_manage,
        editable=can_manage and not published, rows=rule_rows(content, published),
        can_new_draft=can_manage and detail.draft_version is None and detail.latest_published is not None,
        schemas=SCHEMAS, stages=[(s, STAGE_LABELS.get(s, s)) for s in DEFAULT_STAGE_TIMEOUTS_S],
        timeouts={**DEFAULT_STAGE_TIMEOUTS_S, **(content.get("stage_timeouts_s") or {})},
        max_model_mb=_megabytes(content.get("max_model_bytes") or 0),
        status_labels=STATUS_LABELS, local_time=local_time, saved=request.query_params.get("saved") == "1",
    )  # fmt: skip
    return templates.TemplateResponse(request, "bim_ruleset.html", context)


ROUTES = RouteTable(
    pages=[
        PageRoute("/admin/bim/rule-sets", rule_sets_page, READ),
        PageRoute("/admin/bim/rule-sets/{rule_set_id:uuid}", rule_set_page, READ),
    ]
)
