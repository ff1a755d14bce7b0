"""Run rules over an open model: each rule's outcomes collected and capped, in code order, a rule that
crashes reported as such (never as the model's error) and logged.

Must not: open files or decide stages (the pipeline does).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bim.outcomes import Outcome, RuleResult, Severity, collect
from bim.rules.base import Rule

logger = logging.getLogger(__name__)

DEFAULT_CAP = 100  # outcomes kept per rule; the rest are counted


def run_rule(
    rule: Rule, model: Any, params: Mapping[str, Any] | None = None, cap: int = DEFAULT_CAP
) -> RuleResult:
    merged = {**rule.params, **(params or {})}
    try:
        outcomes = list(rule.check(model, merged))
    except MemoryError:
        raise  # over the stage's memory cap: the stage ends as crashed, not as a rule that misbehaved
    except Exception:
        logger.exception("bim.rule_crashed", extra={"rule": rule.code})
        outcomes = [Outcome(rule=rule.code, version=rule.version, severity=Severity.EXECUTED,
                            message="规则执行异常，未能完成检查（已记录，请联系管理员）")]  # fmt: skip
    return collect(rule.code, rule.version, rule.title, outcomes, cap)


def activated(result: RuleResult) -> bool:
    """Whether the rule applied to the model (the Validation Service's 'activation')."""
    return any(o.severity >= Severity.EXECUTED for o in result.outcomes) or result.omitted > 0


def has_error(result: RuleResult) -> bool:
    return result.severity == Severity.ERROR
