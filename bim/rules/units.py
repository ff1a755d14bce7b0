"""Our project-units rule for the tender (TB110): the project declares its units with an
IfcUnitAssignment covering length, area, volume and plane angle; lengths are metres or millimetres;
area and volume are SI units; units converted from other systems (feet, inches, …) are flagged,
because the Chinese tender expects metric models. Which length units and which conversion-based
units are accepted are parameters of the rule set.

Must not: check the conversion factors themselves (PJS001 does), or report anything for a model
without an IfcProject (PJS101 does).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bim.outcomes import Instance, Outcome, Severity
from bim.rules.base import by_type, rule

REQUIRED_UNIT_TYPES = ("LENGTHUNIT", "AREAUNIT", "VOLUMEUNIT", "PLANEANGLEUNIT")
UNIT_TYPE_LABELS = {
    "LENGTHUNIT": "长度",
    "AREAUNIT": "面积",
    "VOLUMEUNIT": "体积",
    "PLANEANGLEUNIT": "平面角",
}
SI_NAME_FOR = {
    "LENGTHUNIT": "METRE",
    "AREAUNIT": "SQUARE_METRE",
    "VOLUMEUNIT": "CUBIC_METRE",
    "PLANEANGLEUNIT": "RADIAN",
}


def _outcome(
    severity: Severity, message: str, entity: Any = None, expected: Any = None, observed: Any = None
) -> Outcome:
    return Outcome(
        rule="TB110",
        version=1,
        severity=severity,
        message=message,
        instance=Instance.of(entity) if entity is not None else None,
        expected=expected,
        observed=observed,
    )


def _ref(entity: Any) -> str:
    return f"#{entity.id()} {entity.is_a()}"


def describe(unit: Any) -> str:
    """'MILLIMETRE', 'foot (IfcConversionBasedUnit)', … for messages."""
    if unit.is_a("IfcSIUnit"):
        return f"{unit.Prefix or ''}{unit.Name}"
    return f"{getattr(unit, 'Name', None)}（{unit.is_a()}）"


@rule(
    "TB110",
    1,
    "单位：项目须声明长度、面积、体积、平面角单位，且采用公制（米/毫米）",
    length_units=["METRE", "MILLIMETRE"],
    allowed_conversion_units=["degree"],
)
def check_tb110(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    allowed_lengths = {str(u).upper() for u in params.get("length_units", ["METRE", "MILLIMETRE"])}
    allowed_conversions = {str(u).lower() for u in params.get("allowed_conversion_units", ["degree"])}
    for project in sorted(by_type(model, "IfcProject"), key=lambda e: e.id()):
        assignment = getattr(project, "UnitsInContext", None)
        if assignment is None:
            yield _outcome(
                Severity.ERROR,
                f"{_ref(project)} 未声明项目单位（UnitsInContext 为空），应有 IfcUnitAssignment",
                project,
                "IfcUnitAssignment",
                None,
            )
            continue
        units: dict[str, Any] = {}
        for unit in getattr(assignment, "Units", None) or ():
            unit_type = getattr(unit, "UnitType", None) if hasattr(unit, "is_a") else None
            if unit_type in REQUIRED_UNIT_TYPES:
                units.setdefault(unit_type, unit)
        errors = 0
        for unit_type in REQUIRED_UNIT_TYPES:
            label = UNIT_TYPE_LABELS[unit_type]
            unit = units.get(unit_type)
            if unit is None:
                errors += 1
                yield _outcome(
                    Severity.ERROR,
                    f"{_ref(assignment)} 缺少{label}单位（{unit_type}）",
                    assignment,
                    unit_type,
                    None,
                )
                continue
            if unit.is_a("IfcSIUnit"):
                name = f"{unit.Prefix or ''}{unit.Name}"
                if unit_type == "LENGTHUNIT" and name not in allowed_lengths:
                    errors += 1
                    yield _outcome(
                        Severity.ERROR,
                        f"{_ref(unit)}：长度单位为 {name}，招标要求为 {'/'.join(sorted(allowed_lengths))}",
                        unit,
                        sorted(allowed_lengths),
                        name,
                    )
                elif unit.Name != SI_NAME_FOR[unit_type]:
                    errors += 1
                    yield _outcome(
                        Severity.ERROR,
                        f"{_ref(unit)}：{label}单位应基于 {SI_NAME_FOR[unit_type]}，实际为 {name}",
                        unit,
                        SI_NAME_FOR[unit_type],
                        name,
                    )
            elif str(getattr(unit, "Name", "")).lower() not in allowed_conversions:
                errors += 1
                yield _outcome(
                    Severity.ERROR,
                    f"{_ref(unit)}：{label}单位为换算单位 {describe(unit)}，招标要求使用公制单位"
                    f"（{SI_NAME_FOR[unit_type]} 系）",
                    unit,
                    SI_NAME_FOR[unit_type],
                    describe(unit),
                )
        if not errors:
            summary = "、".join(f"{UNIT_TYPE_LABELS[t]} {describe(units[t])}" for t in REQUIRED_UNIT_TYPES)
            yield _outcome(Severity.PASSED, f"{_ref(project)} 的项目单位符合要求：{summary}", project)
