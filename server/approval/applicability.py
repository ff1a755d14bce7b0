"""Applicability rules of the item catalogue: which approval items a project needs, decided by rules
that are data (`{"all": [...]}`, `{"any": [...]}`, `{"not": rule}`, `{"fact": "pit_depth_m", ">=": 5}`,
`{"fact": "project_type", "in": ["房建", "工业"]}`, `true`, `false`) over the project's facts.

`parse` turns the JSON of one rule into a typed tree, naming every problem with its JSON path;
`evaluate` decides a parsed rule for a project's facts; `recognise_type` picks the project type from
a catalogue's ordered type table. A comparison on a fact the project does not have is false (so
`{"not": …}` of it is true): an item whose condition cannot be decided is not silently required.
Must not: do IO, know item codes, or evaluate anything but this grammar (no `eval`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

FactValue = str | int | float | bool | None
Facts = Mapping[str, FactValue]
Scalar = str | float | bool
FactKind = Literal["text", "number", "boolean"]
Op = Literal["==", "!=", "<", "<=", ">", ">=", "in"]


@dataclass(frozen=True)
class FactSpec:
    kind: FactKind
    label: str


# The project's structured data the rules may read (the project registry fills them in). Derived facts
# (`project_code_type`) are computed by `derive` from others.
FACTS: Final[dict[str, FactSpec]] = {
    "project_code": FactSpec("text", "项目代码"),
    "project_code_type": FactSpec("text", "项目代码中的项目类型段"),
    "project_type": FactSpec("text", "项目类型"),
    "building_use": FactSpec("text", "主要使用功能"),
    "total_area": FactSpec("number", "总建筑面积（m²）"),
    "investment_wan": FactSpec("number", "总投资（万元）"),
    "building_height": FactSpec("number", "建筑高度（m）"),
    "pit_depth_m": FactSpec("number", "基坑开挖深度（m）"),
    "road_length_m": FactSpec("number", "道路长度（m）"),
    "pipeline_length_m": FactSpec("number", "管线长度（m）"),
    "green_area_m2": FactSpec("number", "绿化面积（m²）"),
    "earthwork_m3": FactSpec("number", "土方开挖量（m³）"),
    "special_construction": FactSpec("boolean", "特殊建设工程"),
    "civil_building": FactSpec("boolean", "新建民用建筑"),
    "civil_air_defence": FactSpec("boolean", "须结合修建防空地下室"),
    "occupies_green": FactSpec("boolean", "临时占用绿地"),
    "occupies_road": FactSpec("boolean", "占用城市道路"),
    "excavates_road": FactSpec("boolean", "挖掘城市道路"),
    "temporary_drainage": FactSpec("boolean", "施工临时排水"),
    "construction_waste": FactSpec("boolean", "产生建筑垃圾（工程渣土）"),
}

COMPARISONS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
OPS: Final[tuple[str, ...]] = (*COMPARISONS, "in")
ORDERING: Final[frozenset[str]] = frozenset({"<", "<=", ">", ">="})
MAX_DEPTH: Final = 12  # a rule nested deeper is a mistake, and recursion must stay bounded
_PROJECT_CODE: Final = re.compile(r"^\d{4}-\d{6}-\d{2}-(\d{2})-\d{6}$")  # GB/T 40058-2021, domain.md §1.6


@dataclass(frozen=True)
class Problem:
    """One thing wrong with catalogue content, at its JSON path (`items.2.applicability.all.0.fact`)."""

    path: str
    message: str
    type: str

    def as_field(self) -> dict[str, str]:
        return {"field": self.path, "message": self.message, "type": self.type}


@dataclass(frozen=True)
class Always:
    value: bool


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    rule: Rule


@dataclass(frozen=True)
class FactTest:
    fact: str
    op: Op
    value: Scalar | tuple[Scalar, ...]


Rule = Always | AllOf | AnyOf | Not | FactTest
ALWAYS: Final = Always(True)


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def parse(raw: object, path: str, depth: int = 0) -> tuple[Rule, list[Problem]]:
    """The rule `raw` (parsed JSON) as a tree, and its problems; with problems the tree is `Always(False)`
    where a part could not be read, so a caller must not use it."""
    bad = Always(False)
    if depth > MAX_DEPTH:
        return bad, [Problem(path, f"条件嵌套超过 {MAX_DEPTH} 层", "rule_too_deep")]
    if isinstance(raw, bool):
        return Always(raw), []
    if not isinstance(raw, dict):
        return bad, [Problem(path, "条件应为 true、false 或对象（all/any/not/fact）", "bad_rule")]
    keys = set(raw)
    for combinator in ("all", "any"):
        if combinator in keys:
            if keys != {combinator}:
                return bad, [Problem(path, f"“{combinator}”条件不能与其他键并列", "bad_rule")]
            parts = raw[combinator]
            if not isinstance(parts, list) or not parts:
                return bad, [Problem(_join(path, combinator), "应为至少含一个条件的数组", "bad_rule")]
            rules, problems = [], []
            for index, part in enumerate(parts):
                rule, found = parse(part, _join(_join(path, combinator), index), depth + 1)
                rules.append(rule)
                problems += found
            return (AllOf(tuple(rules)) if combinator == "all" else AnyOf(tuple(rules))), problems
    if "not" in keys:
        if keys != {"not"}:
            return bad, [Problem(path, "“not”条件不能与其他键并列", "bad_rule")]
        inner, problems = parse(raw["not"], _join(path, "not"), depth + 1)
        return Not(inner), problems
    if "fact" in keys:
        return _parse_test(raw, path)
    return bad, [Problem(path, "条件应含 all、any、not 或 fact 之一", "bad_rule")]


def _parse_test(raw: dict[object, object], path: str) -> tuple[Rule, list[Problem]]:
    bad = Always(False)
    fact = raw["fact"]
    if not isinstance(fact, str) or fact not in FACTS:
        known = "、".join(FACTS)
        return bad, [Problem(_join(path, "fact"), f"未知的项目事实“{fact}”，可用：{known}", "unknown_fact")]
    ops = [k for k in raw if k != "fact"]
    if len(ops) != 1 or ops[0] not in OPS:
        message = f"应恰有一个比较运算符（{' '.join(OPS)}）"
        return bad, [Problem(path, message, "bad_operator")]
    op = str(ops[0])
    spec = FACTS[fact]
    value = raw[op]
    at = _join(path, op)
    if op == "in":
        if not isinstance(value, list) or not value:
            return bad, [Problem(at, "“in”的值应为非空数组", "bad_value")]
        problems = [p for i, v in enumerate(value) for p in _value_problems(spec, v, _join(at, i))]
        if problems:
            return bad, problems
        return FactTest(fact, "in", tuple(_scalar(v) for v in value)), []
    if op in ORDERING and spec.kind != "number":
        return bad, [Problem(at, f"“{spec.label}”不是数值，不能用 {op} 比较", "bad_operator")]
    problems = _value_problems(spec, value, at)
    if problems:
        return bad, problems
    return FactTest(fact, op, _scalar(value)), []  # type: ignore[arg-type]  # op checked against OPS


def _scalar(value: object) -> Scalar:
    if isinstance(value, bool | str):
        return value
    assert isinstance(value, int | float)
    return float(value)


def _value_problems(spec: FactSpec, value: object, path: str) -> list[Problem]:
    ok = {
        "text": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value),
    }[spec.kind]
    if ok:
        return []
    kind = {"text": "文本", "boolean": "true 或 false", "number": "有限数值"}[spec.kind]
    return [Problem(path, f"“{spec.label}”的比较值应为{kind}", "bad_value")]


def derive(facts: Facts) -> dict[str, FactValue]:
    """The facts with the derived ones added: `project_code_type`, the type segment of a well-formed
    项目代码 (GB/T 40058-2021: time-region-department-type-serial)."""
    derived = dict(facts)
    code = facts.get("project_code")
    match = _PROJECT_CODE.match(code) if isinstance(code, str) else None
    if match and derived.get("project_code_type") in (None, ""):
        derived["project_code_type"] = match.group(1)
    return derived


def evaluate(rule: Rule, facts: Facts) -> bool:
    match rule:
        case Always():
            return rule.value
        case AllOf():
            return all(evaluate(r, facts) for r in rule.rules)
        case AnyOf():
            return any(evaluate(r, facts) for r in rule.rules)
        case Not():
            return not evaluate(rule.rule, facts)
        case FactTest():
            return _test(rule, facts.get(rule.fact))


def _test(rule: FactTest, value: FactValue) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = float(value)
    if rule.op == "in":
        assert isinstance(rule.value, tuple)
        return any(_same_kind(value, v) and value == v for v in rule.value)
    if not _same_kind(value, rule.value):
        return False
    return COMPARISONS[rule.op](value, rule.value)


def _same_kind(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return isinstance(a, str) == isinstance(b, str)


def recognise_type(facts: Facts, table: Sequence[tuple[str, Rule]], fallback: str = "其他") -> str:
    """The project's type: the `project_type` fact when given, else the first type of `table` (the
    catalogue's ordered `project_types`) whose rule holds for the facts (with the derived ones)."""
    given = facts.get("project_type")
    if isinstance(given, str) and given:
        return given
    derived = derive(facts)
    for name, rule in table:
        if evaluate(rule, derived):
            return name
    return fallback
