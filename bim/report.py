"""A check's report: the outcome of every stage of the pipeline, in pipeline order, and the verdict;
encoded as canonical JSON so the same model (SM3 digest) checked with the same rule-set version gives
the same bytes, years later (no times, no file names, no paths: those live beside it in the database).

Must not: run checks (the pipeline does) or read the database.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from bim.outcomes import RuleResult, Severity
from server.security.sm3 import sm3_hex

StageStatus = Literal["passed", "failed", "blocked", "timeout", "crashed", "skipped"]

STAGES: tuple[str, ...] = ("intake", "header", "syntax", "schema", "normative", "tender", "ids")
STAGE_LABELS: dict[str, str] = {
    "intake": "文件接收",
    "header": "文件头检查",
    "syntax": "STEP 语法",
    "schema": "模式合规（含 WHERE 规则与全局规则）",
    "normative": "规范性规则",
    "tender": "招标规则",
    "ids": "IDS 数据完整性",
}
GATES = frozenset({"intake", "header", "syntax"})  # a blocking failure here stops every later stage


class StageReport(BaseModel):
    stage: str
    status: StageStatus
    message: str = ""  # Chinese: why it was blocked, timed out or crashed
    blocking: bool = False  # a gate that failed so that the later stages must not run
    results: list[RuleResult] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)  # stage-specific (the IDS completeness report)

    @property
    def worst(self) -> Severity:
        return max((r.severity for r in self.results), default=Severity.NOT_APPLICABLE)


class Report(BaseModel):
    model_sm3: str | None  # None when intake refused the file before it could be read
    model_schema: str | None = None
    rule_set: dict[str, Any]  # {"id", "version", "content_sm3"}
    stages: list[StageReport]
    verdict: Literal["passed", "failed"]
    counts: dict[str, int]  # errors, warnings, passed rules …

    def canonical(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    def digest(self) -> str:
        return sm3_hex(self.canonical())


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def verdict_of(stages: list[StageReport]) -> tuple[Literal["passed", "failed"], dict[str, int]]:
    counts = {"errors": 0, "warnings": 0, "rules_passed": 0, "rules_failed": 0, "rules_not_applicable": 0}
    failed = False
    for stage in stages:
        if stage.status in ("failed", "timeout", "crashed", "blocked"):
            failed = True
        for result in stage.results:
            counts["errors"] += result.counts.get("ERROR", 0)
            counts["warnings"] += result.counts.get("WARNING", 0)
            if result.severity == Severity.ERROR:
                counts["rules_failed"] += 1
            elif result.severity >= Severity.EXECUTED:
                counts["rules_passed"] += 1
            else:
                counts["rules_not_applicable"] += 1
    return ("failed" if failed else "passed"), counts
