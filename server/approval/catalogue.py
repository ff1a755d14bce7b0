"""The approval item catalogue's content (事项目录): its pydantic schema, the checks a draft must pass
before it is stored, and `Catalogue`, the checked content compiled for use (rules parsed, items in
topological order), which the merged form and the flowchart read.

Content: `{"title", "bundles": {key: {name, items}}, "fields": [shared field definitions], "items":
[{code, name, short_name, dept_code, legal_basis, statutory_workdays, committed_workdays,
predecessors, applicability, fields: [{key, required?}], rules, materials, fees, contact, guide}],
"project_types": [{type, when}], "notes": [...]}`.

Reuse: a shared field is `collab.schema.FormField` (plus where it can be prefilled from) and the
cross-field rules are collab's `required_if`, `allowed_if` and `sum_equals`, checked by
`collab.validation` (see `server.approval.merged_form`). Collab has no rule that compares two
fields (dates, one area within another), which cross-item consistency needs, so `compare` is added
here; collab's table rules do not apply to a flat form.

Every problem is named with its JSON path inside the content (`items.2.predecessors`) and a Chinese
message, all of them at once. Must not: do IO (department codes are checked against the database by
`catalogue_service`), or change content it checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from collab.schema import AllowedIf, FormField, RequiredIf, SumEquals
from server.approval import applicability
from server.approval.applicability import Problem
from server.approval.applicability import Rule as ApplicabilityRule
from server.errors import InvalidInput

MIN_WORKDAYS: Final = 1
# 国办发〔2019〕11号: the whole approval process of a project within 120 working days; no single item's
# limit can exceed it.
MAX_WORKDAYS: Final = 120
DEPT_CODE: Final = re.compile(r"^DEPT-[A-Z]{2,12}$")  # organisation codes of departments (server/seed.py)
TEMPLATE_NAME: Final = re.compile(r"^[^/\\\x00-\x1f]{1,100}\.(docx|doc|xlsx|xls|pdf|dwg|zip)$")

Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=20_000)]
Source = Literal["project", "enterprise", "applicant"]
CompareOp = Literal["<", "<=", "==", "!=", ">=", ">"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogueField(FormField):
    """A shared form field; `source` says what it can be prefilled from (the project registry, the
    enterprise's profile, or only the applicant)."""

    source: Source = "applicant"


class FieldRef(Strict):
    key: str
    required: bool | None = None  # None: the shared field's own `required`


class Compare(Strict):
    """`left op right` for two filled-in number or date fields of the same type."""

    kind: Literal["compare"] = "compare"
    left: str
    op: CompareOp
    right: str
    message: str


ItemRule = Annotated[SumEquals | RequiredIf | AllowedIf | Compare, Field(discriminator="kind")]


class Material(Strict):
    code: Code
    name: Text
    required: bool = True
    template: str | None = None  # the blank/sample form's file name (空表/样表), if there is one
    note: LongText = ""
    applicability: JsonValue = True  # when the project needs this material at all


class Item(Strict):
    code: Code
    name: Text
    short_name: Annotated[str, Field(min_length=1, max_length=20)]
    dept_code: str
    legal_basis: tuple[Text, ...] = Field(min_length=1)
    statutory_workdays: int
    committed_workdays: int
    predecessors: tuple[str, ...] = ()
    applicability: JsonValue = True
    fields: tuple[FieldRef, ...] = Field(min_length=1)
    rules: tuple[ItemRule, ...] = ()
    materials: tuple[Material, ...] = ()
    fees: LongText = ""
    contact: LongText = ""
    guide: LongText = ""


class Bundle(Strict):
    name: Text
    items: tuple[str, ...] = Field(min_length=1)


class ProjectType(Strict):
    type: Annotated[str, Field(min_length=1, max_length=20)]
    when: JsonValue


class CatalogueContent(Strict):
    title: Text
    bundles: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")], Bundle] = Field(min_length=1)
    fields: tuple[CatalogueField, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    project_types: tuple[ProjectType, ...] = ()
    notes: tuple[LongText, ...] = ()


# Chinese messages for the structural errors pydantic reports (its own are English).
_PYDANTIC_MESSAGES: Final[dict[str, str]] = {
    "missing": "缺少此项",
    "extra_forbidden": "不允许的键",
    "string_type": "应为文本",
    "string_too_short": "不能为空",
    "string_too_long": "文本过长",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数值",
    "float_parsing": "应为数值",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "too_short": "至少须有一项",
    "literal_error": "取值不在允许范围内",
    "union_tag_invalid": "规则类型（kind）应为 sum_equals、required_if、allowed_if 或 compare",
    "union_tag_not_found": "规则须有 kind",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "finite_number": "应为有限数值",
}


def _structure_problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        kind = err["type"]
        message = _PYDANTIC_MESSAGES.get(kind)
        if message is None and kind == "value_error" and "options" in err["msg"]:
            message = "选择型（select）字段须有选项（options），其他类型的字段不能有选项"
        problems.append(Problem(path, message or f"取值不符合要求（{kind}）", kind))
    return problems


def _duplicates(values: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for value in values:
        (repeated if value in seen else seen).add(value)
    return repeated


def _cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """One predecessor cycle as its codes in order (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    path: list[str] = []

    def visit(code: str) -> list[str] | None:
        state[code] = 1
        path.append(code)
        for nxt in graph.get(code, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[code] = 2
        return None

    for code in graph:
        if code not in state:
            found = visit(code)
            if found:
                return found
    return None


def _item_problems(index: int, item: Item, fields: Mapping[str, CatalogueField]) -> list[Problem]:
    at = f"items.{index}"
    problems: list[Problem] = []
    if not DEPT_CODE.match(item.dept_code):
        problems.append(
            Problem(f"{at}.dept_code", "部门代码格式应为 DEPT-大写字母（如 DEPT-ZJW）", "bad_department")
        )
    for name in ("statutory_workdays", "committed_workdays"):
        value = getattr(item, name)
        if not MIN_WORKDAYS <= value <= MAX_WORKDAYS:
            message = f"时限应在 {MIN_WORKDAYS}–{MAX_WORKDAYS} 个工作日之间"
            problems.append(Problem(f"{at}.{name}", message, "bad_limit"))
    if item.committed_workdays > item.statutory_workdays:
        message = (
            f"承诺时限（{item.committed_workdays}）不能长于法定时限（{item.statutory_workdays}）个工作日"
        )
        problems.append(Problem(f"{at}.committed_workdays", message, "bad_limit"))
    for j, ref in enumerate(item.fields):
        if ref.key not in fields:
            problems.append(Problem(f"{at}.fields.{j}.key", f"共享字段中没有“{ref.key}”", "unknown_field"))
    for key in sorted(_duplicates(r.key for r in item.fields)):
        problems.append(Problem(f"{at}.fields", f"字段“{key}”重复引用", "duplicate"))
    for code in sorted(_duplicates(m.code for m in item.materials)):
        problems.append(Problem(f"{at}.materials", f"材料代码 {code} 重复", "duplicate"))
    for j, material in enumerate(item.materials):
        if material.template is not None and not TEMPLATE_NAME.match(material.template):
            message = "模板应为文件名（docx、doc、xlsx、xls、pdf、dwg 或 zip，不含路径）"
            problems.append(Problem(f"{at}.materials.{j}.template", message, "bad_template"))
        problems += applicability.parse(material.applicability, f"{at}.materials.{j}.applicability")[1]
    problems += applicability.parse(item.applicability, f"{at}.applicability")[1]
    for j, rule in enumerate(item.rules):
        problems += _rule_problems(rule, f"{at}.rules.{j}", fields)
    return problems


def rule_keys(rule: SumEquals | RequiredIf | AllowedIf | Compare) -> list[tuple[str, str]]:
    """The fields a rule reads, each with the name of its key in the rule."""
    match rule:
        case SumEquals():
            return [("target", rule.target), *((f"terms.{i}", t) for i, t in enumerate(rule.terms))]
        case RequiredIf() | AllowedIf():
            return [("field", rule.field), ("when", rule.when)]
        case Compare():
            return [("left", rule.left), ("right", rule.right)]


def _rule_problems(
    rule: SumEquals | RequiredIf | AllowedIf | Compare, at: str, fields: Mapping[str, CatalogueField]
) -> list[Problem]:
    problems = []
    for name, key in rule_keys(rule):
        if key not in fields:
            problems.append(Problem(f"{at}.{name}", f"共享字段中没有“{key}”", "unknown_field"))
    if problems:
        return problems
    if isinstance(rule, Compare):
        left, right = fields[rule.left].type, fields[rule.right].type
        numeric = {"number", "integer"}
        if not (left == right == "date" or (left in numeric and right in numeric)):
            message = "比较规则的两侧应同为数值或同为日期字段"
            problems.append(Problem(at, message, "bad_rule"))
    if isinstance(rule, SumEquals):
        for name, key in rule_keys(rule):
            if fields[key].type not in ("number", "integer"):
                problems.append(Problem(f"{at}.{name}", f"“{fields[key].label}”不是数值字段", "bad_rule"))
    return problems


def problems(content: CatalogueContent) -> list[Problem]:
    """Everything wrong with structurally valid content beyond its structure."""
    found: list[Problem] = []
    fields = {f.key: f for f in content.fields}
    keys = [f.key for f in content.fields]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            found.append(Problem(f"fields.{index}.key", f"字段“{key}”重复定义", "duplicate"))
    codes = [item.code for item in content.items]
    for index, code in enumerate(codes):
        if code in codes[:index]:
            found.append(Problem(f"items.{index}.code", f"事项代码 {code} 重复", "duplicate"))
    known = set(codes)
    for index, item in enumerate(content.items):
        found += _item_problems(index, item, fields)
        for j, code in enumerate(item.predecessors):
            if code not in known:
                found.append(Problem(f"items.{index}.predecessors.{j}", f"没有事项 {code}", "unknown_item"))
    graph = {item.code: item.predecessors for item in content.items}
    cycle = _cycle(graph)
    if cycle is not None:
        index = codes.index(cycle[0])
        message = f"前置事项形成循环：{' → '.join(cycle)}"
        found.append(Problem(f"items.{index}.predecessors", message, "predecessor_cycle"))
    used = {ref.key for item in content.items for ref in item.fields}
    for index, field in enumerate(content.fields):
        if field.key not in used:
            found.append(Problem(f"fields.{index}.key", f"字段“{field.key}”未被任何事项使用", "unused_field"))
    for key, bundle in content.bundles.items():
        for j, code in enumerate(bundle.items):
            if code not in known:
                found.append(Problem(f"bundles.{key}.items.{j}", f"没有事项 {code}", "unknown_item"))
    for index, kind in enumerate(content.project_types):
        found += applicability.parse(kind.when, f"project_types.{index}.when")[1]
    return found


def check(raw: object) -> CatalogueContent:
    """The content `raw` (parsed JSON) if it has no problem; else InvalidInput naming every one."""
    try:
        content = CatalogueContent.model_validate(raw)
    except ValidationError as exc:
        raise invalid(_structure_problems(exc)) from exc
    found = problems(content)
    if found:
        raise invalid(found)
    return content


def invalid(found: list[Problem]) -> InvalidInput:
    return InvalidInput(f"事项目录有 {len(found)} 处错误，未保存", fields=[p.as_field() for p in found])


@dataclass(frozen=True)
class CompiledItem:
    item: Item
    applicability: ApplicabilityRule
    materials: tuple[tuple[Material, ApplicabilityRule], ...]


@dataclass(frozen=True)
class Catalogue:
    """Checked content ready to use: items in topological order (predecessors first, ties in
    catalogue order), rules parsed. Build it with `compile_content`."""

    content: CatalogueContent
    items: tuple[CompiledItem, ...]
    project_types: tuple[tuple[str, ApplicabilityRule], ...]

    @cached_property
    def fields(self) -> dict[str, CatalogueField]:
        return {f.key: f for f in self.content.fields}

    @cached_property
    def by_code(self) -> dict[str, CompiledItem]:
        return {c.item.code: c for c in self.items}

    def recognise_type(self, facts: applicability.Facts) -> str:
        return applicability.recognise_type(facts, self.project_types)


def topological(items: Iterable[Item]) -> list[Item]:
    """Predecessors before successors; among the ready ones, catalogue order (stable, so the flowchart
    and the form do not reorder between calls). The content must be acyclic (`problems` checked it)."""
    pending = list(items)
    done: set[str] = set()
    codes = {i.code for i in pending}
    ordered = []
    while pending:
        ready = next(i for i in pending if all(p in done or p not in codes for p in i.predecessors))
        ordered.append(ready)
        done.add(ready.code)
        pending.remove(ready)
    return ordered


def compile_content(content: CatalogueContent) -> Catalogue:
    """`content` must have passed `check` (rules parse without problems, no cycle)."""
    items = tuple(
        CompiledItem(
            item=item,
            applicability=applicability.parse(item.applicability, "")[0],
            materials=tuple((m, applicability.parse(m.applicability, "")[0]) for m in item.materials),
        )
        for item in topological(content.items)
    )
    types = tuple((t.type, applicability.parse(t.when, "")[0]) for t in content.project_types)
    return Catalogue(content=content, items=items, project_types=types)


def load(raw: Any) -> Catalogue:
    """Check and compile stored or seed content."""
    return compile_content(check(raw))
