"""Validation of a form document's structured data (canonical JSON, `collab.content`) against its
schema: required fields and rows, types, formats, ranges, options, then the cross-field rules.

Each problem is reported at its field path: "project.height" for a field, "units[2].area" for a
table cell (rows counted from 0), "units" for a table as a whole, with a machine code and a Chinese
message. Rich text is not validated beyond `required`. Pure: the same content gives the same errors,
in schema order then rule order.
Must not: read documents or storage.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from collab.schema import (
    AllowedIf,
    ColumnSumAtMost,
    Condition,
    FieldsSection,
    FormField,
    FormSchema,
    RequiredIf,
    RichTextSection,
    RowMinimum,
    SumEquals,
    TableSection,
)

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class FieldError:
    path: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"path": self.path, "code": self.code, "message": self.message}


def validate(schema: FormSchema, content: dict[str, Any]) -> list[FieldError]:
    sections: dict[str, Any] = content.get("sections", {})
    errors: list[FieldError] = []
    for section in schema.sections:
        data = sections.get(section.key)
        if isinstance(section, FieldsSection):
            values = data if isinstance(data, dict) else {}
            for field in section.fields:
                errors += check_value(field, values.get(field.key), f"{section.key}.{field.key}")
        elif isinstance(section, TableSection):
            rows = data if isinstance(data, list) else []
            errors += _check_rows(section, rows)
        elif isinstance(section, RichTextSection) and section.required and not _has_text(data):
            errors.append(FieldError(section.key, "required", f"请填写{section.title}"))
    failed = {e.path for e in errors}
    for rule in schema.rules:
        errors += _check_rule(rule, sections, failed)
    return errors


def _check_rows(section: TableSection, rows: list[Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(rows) < section.min_rows:
        errors.append(
            FieldError(section.key, "too_few_rows", f"{section.title}至少填写 {section.min_rows} 行")
        )
    if len(rows) > section.max_rows:
        errors.append(FieldError(section.key, "too_many_rows", f"{section.title}最多 {section.max_rows} 行"))
    for index, row in enumerate(rows):
        values = row if isinstance(row, dict) else {}
        for column in section.columns:
            errors += check_value(column, values.get(column.key), f"{section.key}[{index}].{column.key}")
    return errors


def check_value(field: FormField, value: Any, path: str) -> list[FieldError]:
    label = field.label
    if value is None or value == "":
        return [FieldError(path, "required", f"请填写{label}")] if field.required else []
    match field.type:
        case "number" | "integer":
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                return [FieldError(path, "not_a_number", f"{label}应为数字")]
            if field.type == "integer" and not float(value).is_integer():
                return [FieldError(path, "not_an_integer", f"{label}应为整数")]
            unit = field.unit or ""
            if field.min is not None and value < field.min:
                return [FieldError(path, "too_small", f"{label}不应小于 {_num(field.min)}{unit}")]
            if field.max is not None and value > field.max:
                return [FieldError(path, "too_large", f"{label}不应大于 {_num(field.max)}{unit}")]
            return []
        case "boolean":
            return (
                [] if isinstance(value, bool) else [FieldError(path, "not_a_boolean", f"{label}应为是或否")]
            )
    if not isinstance(value, str):
        return [FieldError(path, "not_text", f"{label}应为文本")]
    if field.type == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return [FieldError(path, "not_a_date", f"{label}应为日期（年-月-日）")]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return [FieldError(path, "not_a_date", f"{label}应为日期（年-月-日）")]
    if field.type == "select" and value not in (field.options or ()):
        return [FieldError(path, "not_an_option", f"{label}应为：{'、'.join(field.options or ())}之一")]
    if field.max_length is not None and len(value) > field.max_length:
        return [FieldError(path, "too_long", f"{label}不能超过 {field.max_length} 个字")]
    if field.pattern is not None and not re.fullmatch(field.pattern, value):
        hint = f"（{field.pattern_hint}）" if field.pattern_hint else ""
        return [FieldError(path, "bad_format", f"{label}格式不正确{hint}")]
    return []


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _has_text(doc: Any) -> bool:
    if isinstance(doc, dict):
        if doc.get("type") == "text" and str(doc.get("text", "")).strip():
            return True
        return any(_has_text(child) for child in doc.get("content", ()))
    return False


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _field_value(sections: dict[str, Any], path: str) -> Any:
    section, _, key = path.partition(".")
    values = sections.get(section)
    return values.get(key) if isinstance(values, dict) else None


def _holds(condition: Condition, value: Any) -> bool:
    if value is None or value == "":
        return False
    expected = condition.value
    if isinstance(expected, str):
        return condition.op in ("==", "!=") and OPS[condition.op](value, expected)
    number = _number(value)
    return number is not None and OPS[condition.op](number, expected)


def _check_rule(
    rule: SumEquals | ColumnSumAtMost | RequiredIf | AllowedIf | RowMinimum,
    sections: dict[str, Any],
    failed: set[str],
) -> list[FieldError]:
    """A rule is checked only on values that passed their own checks (no second error for one cause)."""
    match rule:
        case SumEquals():
            if rule.target in failed or any(t in failed for t in rule.terms):
                return []
            target = _number(_field_value(sections, rule.target))
            terms = [_number(_field_value(sections, t)) for t in rule.terms]
            if target is None or any(t is None for t in terms):
                return []
            expected = sum(t for t in terms if t is not None)
            if abs(target - expected) > rule.tolerance:
                return [FieldError(rule.target, "sum_mismatch", rule.message.format(expected=_num(expected)))]
        case ColumnSumAtMost():
            limit = _number(_field_value(sections, rule.limit))
            rows = sections.get(rule.table)
            if limit is None or rule.limit in failed or not isinstance(rows, list):
                return []
            total = sum(_number(r.get(rule.column)) or 0.0 for r in rows if isinstance(r, dict))
            if total > limit + rule.tolerance:
                return [FieldError(rule.table, "sum_too_large", rule.message.format(sum=_num(total)))]
        case RequiredIf():
            value = _field_value(sections, rule.field)
            if _holds(rule, _field_value(sections, rule.when)) and value in (None, ""):
                return [FieldError(rule.field, "required", rule.message)]
        case AllowedIf():
            value = _field_value(sections, rule.field)
            if (
                value not in (None, "")
                and value not in rule.allowed
                and _holds(rule, _field_value(sections, rule.when))
            ):
                return [FieldError(rule.field, "not_allowed", rule.message)]
        case RowMinimum():
            rows = sections.get(rule.table)
            errors = []
            for index, row in enumerate(rows if isinstance(rows, list) else []):
                path = f"{rule.table}[{index}].{rule.column}"
                if not isinstance(row, dict) or path in failed:
                    continue
                minimum = rule.minimums.get(str(row.get(rule.by)))
                value = _number(row.get(rule.column))
                if minimum is not None and value is not None and value < minimum:
                    message = rule.message.format(**{rule.by: row.get(rule.by), "minimum": _num(minimum)})
                    errors.append(FieldError(path, "below_minimum", message))
            return errors
    return []
