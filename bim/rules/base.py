"""What a rule is: a code (the Validation Service's, e.g. `PJS003`, or ours, `TB…`), a version
bumped whenever a change could alter its outcomes, a Chinese title, and a check that reads an open
model and the rule set's parameters and yields outcomes.

A rule that applies to the model yields at least one PASSED (or ERROR/WARNING) outcome; a rule that
does not apply yields nothing (or NOT_APPLICABLE). The conformance suite holds every rule to the
Validation Service's fixtures on exactly that: pass → activated without error, fail → at least one
error, na → not activated.
Must not: write anything, keep state between models, or depend on anything but the model and params.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bim.outcomes import Instance, Outcome, Severity

Stage = Literal["normative", "tender"]
Check = Callable[[Any, Mapping[str, Any]], Iterable[Outcome]]


@dataclass(frozen=True)
class Rule:
    code: str
    version: int
    title: str  # Chinese, shown in reports
    stage: Stage
    check: Check
    # Parameter tables the rule reads from the rule set (e.g. "pset_whitelist"), with their defaults.
    params: Mapping[str, Any] = field(default_factory=dict)


RULES: dict[str, Rule] = {}


def rule(
    code: str, version: int, title: str, stage: Stage = "normative", **params: Any
) -> Callable[[Check], Check]:
    """Register the decorated check as rule `code`."""

    def register(check: Check) -> Check:
        if code in RULES:
            raise ValueError(f"rule {code} registered twice")
        RULES[code] = Rule(code, version, title, stage, check, params)
        return check

    return register


# -- helpers the rule modules share ---------------------------------------------------------------------


def outcome(
    code: str, version: int, severity: Severity, message: str, entity: Any = None, expected: Any = None,
    observed: Any = None,
) -> Outcome:  # fmt: skip
    """One outcome of rule `code` about `entity` (an ifcopenshell instance, or None for the model)."""
    return Outcome(
        rule=code, version=version, severity=severity, message=message,
        instance=Instance.of(entity) if entity is not None else None, expected=expected, observed=observed,
    )  # fmt: skip


def ref(entity: Any) -> str:
    """`#12 IfcWall`, for messages."""
    return f"#{entity.id()} {entity.is_a()}"


def by_type(model: Any, ifc_class: str, include_subtypes: bool = True) -> list[Any]:
    """`model.by_type`, but empty for a class the model's schema does not have."""
    try:
        return list(model.by_type(ifc_class, include_subtypes=include_subtypes))
    except RuntimeError:
        return []
