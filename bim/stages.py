"""The stages of a check as functions over one shared context (the file, the rule set's content, the
opened model once the syntax stage opened it): intake → header → syntax → schema → normative →
tender → IDS. Each returns a StageReport; a gate stage that does not pass blocks the rest
(`bim.child`). They run inside the checking child process only.

Must not: open connections, or catch what the child process is there to contain (a crash of the IFC
library ends the child; the parent reports it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bim.outcomes import Instance, Outcome, RuleResult, Severity, collect
from bim.report import STAGE_LABELS, StageReport, StageStatus
from bim.rules import load_all
from bim.rules.runner import DEFAULT_CAP, run_rule

Progress = Callable[[str, float, dict[str, int]], None]
DEFAULT_MAX_MODEL_BYTES = 2 * 1024**3  # a rule set may set its own (`max_model_bytes`)


@dataclass
class StageContext:
    path: Path  # the uploaded file as stored
    file_name: str
    content: dict[str, Any]  # the rule-set version's content
    work_dir: Path
    progress: Progress
    ifc_path: Path | None = None  # the plain .ifc to check (intake unpacks .ifczip)
    model: Any = None  # ifcopenshell.file, once the syntax stage opened it
    model_sm3: str | None = None
    model_schema: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _status(results: list[RuleResult]) -> StageStatus:
    return "failed" if any(r.severity == Severity.ERROR for r in results) else "passed"


def enabled_rules(content: dict[str, Any], stage: str) -> list[tuple[Any, dict[str, Any]]]:
    """The rules of `stage` the rule set enables, with their parameters, in code order."""
    registry = load_all()
    chosen = []
    for code, setting in sorted((content.get("rules") or {}).items()):
        rule = registry.get(code)
        if rule is not None and rule.stage == stage and setting.get("enabled", True):
            chosen.append((rule, dict(setting.get("params") or {})))
    return chosen


def run_rule_stage(ctx: StageContext, stage: str) -> StageReport:
    rules = enabled_rules(ctx.content, stage)
    results = []
    for done, (rule, params) in enumerate(rules, start=1):
        results.append(run_rule(rule, ctx.model, params, int(ctx.content.get("outcome_cap", DEFAULT_CAP))))
        ctx.progress(stage, round(100 * done / len(rules), 1), {"rules": done, "of": len(rules)})
    return StageReport(stage=stage, status=_status(results), results=results)


def normative(ctx: StageContext) -> StageReport:
    return run_rule_stage(ctx, "normative")


def tender(ctx: StageContext) -> StageReport:
    return run_rule_stage(ctx, "tender")


def _stage_of(stage: str, outcomes: list[Outcome], blocked: bool, title: str, cap: int) -> StageReport:
    """A stage's outcomes (rule codes INTAKE, HEADER, SCHEMA …) grouped into results per code."""
    by_rule: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_rule.setdefault(outcome.rule, []).append(outcome)
    results = [
        collect(code, max(o.version for o in found), title, found, cap)
        for code, found in sorted(by_rule.items())
    ]
    if not results:
        passed = Outcome(rule=stage.upper(), severity=Severity.PASSED, message=f"{title}：未发现问题")
        results = [collect(stage.upper(), 1, title, [passed], cap)]
    failed = blocked or any(r.severity == Severity.ERROR for r in results)
    return StageReport(
        stage=stage, status="failed" if failed else "passed", results=results, blocking=blocked
    )


def _cap(ctx: StageContext) -> int:
    return int(ctx.content.get("outcome_cap", DEFAULT_CAP))


def intake(ctx: StageContext) -> StageReport:
    from bim.intake import intake as take

    max_bytes = int(ctx.content.get("max_model_bytes") or DEFAULT_MAX_MODEL_BYTES)
    found = take(ctx.path, ctx.file_name, max_bytes, ctx.work_dir)
    ctx.ifc_path = found.ifc_path
    return _stage_of("intake", found.outcomes, found.blocked, STAGE_LABELS["intake"], _cap(ctx))


def header(ctx: StageContext) -> StageReport:
    from bim.header import check_header

    assert ctx.ifc_path is not None
    allowed = ctx.content.get("allowed_schemas") or ["IFC4"]
    found = check_header(ctx.ifc_path, allowed_schemas=allowed)
    return _stage_of("header", found.outcomes, found.blocked, STAGE_LABELS["header"], _cap(ctx))


def syntax(ctx: StageContext) -> StageReport:
    from bim.syntax import check_syntax

    assert ctx.ifc_path is not None
    found = check_syntax(ctx.ifc_path)
    ctx.model, ctx.model_schema = found.model, found.schema
    ctx.extra["parse_log"] = found.parse_log
    ctx.progress("syntax", 100.0, {})
    return _stage_of(
        "syntax", found.outcomes, found.blocked or found.model is None, STAGE_LABELS["syntax"], _cap(ctx)
    )


def schema(ctx: StageContext) -> StageReport:
    from bim.schema import check_schema

    found = check_schema(ctx.model, ctx.ifc_path, parse_log=ctx.extra.get("parse_log", ""))
    return _stage_of("schema", found.outcomes, found.blocked, STAGE_LABELS["schema"], _cap(ctx))


def ids(ctx: StageContext) -> StageReport:
    """IDS completeness against the rule set's data-item list: one result per specification (its
    elements that miss an item as errors), the whole completeness report in `data`."""
    from bim.ids.engine import InvalidIds, load_ids
    from bim.ids.report import build_report

    spec = ctx.content.get("ids") or {}
    if not spec.get("xml"):
        return StageReport(
            stage="ids", status="skipped", message="规则集未配置数据项清单（IDS），本阶段不适用"
        )
    try:
        document = load_ids(str(spec["xml"]).encode())
    except InvalidIds as exc:
        invalid = Outcome(rule="IDS", severity=Severity.ERROR, message=f"规则集中的 IDS 无效：{exc.detail}")
        return StageReport(
            stage="ids", status="failed", results=[collect("IDS", 1, "IDS 数据项清单", [invalid], 1)]
        )
    report = build_report(document, ctx.model, model_digest=ctx.model_sm3 or "")
    cap = _cap(ctx)
    results = []
    for index, specification in enumerate(report.specifications, start=1):
        rows = [r for r in report.fill_in if r.specification_index == index]
        outcomes = [
            Outcome(rule=f"IDS{index:03d}", severity=Severity.ERROR, message=f"{r.missing_item}：{r.reason}",
                    instance=Instance(step_id=r.step_id, ifc_class=r.ifc_class, global_id=r.global_id, name=r.name),
                    expected=r.expected, observed=r.observed)
            for r in rows
        ]  # fmt: skip
        if not outcomes and specification.rate.applicable_elements:
            outcomes = [
                Outcome(rule=f"IDS{index:03d}", severity=Severity.PASSED, message=specification.message)
            ]
        results.append(collect(f"IDS{index:03d}", 1, specification.name, outcomes, cap))
        ctx.progress(
            "ids", round(100 * index / max(1, len(report.specifications)), 1), {"specifications": index}
        )
    status: StageStatus = "failed" if report.status == "failed" else "passed"
    data = {"completeness": report.model_dump(mode="json"), "exports": ["json", "xlsx", "bcf"]}
    return StageReport(stage="ids", status=status, results=results, data=data)


STAGE_FUNCTIONS: dict[str, Callable[[StageContext], StageReport]] = {
    "intake": intake,
    "header": header,
    "syntax": syntax,
    "schema": schema,
    "normative": normative,
    "tender": tender,
    "ids": ids,
}
