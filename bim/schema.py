"""The schema compliance stage: every instance against the declared IFC schema, as the Validation
Service's SCHEMA check (`ifcopenshell.validate --rules`) does, turned into one Outcome per issue.

- Schema: `ifcopenshell.validate.validate` (library API, JSON logger): header attribute types, unique
  IfcApplication, GlobalId format and uniqueness, abstract entities, attribute count, types,
  optionality, derived (`*`) attributes, aggregate cardinalities, inverse cardinalities; plus the IFC
  library's own parse messages for the file (attribute counts, bad enumeration literals).
- EXPRESS rules: the WHERE rules of entities and defined types and the global rules, from the Python
  that ifcopenshell generates from the EXPRESS schema (`ifcopenshell/express/rules/<SCHEMA>.py`), run
  by our own small executor: ifcopenshell's `rule_executor.run` imports `_pytest` (it uses pytest's
  assertion rewriting to describe the violation), so it fails where pytest is not installed, i.e. in
  the product. We instead give each generated `assert` its own expression text as message (AST
  transform) and report the rule, the instance and that expression; otherwise the semantics are
  ifcopenshell's (global, then simple-type, then entity rules; an exception inside a rule counts as a
  violation, a RecursionError is skipped).

Must not: need pytest, write anything, or report the same issue twice in one run.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.validate

from bim.outcomes import Instance, Outcome, Severity

logger = logging.getLogger(__name__)


# --- the EXPRESS rules --------------------------------------------------------------------------


class _AssertMessages(ast.NodeTransformer):
    """`assert expr` → `assert expr, "expr"` so a violation says which expression failed."""

    def visit_Assert(self, node: ast.Assert) -> ast.Assert:
        if node.msg is None:
            node.msg = ast.Constant(ast.unparse(node.test))
        return node


def _rules_source(schema: str) -> Path:
    spec = importlib.util.find_spec("ifcopenshell")
    assert spec is not None
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "express" / "rules" / f"{schema}.py"


@cache
def express_rules(schema: str) -> tuple[list[Any], list[Any], list[Any]]:
    """The generated rule classes of `schema`: (global, type, entity) rules; cached per process."""
    path = _rules_source(schema)
    source = path.read_text(encoding="utf-8")
    tree = _AssertMessages().visit(ast.parse(source))
    ast.fix_missing_locations(tree)
    scope: dict[str, Any] = {"__name__": f"ifc_express_rules_{schema}"}
    exec(compile(tree, str(path), "exec"), scope)  # noqa: S102 - ifcopenshell's own generated code
    rules = [v for v in scope.values() if isinstance(v, type) and hasattr(v, "SCOPE")]
    return (
        [r for r in rules if r.SCOPE == "file"],
        [r for r in rules if r.SCOPE == "type"],
        [r for r in rules if r.SCOPE == "entity"],
    )


@dataclass(frozen=True)
class Finding:
    kind: str  # header, schema, parse, global_rule, simpletype_rule, entity_rule
    text: str  # ifcopenshell's English text
    instance: Any = None  # entity_instance or None
    attribute: str | None = None  # "IfcWall.Name", "IfcSite.WR1", …
    rule: str | None = None  # EXPRESS rule name
    location: dict[str, int] | None = None  # line and column in the file, when the library gave an offset


def _express_text(expression: str) -> str:
    """The generated Python of a rule expression, read back as EXPRESS-like text."""
    text = re.sub(r"express_getattr\(([^,()]+), '(\w+)', INDETERMINATE\)", r"\1.\2", expression)
    text = text.replace(" is not False", "").replace(" - EXPRESS_ONE_BASED_INDEXING", "")
    return text.replace("self", "SELF").replace("len(", "SIZEOF(")


def _violation(exc: BaseException) -> str:
    if isinstance(exc, AssertionError) and exc.args:
        return _express_text(str(exc.args[0]))
    return f"{type(exc).__name__}: {exc}"


def run_express_rules(model: Any) -> Iterator[Finding]:
    """Every violation of the schema's global, simple-type and entity WHERE rules."""
    global_rules, type_rules, entity_rules = express_rules(model.schema_identifier)
    settings = ifcopenshell.settings
    saved = settings.unpack_non_aggregate_inverses, settings.compare_instances_by_value
    settings.unpack_non_aggregate_inverses = True
    settings.compare_instances_by_value = True  # the generated code compares with EXPRESS `=`
    try:
        for rule in global_rules:
            try:
                rule()(model)
            except RecursionError:
                continue
            except Exception as exc:
                yield Finding("global_rule", _violation(exc), None, rule.__name__, rule.__name__)
        yield from _type_rule_violations(model, type_rules)
        for rule in entity_rules:
            for instance in model.by_type(rule.TYPE_NAME):
                try:
                    rule()(instance)
                except RecursionError:
                    continue
                except Exception as exc:
                    name = f"{rule.TYPE_NAME}.{rule.RULE_NAME}"
                    yield Finding("entity_rule", _violation(exc), instance, name, name)
    finally:
        settings.unpack_non_aggregate_inverses, settings.compare_instances_by_value = saved


def _type_rule_violations(model: Any, type_rules: list[Any]) -> Iterator[Finding]:
    """WHERE rules of defined types, on every attribute value of that type (or a subtype of it),
    inside aggregates and typed (select) values too."""
    wrapper: Any = ifcopenshell.ifcopenshell_wrapper
    schema = wrapper.schema_by_name(model.schema_identifier)
    subtypes: dict[str, list[str]] = collections.defaultdict(list)
    for declaration in schema.declarations():
        if isinstance(declaration, wrapper.type_declaration):
            declared = declaration.declared_type()
            if isinstance(declared, wrapper.named_type):
                subtypes[declared.declared_type().name()].append(declaration.name())
    by_type: dict[str, list[Any]] = collections.defaultdict(list)
    for rule in type_rules:
        stack = [rule.TYPE_NAME]
        while stack:
            name = stack.pop()
            by_type[name].append(rule)
            stack.extend(subtypes[name])
    if not by_type:
        return

    def name_of(ty: Any) -> str | None:
        if isinstance(ty, wrapper.named_type):
            return name_of(ty.declared_type())
        if isinstance(ty, wrapper.aggregation_type | wrapper.simple_type):
            return None
        return str(ty.name())

    def check(value: Any, ty: Any, instance: Any) -> Iterator[Finding]:
        if value is None:
            return
        for rule in by_type.get(name_of(ty) or "", ()):
            try:
                rule()(value)
            except RecursionError:
                continue
            except Exception as exc:
                name = f"{rule.TYPE_NAME}.{rule.RULE_NAME}"
                yield Finding("simpletype_rule", _violation(exc), instance, name, name)
        while isinstance(ty, wrapper.named_type | wrapper.type_declaration):
            ty = ty.declared_type()
        if isinstance(value, list | tuple):
            if isinstance(ty, wrapper.aggregation_type):
                element = ty.type_of_element()
                for item in value:
                    yield from check(item, element, instance)
        elif isinstance(value, ifcopenshell.entity_instance):
            declaration = schema.declaration_by_name(value.is_a())  # type: ignore[no-untyped-call]
            if not isinstance(declaration, wrapper.entity):  # a typed value inside a select
                yield from check(value[0], declaration, instance)

    for instance in model:
        try:
            values = list(instance)
        except RecursionError:
            continue
        except Exception as exc:
            yield Finding("simpletype_rule", f"{type(exc).__name__}: {exc}", instance)
            continue
        entity: Any = schema.declaration_by_name(instance.is_a())
        for attribute, value, derived in zip(entity.all_attributes(), values, entity.derived(), strict=False):
            if not derived:
                yield from check(value, attribute.type_of_attribute(), instance)


# --- the schema checks --------------------------------------------------------------------------


def schema_findings(model: Any, path: Path | None = None, parse_log: str = "") -> Iterator[Finding]:
    """ifcopenshell.validate's schema checks; with `path`, also the IFC library's messages about the
    file: `parse_log`, its JSON log while opening the model (`SyntaxResult.parse_log`, or open with
    `open_for_validation` and leave it empty), and what it logs while validation reads the instances."""
    validate: Any = ifcopenshell.validate
    library: Any = ifcopenshell
    library.ifcopenshell_wrapper.set_log_format_json()
    json_logger = validate.json_logger()
    validate.validate(model, json_logger, express_rules=False)
    if path is not None:
        yield from _log_findings(model, path, parse_log + library.get_log())
    for statement in json_logger.statements:
        if statement.get("level") != "error":
            continue
        instance = statement.get("instance")
        kind = statement.get("type", "schema")
        if kind == "schema" and not isinstance(instance, ifcopenshell.entity_instance):
            kind = "parse" if isinstance(instance, str) else "header"
        yield Finding(kind, str(statement["message"]), instance, statement.get("attribute"))


_OFFSET = re.compile(r"\s*at offset (\d+)\s*")
_INSTANCE_ID = re.compile(r"(?:used by|for) instance #(\d+)")


def _log_findings(model: Any, path: Path, log: str) -> Iterator[Finding]:
    """The errors the IFC library logged (JSON lines) while reading the file: unknown entities, wrong
    attribute counts, dangling references, bad literals; located by their byte offset."""
    data: bytes | None = None
    for line in filter(None, log.split("\n")):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") != "error":
            continue
        text = str(entry.get("message", ""))
        location = None
        if m := _OFFSET.search(text):
            data = path.read_bytes() if data is None else data
            offset = min(int(m.group(1)), len(data))
            location = {
                "line": data.count(b"\n", 0, offset) + 1,
                "column": offset - (data.rfind(b"\n", 0, offset) + 1) + 1,
            }
            text = _OFFSET.sub(" ", text).strip()
        instance = None
        if m := _INSTANCE_ID.search(text):
            try:
                instance = model.by_id(int(m.group(1)))
            except RuntimeError:
                instance = None
        yield Finding("parse", text, instance, None, None, location)


def open_for_validation(path: Path) -> Any:
    """Open `path` so that the library's parse messages can be collected by `schema_findings`."""
    library: Any = ifcopenshell
    library.get_log()  # clears it
    library.ifcopenshell_wrapper.set_log_format_json()
    return ifcopenshell.open(str(path))


# --- outcomes -----------------------------------------------------------------------------------

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str], Finding], str]]] = [
    (re.compile(r"Attribute not optional"), lambda m, f: f"必填属性 {f.attribute} 未赋值（$）"),
    (re.compile(r"Attribute is derived in subtype"), lambda m, f: f"属性 {f.attribute} 在子类型中为派生属性，应写作 *"),
    (re.compile(r"Invalid attribute value"), lambda m, f: f"属性 {f.attribute} 的值无法解析"),
    (re.compile(r"Entity (\w+) is abstract"), lambda m, f: f"{m.group(1)} 是抽象实体，不能直接实例化"),
    (re.compile(r"Expected (\d+) attribute values, found (\d+)"),
     lambda m, f: f"属性个数错误：应为 {m.group(1)} 个，实际为 {m.group(2)} 个"),
    (re.compile(r"Rule IfcRoot\.UR1"), lambda m, f: "GlobalId 重复（IfcRoot.UR1 要求唯一）"),
    (re.compile(r"IfcGloballyUniqueId base64"), lambda m, f: "GlobalId 格式无效（应为 22 位 IFC base64 编码）"),
    (re.compile(r"Rule IfcApplication\.(UR\d)"), lambda m, f: f"IfcApplication 违反唯一性规则 {m.group(1)}"),
    (re.compile(r"Attribute '(\w+)' has invalid type"), lambda m, f: f"文件头属性 {m.group(1)} 类型错误"),
    (re.compile(r"enumeration literal '(\w+)' is not valid for type '(\w+)'"),
     lambda m, f: f"枚举值 .{m.group(1)}. 不是 {m.group(2)} 的合法取值"),
    (re.compile(r"Instance reference #(\d+) used by instance #\d+ at attribute index (\d+) not found"),
     lambda m, f: f"第 {int(m.group(2)) + 1} 个属性引用的实例 #{m.group(1)} 不存在"),
    (re.compile(r"Entity with name '(\w+)' not found in schema '(\w+)'"),
     lambda m, f: f"实体 {m.group(1)} 不属于模式 {m.group(2)}"),
    (re.compile(r"[Ii]nverse"), lambda m, f: f"反向属性 {f.attribute} 的数量不符合模式"),
    (re.compile(r"Not valid"), lambda m, f: f"属性 {f.attribute} 的值类型不符合模式"),
]  # fmt: skip


def message_of(finding: Finding) -> str:
    """The Chinese message for a finding."""
    where = ""
    inst: Any = finding.instance
    if isinstance(inst, ifcopenshell.entity_instance) and inst.id():
        where = f"实例 #{inst.id()}（{inst.is_a()}）"  # type: ignore[no-untyped-call]
    elif isinstance(inst, str):
        where = f"实例 {inst.split('=', 1)[0].strip()}"
    if finding.kind == "global_rule":
        return f"违反全局规则 {finding.rule}"
    if finding.kind == "entity_rule":
        return f"{where}违反实体 WHERE 规则 {finding.rule}"
    if finding.kind == "simpletype_rule":
        rule = f"类型 WHERE 规则 {finding.rule}" if finding.rule else "类型 WHERE 规则（无法求值）"
        return f"{where}的属性值违反{rule}"
    for pattern, render in _PATTERNS:
        m = pattern.search(finding.text)
        if m:
            return f"{where}{'：' if where else ''}{render(m, finding)}"
    return f"{where}{'：' if where else ''}不符合 IFC 模式"


def _expected(finding: Finding) -> str | None:
    if finding.kind in ("global_rule", "entity_rule", "simpletype_rule"):
        return f"满足 EXPRESS 规则 {finding.rule}" if finding.rule else None
    m = re.search(r"With attribute:\n\s*(<attribute .*?>)\n", finding.text, re.DOTALL)
    return m.group(1) if m else None


def outcome_of(finding: Finding) -> Outcome:
    inst = finding.instance
    instance = Instance.of(inst) if isinstance(inst, ifcopenshell.entity_instance) and inst.id() else None
    return Outcome(
        rule="SCHEMA", severity=Severity.ERROR, message=message_of(finding), instance=instance,
        expected=_expected(finding),
        observed={"kind": finding.kind, "attribute": finding.attribute, "detail": finding.text},
        location=finding.location,
    )  # fmt: skip


@dataclass
class SchemaResult:
    outcomes: list[Outcome]
    blocked: bool = False  # schema errors never block the later stages (as in the Validation Service)
    errors: int = 0

    @property
    def verdict(self) -> str:
        return "blocked" if self.blocked else "pass"


def check_schema(
    model: Any, path: Path | None = None, *, parse_log: str = "", express: bool = True
) -> SchemaResult:
    """Schema and (with `express`) EXPRESS-rule outcomes for an open model, sorted by STEP id; one
    PASSED outcome when there is nothing to report."""
    # Header attribute types are the header stage's (HEADER, with the field named): not repeated here.
    findings = [f for f in schema_findings(model, path, parse_log) if f.kind != "header"]
    if express:
        findings.extend(run_express_rules(model))
    seen: set[tuple[Any, ...]] = set()
    outcomes = []
    for finding in findings:
        outcome = outcome_of(finding)
        key = (outcome.message, outcome.instance.step_id if outcome.instance else None, finding.text)
        if key not in seen:
            seen.add(key)
            outcomes.append(outcome)
    outcomes.sort(key=lambda o: (o.instance.step_id or 0 if o.instance else 0, o.message))
    if not outcomes:
        outcomes.append(Outcome(rule="SCHEMA", severity=Severity.PASSED,
                                message=f"符合 {model.schema_identifier} 模式（含 WHERE 规则与全局规则）"))  # fmt: skip
    return SchemaResult(outcomes, errors=sum(1 for o in outcomes if o.severity == Severity.ERROR))
