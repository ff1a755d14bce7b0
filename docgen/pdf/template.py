"""Document templates as data (`docgen/templates/<kind>.json`) and the validation of input against them.

A template holds: `kind`, `title`, `version`, `page` (`size` A4/A3, `orientation`, `border`, optional
`columns` as fractions of the width with `gap` in mm, `footer_right`), `fields` (key, Chinese label,
`type` text/date/number/integer/select/table, `required`, `max_length`, `pattern` + `pattern_hint`,
`options`, `unit`; a table field has `columns` of such fields and `min_rows`/`max_rows`), `blocks`
(laid out by `docgen.pdf.engine`) and a valid `sample`. Text in blocks may use `{field}` placeholders
and the stamp's `{doc_id}`, `{revision}`, `{issued_on}`, `{short_digest}`.
A template is checked when loaded (`TemplateInvalid`, a programming error); input data is checked
against it (`check_data`), every problem reported at its dotted path ("items.2.capacity").
Must not: lay anything out, or accept a template whose blocks name fields it does not declare.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from docgen.errors import Problem
from docgen.pdf.style import PAGE_SIZES

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
STAMP_FIELDS = frozenset({"doc_id", "revision", "issued_on", "short_digest"})
FIELD_TYPES = frozenset({"text", "date", "number", "integer", "select", "table"})
BLOCK_TYPES = frozenset(
    {
        "title",
        "paragraph",
        "grid",
        "table",
        "signatures",
        "qr",
        "seal",
        "notes",
        "spacer",
        "row",
        "next_column",
    }
)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Template = dict[str, Any]


class TemplateInvalid(ValueError):
    """A template file that the engine cannot render: fix the JSON, not the input."""


def placeholders(value: str) -> list[str]:
    return PLACEHOLDER.findall(value)


def _texts(block: dict[str, Any]) -> list[str]:
    """Every string of a block that may hold placeholders."""
    found: list[str] = []
    for key in ("text", "note"):
        if isinstance(block.get(key), str):
            found.append(block[key])
    for key in ("lines", "items"):
        found += [item for item in block.get(key, []) if isinstance(item, str)]
    for item in block.get("cells", []):
        found += [item[k] for k in ("label", "text") if isinstance(item.get(k), str)]
    found += [name for name in block.get("names", {}).values() if isinstance(name, str)]
    return found


def _walk(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for block in blocks:
        flat.append(block)
        if block.get("type") == "row":
            for column in block.get("blocks", []):
                flat += _walk(column)
    return flat


def check_template(template: Template) -> list[str]:
    """What is wrong with a template (empty when it can be rendered)."""
    problems = [
        f"missing {key}"
        for key in ("kind", "title", "version", "page", "fields", "blocks")
        if key not in template
    ]
    if problems:
        return problems
    page = template["page"]
    if page.get("size") not in PAGE_SIZES or page.get("orientation") not in ("portrait", "landscape"):
        problems.append("page: size must be A4/A3, orientation portrait/landscape")
    fields = {f.get("key"): f for f in template["fields"]}
    for key, field in fields.items():
        if field.get("type") not in FIELD_TYPES or not field.get("label"):
            problems.append(f"field {key}: needs a label and a type in {sorted(FIELD_TYPES)}")
        if field.get("type") == "select" and not field.get("options"):
            problems.append(f"field {key}: a select needs options")
        for column in field.get("columns", []) if field.get("type") == "table" else []:
            if column.get("type") not in FIELD_TYPES - {"table"} or not column.get("label"):
                problems.append(f"field {key}.{column.get('key')}: needs a label and a scalar type")
    problems += [
        f"field {key}: the name is taken by the stamp's placeholder" for key in fields if key in STAMP_FIELDS
    ]
    scalars = {k for k, f in fields.items() if f.get("type") != "table"}
    for block in _walk(template["blocks"]):
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            problems.append(f"block type {kind!r} is unknown")
        for text in _texts(block):
            problems += [
                f"block {kind}: placeholder {{{name}}} names no field"
                for name in placeholders(text)
                if name not in scalars and name not in STAMP_FIELDS
            ]
        if kind == "grid":
            problems += [
                f"grid: field {item['field']} is not a scalar field"
                for item in block.get("cells", [])
                if "field" in item and item["field"] not in scalars
            ]
        if kind == "table":
            field = fields.get(block.get("field"))
            if field is None or field.get("type") != "table":
                problems.append(f"table: {block.get('field')} is not a table field")
    return problems


@functools.cache
def _load() -> dict[str, Template]:
    loaded: dict[str, Template] = {}
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        template: Template = json.loads(path.read_text(encoding="utf-8"))
        problems = check_template(template)
        if template.get("kind") != path.stem:
            problems.append(f"kind {template.get('kind')!r} differs from the file name")
        if problems:
            raise TemplateInvalid(f"{path.name}: " + "; ".join(problems))
        loaded[path.stem] = template
    return loaded


def templates() -> dict[str, Template]:
    """Every template by kind (copies: callers may not change the loaded ones)."""
    return copy.deepcopy(_load())


def template(kind: str) -> Template:
    found = _load().get(kind)
    if found is None:
        raise KeyError(f"no document template {kind!r}")
    return found


def sample_data(kind: str) -> dict[str, Any]:
    """Valid demonstration input for a template (fictitious project)."""
    sample: dict[str, Any] = copy.deepcopy(template(kind)["sample"])
    return sample


def check_data(tpl: Template, data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem("", "数据应为按字段填写的对象", "invalid")]
    problems: list[Problem] = []
    for field in tpl["fields"]:
        value = data.get(field["key"])
        if field["type"] == "table":
            problems += _check_rows(field, value)
        else:
            problems += _check_value(field, value, field["key"])
    return problems


def _check_rows(field: dict[str, Any], rows: Any) -> list[Problem]:
    key, label = field["key"], field["label"]
    if rows is None or rows == []:
        if field.get("required") or field.get("min_rows", 0) > 0:
            return [Problem(key, f"请填写{label}（至少 {max(field.get('min_rows', 1), 1)} 行）", "missing")]
        return []
    if not isinstance(rows, list):
        return [Problem(key, f"{label}应为多行数据", "invalid")]
    problems: list[Problem] = []
    if len(rows) < field.get("min_rows", 0):
        problems.append(Problem(key, f"{label}至少填写 {field['min_rows']} 行", "missing"))
    if len(rows) > field.get("max_rows", 1000):
        problems.append(Problem(key, f"{label}最多 {field['max_rows']} 行", "too_long"))
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(
                Problem(f"{key}.{index}", f"{label}第 {index + 1} 行应为按列填写的对象", "invalid")
            )
            continue
        for column in field["columns"]:
            path = f"{key}.{index}.{column['key']}"
            problems += _check_value(column, row.get(column["key"]), path, f"{label}第 {index + 1} 行")
    return problems


def _check_value(field: dict[str, Any], value: Any, path: str, where: str = "") -> list[Problem]:
    label = where + field["label"]
    if value is None or (isinstance(value, str) and not value.strip()):
        return [Problem(path, f"请填写{label}", "missing")] if field.get("required") else []
    kind = field["type"]
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [Problem(path, f"{label}应为数字", "invalid")]
        if kind == "integer" and not float(value).is_integer():
            return [Problem(path, f"{label}应为整数", "invalid")]
        if "min" in field and value < field["min"]:
            return [Problem(path, f"{label}不应小于 {field['min']}", "invalid")]
        if "max" in field and value > field["max"]:
            return [Problem(path, f"{label}不应大于 {field['max']}", "invalid")]
        return []
    if not isinstance(value, str):
        return [Problem(path, f"{label}应为文本", "invalid")]
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return [Problem(path, f"{label}应为日期（年-月-日）", "invalid")]
        if not DATE.match(value):
            return [Problem(path, f"{label}应为日期（年-月-日）", "invalid")]
        return []
    if kind == "select" and value not in field["options"]:
        return [Problem(path, f"{label}应为：{'、'.join(field['options'])}之一", "invalid")]
    if "max_length" in field and len(value) > field["max_length"]:
        return [Problem(path, f"{label}不能超过 {field['max_length']} 个字", "too_long")]
    if "pattern" in field and not re.fullmatch(field["pattern"], value):
        hint = f"（{field['pattern_hint']}）" if field.get("pattern_hint") else ""
        return [Problem(path, f"{label}格式不正确{hint}", "invalid")]
    return []


def display(field: dict[str, Any], value: Any) -> str:
    """How a value is printed: dates as 2026年11月29日, numbers with their unit."""
    if value is None or value == "":
        return "—"
    if field["type"] == "date":
        day = date.fromisoformat(value)
        return f"{day.year}年{day.month}月{day.day}日"
    if field["type"] in ("number", "integer"):
        number = f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value}"
        return f"{number} {field['unit']}" if field.get("unit") else number
    return str(value)
