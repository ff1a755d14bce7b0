"""What the two general-description sheets say, from the `bim_building` form's canonical content:
the sections generated from the structured data (docgen.md §5.1/§5.2: 工程概况 with the units
table, 设计依据, 建筑分类等级, 主要荷载取值 from the load rows, walls) followed by the user's
rich-text notes (ProseMirror JSON: headings, paragraphs, bullet and ordered lists).

`check` validates the content against the form schema and the sheet's own needs and raises
`DataInvalid` with every problem at once.
Must not: place anything on a sheet (`flow` does) or touch DXF.
"""

from __future__ import annotations

import re
from typing import Any

from collab import catalogue, validation
from docgen import signatories
from docgen.errors import DataInvalid, Problem
from docgen.sheets import flow
from docgen.sheets.flow import Item

Json = Any
FORM = "bim_building"


def check(content: Json, notes_key: str, needs_loads: bool) -> dict[str, Json]:
    """The content's sections, or DataInvalid listing every problem."""
    if (
        not isinstance(content, dict)
        or content.get("form") != FORM
        or not isinstance(content.get("sections"), dict)
    ):
        raise DataInvalid([Problem("form", "需要 BIM 建筑信息填报表的数据", "invalid")])
    problems = [_problem(e) for e in validation.validate(catalogue.form(FORM), content)]
    sections: dict[str, Json] = content["sections"]
    if not _has_text(sections.get(notes_key)):
        problems.append(Problem(notes_key, "请填写设计说明正文", "missing"))
    if needs_loads and not sections.get("loads"):
        problems.append(Problem("loads", "结构设计总说明需要至少一行荷载依据", "missing"))
    problems += signatories.check(content)
    unique = list(dict.fromkeys(problems))  # a rule may repeat a field's own error
    if unique:
        raise DataInvalid(unique)
    return sections


def _problem(error: validation.FieldError) -> Problem:
    field = re.sub(r"\[(\d+)\]", r".\1", error.path)
    kind = {"required": "missing", "too_few_rows": "missing", "too_long": "too_long"}.get(
        error.code, "invalid"
    )
    return Problem(field, error.message, kind)


def _has_text(node: Json) -> bool:
    if isinstance(node, dict):
        if node.get("type") == "text" and str(node.get("text", "")).strip():
            return True
        return any(_has_text(child) for child in node.get("content", ()) or ())
    return False


def number(value: Json, unit: str = "") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        text = str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0").rstrip(".")
        return f"{text} {unit}".rstrip() if unit else text
    return str(value)


def _kv_table(pairs: list[tuple[str, str]], width: float) -> list[Item]:
    rows = [[label, value] for label, value in pairs]
    return flow.table([("项目", 1.0), ("内容", 2.2)], rows, width)


def _units_table(sections: dict[str, Json], width: float) -> list[Item]:
    rows = [
        [str(u.get("name", "")), str(u.get("use") or "—"), number(u.get("floors")), number(u.get("height")),
         number(u.get("area"))]
        for u in sections.get("units") or []
    ]  # fmt: skip
    columns = [("单体名称", 1.4), ("使用功能", 1.8), ("层数", 0.7), ("高度(m)", 0.9), ("建筑面积(m²)", 1.3)]
    return flow.table(columns, rows, width)


def _walls_table(sections: dict[str, Json], width: float) -> list[Item]:
    rows = [
        [str(w.get("position", "")), str(w.get("material", "")), number(w.get("thickness")),
         number(w.get("fire_limit"))]
        for w in sections.get("walls") or []
    ]  # fmt: skip
    return flow.table([("部位", 1.0), ("材料", 2.4), ("厚度(mm)", 1.0), ("耐火极限(h)", 1.2)], rows, width)


def _loads_table(sections: dict[str, Json], width: float) -> list[Item]:
    rows = [
        [
            str(r.get("room", "")),
            str(r.get("category", "")),
            number(r.get("live_load")),
            number(r.get("dead_load")),
        ]
        for r in sections.get("loads") or []
    ]
    columns = [("部位或房间", 1.6), ("类别", 1.6), ("活荷载标准值(kN/m²)", 1.3), ("附加恒荷载(kN/m²)", 1.3)]
    return flow.table(columns, rows, width)


def architecture_items(sections: dict[str, Json], width: float) -> list[Item]:
    p, s = sections["project"], sections.get("structure") or {}
    items = flow.heading("第一部分　工程信息（据填报数据生成）", width)
    items += flow.heading("1　工程概况", width, level=3)
    items += _kv_table([
        ("工程名称", str(p["project_name"])),
        ("项目代码", str(p.get("project_code") or "—")),
        ("建设单位", str(p["construction_unit"])),
        ("设计单位", str(p["design_unit"])),
        ("建设地点", str(p.get("location") or "—")),
        ("建筑分类", str(p["building_category"])),
        ("总建筑面积", number(p["total_area"], "m²")),
        ("其中地上/地下", f"{number(p.get('above_ground_area'), 'm²')} / {number(p.get('below_ground_area'), 'm²')}"),
        ("建筑高度", number(p["height"], "m")),
        ("层数", f"地上 {number(p['above_floors'])} 层，地下 {number(p.get('below_floors') or 0)} 层"),
        ("装配式建筑", number(bool(p.get("prefabricated")))),
    ], width)  # fmt: skip
    items += flow.paragraph("各单体概况见下表。", width)
    items += _units_table(sections, width)
    items += flow.heading("2　建筑分类等级", width, level=3)
    items += _kv_table([
        ("耐火等级", str(p["fire_resistance"])),
        ("设计使用年限", str(p["design_life"])),
        ("抗震设防烈度", str(s.get("seismic_intensity") or "—")),
        ("结构形式", str(s.get("structure_type") or "—")),
    ], width)  # fmt: skip
    if sections.get("walls"):
        items += flow.heading("3　墙体", width, level=3)
        items += _walls_table(sections, width)
    items += flow.heading("第二部分　设计说明", width)
    return items + richtext_items(sections["architecture_notes"], width)


def structure_items(sections: dict[str, Json], width: float) -> list[Item]:
    p, s = sections["project"], sections["structure"]
    items = flow.heading("第一部分　工程信息（据填报数据生成）", width)
    items += flow.heading("1　工程概况", width, level=3)
    items += flow.paragraph(
        f"本工程为{p['project_name']}，位于{p.get('location') or '—'}，{p['building_category']}，"
        f"地上 {number(p['above_floors'])} 层，地下 {number(p.get('below_floors') or 0)} 层，"
        f"建筑高度 {number(p['height'])} m，总建筑面积 {number(p['total_area'])} m²；"
        f"结构形式为{s['structure_type']}，基础形式为{s.get('foundation_type') or '—'}。",
        width,
    )
    items += _units_table(sections, width)
    items += flow.heading("2　设计依据", width, level=3)
    items += flow.paragraph(
        f"1. 结构设计使用年限 {p['design_life']}，建筑结构安全等级{s['safety_grade']}。", width
    )
    items += flow.paragraph(
        f"2. 抗震设防烈度 {s['seismic_intensity']}，设计基本地震加速度 {s.get('seismic_acceleration') or '—'}，"
        f"建筑场地类别 {s.get('site_class') or '—'} 类。",
        width,
    )
    items += flow.paragraph(
        f"3. 基本风压 w0={number(s.get('basic_wind_pressure'))} kN/m²，"
        f"基本雪压 s0={number(s.get('basic_snow_pressure'))} kN/m²（50 年一遇）。",
        width,
    )
    items += flow.heading("3　建筑分类等级", width, level=3)
    items += _kv_table([
        ("结构安全等级", str(s["safety_grade"])),
        ("设计使用年限", str(p["design_life"])),
        ("耐火等级", str(p["fire_resistance"])),
        ("抗震设防烈度", str(s["seismic_intensity"])),
        ("建筑场地类别", str(s.get("site_class") or "—")),
        ("基础形式", str(s.get("foundation_type") or "—")),
    ], width)  # fmt: skip
    items += flow.heading("4　主要荷载（作用）取值", width, level=3)
    items += flow.paragraph("楼面、屋面均布活荷载标准值及附加恒荷载按下表采用（GB 55001-2021）。", width)
    items += _loads_table(sections, width)
    if sections.get("walls"):
        items += flow.heading("5　填充墙", width, level=3)
        items += _walls_table(sections, width)
    items += flow.heading("第二部分　设计说明", width)
    return items + richtext_items(sections["structure_notes"], width)


def richtext_items(doc: Json, width: float, indent: float = 0.0) -> list[Item]:
    """Headings, paragraphs and (nested) lists of a ProseMirror document; marks are not rendered."""
    items: list[Item] = []
    for node in doc.get("content", []) if isinstance(doc, dict) else []:
        kind = node.get("type")
        if kind == "heading":
            text = _text(node)
            if text.strip():
                items += flow.heading(text, width, level=int(node.get("attrs", {}).get("level", 2)))
        elif kind == "paragraph":
            text = _text(node)
            if text.strip():
                items += flow.paragraph(text, width, indent)
        elif kind in ("bullet_list", "ordered_list"):
            start = int(node.get("attrs", {}).get("order", 1) or 1)
            for n, entry in enumerate(node.get("content", [])):
                marker = "•" if kind == "bullet_list" else f"{start + n}."
                items += _list_item(entry, width, indent, marker)
    return items


def _list_item(entry: Json, width: float, indent: float, marker: str) -> list[Item]:
    items: list[Item] = []
    for child in entry.get("content", []):
        if child.get("type") == "paragraph" and not items:
            items += flow.paragraph(_text(child), width, indent, marker=marker)
        else:
            hang = flow.BODY_H * 1.5
            items += richtext_items({"content": [child]}, width, indent + hang)
    return items


def _text(node: Json) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hard_break":
        return " "
    return "".join(_text(child) for child in node.get("content", []) or [])
