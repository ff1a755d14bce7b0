"""Project-level normative rules, after the Validation Service's functional part PJS (Project):
the project's presence (PJS000, PJS101), conversion-based units (PJS001), what a project may
declare (PJS002) and the GlobalId format (PJS003), plus our own GlobalId uniqueness (TB100).

Activation follows the Validation Service: a rule yields PASSED/ERROR outcomes only for instances
that pass all of its "Given" steps, and nothing when none do.
Must not: modify the model, read anything but the model and params, or walk all instances more than
once per rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from bim.outcomes import Outcome, Severity
from bim.rules.base import by_type, outcome, ref, rule

# --- PJS000 -------------------------------------------------------------------------------------


@rule("PJS000", 1, "项目：模型包含项目（IfcProject）信息")
def check_pjs000(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Activation only: the functional part applies when the model has an IfcProject."""
    for project in by_type(model, "IfcProject"):
        yield outcome("PJS000", 1, Severity.PASSED, f"模型包含项目 {ref(project)}", project)


# --- PJS101 -------------------------------------------------------------------------------------


@rule("PJS101", 1, "项目：模型中必须恰好有一个 IfcProject")
def check_pjs101(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    projects = sorted(by_type(model, "IfcProject", include_subtypes=False), key=lambda e: e.id())
    if len(projects) == 1:
        yield outcome("PJS101", 1, Severity.PASSED, "模型恰好包含一个 IfcProject", projects[0], 1, 1)
    elif not projects:
        yield outcome(
            "PJS101", 1, Severity.ERROR, "模型缺少 IfcProject：应恰好有 1 个，实际 0 个", None, 1, 0
        )
    else:
        ids = "、".join(f"#{p.id()}" for p in projects)
        for project in projects:
            yield outcome(
                "PJS101",
                1,
                Severity.ERROR,
                f"模型包含多个 IfcProject（{ids}）：应恰好有 1 个，实际 {len(projects)} 个",
                project,
                1,
                len(projects),
            )


# --- PJS003 / TB100 -----------------------------------------------------------------------------

GUID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$"
_GUID_CHARS = frozenset(GUID_ALPHABET)


def guid_problems(value: Any) -> list[str]:
    """What is wrong with an IfcGloballyUniqueId (empty list when it is well-formed)."""
    if not isinstance(value, str):
        return ["GlobalId 缺失"]
    problems = []
    if len(value) != 22:
        problems.append(f"长度应为 22 个字符，实际 {len(value)} 个")
    bad = sorted({c for c in value if c not in _GUID_CHARS})
    if bad:
        problems.append("含有编码字符集以外的字符：" + " ".join(repr(c) for c in bad))
    if value and value[0] not in "0123":
        problems.append(f"首字符应为 0、1、2 或 3，实际为 {value[0]!r}")
    return problems


@rule("PJS003", 1, "项目：GlobalId 必须符合 IFC 编码格式（22 位、IFC base64 字符集、首字符 0–3）")
def check_pjs003(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    for root in sorted(by_type(model, "IfcRoot"), key=lambda e: e.id()):
        try:
            value = root.GlobalId
        except (AttributeError, RuntimeError):
            continue
        problems = guid_problems(value)
        if problems:
            yield outcome(
                "PJS003",
                1,
                Severity.ERROR,
                f"{ref(root)} 的 GlobalId {value!r} 格式错误：" + "；".join(problems),
                root,
                "22 位 IFC base64 字符（0-9A-Za-z_$），首字符 0–3",
                value,
            )
        else:
            yield outcome("PJS003", 1, Severity.PASSED, f"{ref(root)} 的 GlobalId 格式正确", root)


@rule("TB100", 1, "项目：GlobalId 在模型内必须唯一")
def check_tb100(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Our rule (the schema's uniqueness rule UR1 of IfcRoot, reported per instance in Chinese)."""
    seen: dict[str, list[Any]] = {}
    roots = by_type(model, "IfcRoot")
    for root in roots:
        try:
            value = root.GlobalId
        except (AttributeError, RuntimeError):
            continue
        if isinstance(value, str):
            seen.setdefault(value, []).append(root)
    if not roots:
        return
    duplicated = False
    for value, entities in sorted(seen.items(), key=lambda kv: min(e.id() for e in kv[1])):
        if len(entities) < 2:
            continue
        duplicated = True
        entities.sort(key=lambda e: e.id())
        others = "、".join(f"#{e.id()}" for e in entities)
        for entity in entities:
            yield outcome(
                "TB100",
                1,
                Severity.ERROR,
                f"{ref(entity)} 的 GlobalId {value!r} 与其他实例重复（共 {len(entities)} 个：{others}）",
                entity,
                "唯一",
                len(entities),
            )
    if not duplicated:
        yield outcome("TB100", 1, Severity.PASSED, f"全部 {len(roots)} 个 IfcRoot 实例的 GlobalId 互不相同")


# --- PJS002 -------------------------------------------------------------------------------------

# Object types a project may declare with IfcRelDeclares (Project Declaration concept template).
DECLARABLE = (
    "IfcActor",
    "IfcControl",
    "IfcGroup",
    "IfcProcess",
    "IfcProjectLibrary",
    "IfcPropertySetTemplate",
    "IfcResource",
    "IfcTypeObject",
)


@rule("PJS002", 2, "项目：项目只能通过 IfcRelDeclares 声明类型、库、模板等，不能声明构件实例")
def check_pjs002(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    found: dict[int, tuple[Any, Any]] = {}
    for project in by_type(model, "IfcProject"):
        for rel in getattr(project, "Declares", None) or ():
            for definition in getattr(rel, "RelatedDefinitions", None) or ():
                if definition is not None:
                    found.setdefault(definition.id(), (definition, project))
    for _, (definition, project) in sorted(found.items()):
        if any(definition.is_a(c) for c in DECLARABLE):
            yield outcome("PJS002", 2, Severity.PASSED, f"{ref(definition)} 由项目声明，类型允许", definition)
        else:
            yield outcome(
                "PJS002",
                2,
                Severity.ERROR,
                f"{ref(definition)} 通过 IfcRelDeclares 关联到项目 {ref(project)}，但项目只能声明"
                f"{'、'.join(DECLARABLE)}；构件等对象实例应通过空间包含关系关联到空间结构",
                definition,
                list(DECLARABLE),
                definition.is_a(),
            )


# --- PJS001 -------------------------------------------------------------------------------------

# Recommended conversion-based units per schema (IfcConversionBasedUnit documentation tables):
# name → (unit type, factor in the SI base unit, factor as printed in the schema's table or None).
# The exact factor is the definition of the unit; the printed one is accepted too because the
# schema documentation rounds several of them.
_INCH = 0.0254
_FOOT = 0.3048
_COMMON = {
    "inch": ("LENGTHUNIT", _INCH, None),
    "foot": ("LENGTHUNIT", _FOOT, None),
    "yard": ("LENGTHUNIT", 0.9144, 0.914),
    "mile": ("LENGTHUNIT", 1609.344, 1609.0),
    "acre": ("AREAUNIT", 4046.8564224, 4046.86),
    "litre": ("VOLUMEUNIT", 0.001, None),
    "pint UK": ("VOLUMEUNIT", 0.00056826125, 0.000568),
    "pint US": ("VOLUMEUNIT", 0.000473176473, 0.000473),
    "gallon UK": ("VOLUMEUNIT", 0.00454609, 0.004546),
    "gallon US": ("VOLUMEUNIT", 0.003785411784, 0.003785),
    "ounce": ("MASSUNIT", 0.028349523125, 0.02835),
    "pound": ("MASSUNIT", 0.45359237, 0.454),
}
_IFC4_EXTRA = {
    "square inch": ("AREAUNIT", _INCH**2, 0.0006452),
    "square foot": ("AREAUNIT", _FOOT**2, 0.09290),
    "square yard": ("AREAUNIT", 0.83612736, None),
    "square mile": ("AREAUNIT", 2589988.110336, 2588881.0),
    "cubic inch": ("VOLUMEUNIT", _INCH**3, 0.00001639),
    "cubic foot": ("VOLUMEUNIT", _FOOT**3, 0.02832),
    "cubic yard": ("VOLUMEUNIT", 0.764554857984, 0.7636),
    "fluid ounce UK": ("VOLUMEUNIT", 0.0000284130625, None),
    "fluid ounce US": ("VOLUMEUNIT", 0.0000295735295625, 0.00002957353),
    "degree": ("PLANEANGLEUNIT", math.pi / 180, None),
    "ton UK": ("MASSUNIT", 1016.0469088, None),
    "ton US": ("MASSUNIT", 907.18474, None),
    "lbf": ("FORCEUNIT", 4.4482216152605, 4.4482216153),
    "kip": ("FORCEUNIT", 4448.2216152605, 4448.2216153),
    "psi": ("PRESSUREUNIT", 6894.757293168, 6894.7572932),
    "ksi": ("PRESSUREUNIT", 6894757.293168, 6894757.2932),
    "minute": ("TIMEUNIT", 60.0, None),
    "hour": ("TIMEUNIT", 3600.0, None),
    "day": ("TIMEUNIT", 86400.0, None),
    "btu": ("ENERGYUNIT", 1055.056, None),
}
CONVERSION_UNITS: dict[str, dict[str, tuple[str, float, float | None]]] = {
    "IFC2X3": dict(_COMMON),
    "IFC4": {**_COMMON, **_IFC4_EXTRA},
    "IFC4X3": {**_COMMON, **_IFC4_EXTRA, "US survey foot": ("LENGTHUNIT", 1200 / 3937, None)},
}
CHECKED_NAME_TYPES = ("AREAUNIT", "LENGTHUNIT", "VOLUMEUNIT", "PLANEANGLEUNIT")
SI_BASE_FOR = {
    "AREAUNIT": "SQUARE_METRE",
    "LENGTHUNIT": "METRE",
    "VOLUMEUNIT": "CUBIC_METRE",
    "PLANEANGLEUNIT": "RADIAN",
}
SI_PREFIX = {
    "EXA": 1e18,
    "PETA": 1e15,
    "TERA": 1e12,
    "GIGA": 1e9,
    "MEGA": 1e6,
    "KILO": 1e3,
    "HECTO": 1e2,
    "DECA": 1e1,
    "DECI": 1e-1,
    "CENTI": 1e-2,
    "MILLI": 1e-3,
    "MICRO": 1e-6,
    "NANO": 1e-9,
    "PICO": 1e-12,
    "FEMTO": 1e-15,
    "ATTO": 1e-18,
}
_POWER = {"SQUARE_METRE": 2, "CUBIC_METRE": 3}
# Base units whose SI unit is the gram (the table gives mass factors in kilograms).
_KILOGRAM_BASED = {"GRAM"}
FACTOR_TOLERANCE = 1e-6  # relative


def _schema_key(model: Any) -> str:
    schema = str(getattr(model, "schema", "")).upper()
    return "IFC4X3" if schema.startswith("IFC4X3") else schema


def project_units(model: Any) -> list[Any]:
    """The units of every project's UnitsInContext, in STEP-id order, each once."""
    units: dict[int, Any] = {}
    for project in by_type(model, "IfcProject"):
        assignment = getattr(project, "UnitsInContext", None)
        for unit in getattr(assignment, "Units", None) or ():
            if unit is not None and hasattr(unit, "is_a"):
                units.setdefault(unit.id(), unit)
    return [units[k] for k in sorted(units)]


def si_factor(si_unit: Any) -> float | None:
    """How many SI base units (m, m², m³, rad, kg, …) one `si_unit` is, from its prefix."""
    prefix = str(getattr(si_unit, "Prefix", None) or "")
    name = str(getattr(si_unit, "Name", None) or "")
    if prefix and prefix not in SI_PREFIX:
        return None
    scale: float = SI_PREFIX.get(prefix, 1.0) ** _POWER.get(name, 1)
    if name in _KILOGRAM_BASED:
        scale /= 1000.0
    return scale


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=FACTOR_TOLERANCE, abs_tol=0.0)


def _pjs001_unit(unit: Any, table: Mapping[str, tuple[str, float, float | None]]) -> Iterable[Outcome]:
    unit_type = getattr(unit, "UnitType", None)
    name = getattr(unit, "Name", None)
    entry_name = next((k for k in table if isinstance(name, str) and k.lower() == name.strip().lower()), None)
    entry = table.get(entry_name) if entry_name else None
    errors: list[tuple[str, Any, Any]] = []
    if unit_type in CHECKED_NAME_TYPES and (entry is None or entry[0] != unit_type):
        allowed = sorted(k for k, v in table.items() if v[0] == unit_type)
        errors.append((f"{unit_type} 换算单位名称 {name!r} 不在该版本推荐的换算单位表中", allowed, name))
    measure = getattr(unit, "ConversionFactor", None)
    component = getattr(measure, "UnitComponent", None)
    if measure is not None and component is not None:
        if not component.is_a("IfcSIUnit"):
            errors.append(
                (f"换算因子的基准单位应为 IfcSIUnit，实际为 {ref(component)}", "IfcSIUnit", component.is_a())
            )
        else:
            expected_si = SI_BASE_FOR.get(unit_type or "")
            si_name = getattr(component, "Name", None)
            if expected_si and si_name != expected_si:
                errors.append(
                    (
                        f"{unit_type} 换算单位的基准 SI 单位应为 {expected_si}，实际为 {si_name}",
                        expected_si,
                        si_name,
                    )
                )
            elif entry is not None and entry[0] == unit_type:
                value = getattr(getattr(measure, "ValueComponent", None), "wrappedValue", None)
                scale = si_factor(component)
                if isinstance(value, (int, float)) and scale is not None:
                    observed = float(value) * scale
                    if not (
                        _close(observed, entry[1]) or (entry[2] is not None and _close(observed, entry[2]))
                    ):
                        errors.append(
                            (
                                f"换算单位 {name!r} 的换算因子应为 {entry[1]:.12g}（SI 基本单位），"
                                f"实际为 {observed:.12g}",
                                entry[1],
                                observed,
                            )
                        )
    for message, expected, observed in errors:
        yield outcome("PJS001", 2, Severity.ERROR, f"{ref(unit)}：{message}", unit, expected, observed)
    if not errors:
        yield outcome("PJS001", 2, Severity.PASSED, f"{ref(unit)}（{name}）换算单位正确", unit)


@rule("PJS001", 2, "项目：换算单位（IfcConversionBasedUnit）的名称、换算因子与基准 SI 单位须符合推荐值")
def check_pjs001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    table = CONVERSION_UNITS.get(_schema_key(model))
    if table is None:
        return
    for unit in project_units(model):
        if unit.is_a() == "IfcConversionBasedUnit":
            yield from _pjs001_unit(unit, table)
