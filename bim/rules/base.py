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

from bim.outcomes import Outcome

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
