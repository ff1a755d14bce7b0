"""What a check found, shaped like the buildingSMART Validation Service's outcomes: a severity, the
rule (code and version) that produced it, the instance it is about, what was expected and what was
observed, and a message in Chinese. Reports are lists of outcomes in a fixed order, so the same model
(SM3 digest) checked with the same rule-set version gives the same bytes.

Must not: hold rule logic, or anything that varies between runs (times, paths, object ids).
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Severity(IntEnum):
    """Ordered as the Validation Service orders them: the worst outcome of a rule is its verdict."""

    NOT_APPLICABLE = 0
    EXECUTED = 1
    PASSED = 2
    WARNING = 3
    ERROR = 4


SEVERITY_LABELS = {
    Severity.NOT_APPLICABLE: "不适用",
    Severity.EXECUTED: "已执行",
    Severity.PASSED: "通过",
    Severity.WARNING: "警告",
    Severity.ERROR: "错误",
}


class Instance(BaseModel):
    """The model element an outcome is about (any of the fields may be unknown)."""

    model_config = ConfigDict(frozen=True)

    step_id: int | None = None  # the #id of the STEP instance
    ifc_class: str | None = None
    global_id: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, entity: Any) -> Instance:
        """From an ifcopenshell entity instance (GlobalId and Name when it has them)."""
        info: dict[str, Any] = {"step_id": entity.id() or None, "ifc_class": entity.is_a()}
        for attribute, key in (("GlobalId", "global_id"), ("Name", "name")):
            try:
                value = getattr(entity, attribute)
            except (AttributeError, RuntimeError):
                continue
            if isinstance(value, str):
                info[key] = value
        return cls(**info)


class Outcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: str  # e.g. "PJS003", "SCHEMA", "HEADER"
    version: int = 1
    severity: Severity
    message: str  # Chinese, for the supplier
    instance: Instance | None = None
    expected: Any = None
    observed: Any = None
    location: dict[str, int] | None = None  # {"line": …, "column": …} for syntax errors


class RuleResult(BaseModel):
    """All outcomes of one rule on one model, at most `cap` of them kept (errors first), with the
    number left out; `severity` is the worst of all, kept or not."""

    rule: str
    version: int
    title: str
    severity: Severity
    outcomes: list[Outcome]
    omitted: int = 0
    counts: dict[str, int] = Field(default_factory=dict)  # severity name → number of outcomes


def collect(rule: str, version: int, title: str, outcomes: list[Outcome], cap: int) -> RuleResult:
    """The result of a rule from its outcomes: sorted (worst first, then by STEP id), capped."""
    ordered = sorted(
        outcomes,
        key=lambda o: (-o.severity, o.instance.step_id or 0 if o.instance else 0, o.message),
    )
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.severity.name] = counts.get(outcome.severity.name, 0) + 1
    worst = max((o.severity for o in outcomes), default=Severity.NOT_APPLICABLE)
    return RuleResult(
        rule=rule, version=version, title=title, severity=worst, outcomes=ordered[:cap],
        omitted=max(0, len(ordered) - cap), counts=counts,
    )  # fmt: skip
