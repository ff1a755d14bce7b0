"""The IDS completeness report: per specification and requirement (counts, what is expected), the
fill-in list (one row per element and failed requirement: GlobalId, class, name, storey, the missing
item, what is expected, what was found and why it fails, in Chinese), and completeness rates.

Rates (both are given everywhere, `RATE_DEFINITIONS` is shipped inside the report):
- pair rate = satisfied (element, requirement) pairs / applicable pairs. An element applicable to a
  specification contributes one pair per requirement facet; to a prohibited specification one pair,
  never satisfied (the element must not exist).
- element rate = complete elements / applicable elements. Per specification an element is complete
  when it meets all requirements of that specification; per class, storey and overall an element is
  counted once and is complete when it meets every specification that applies to it.
A rate with nothing applicable is null.

Order is fixed: specifications and requirements in IDS order, rows by (storey, class, name, GlobalId,
STEP id, specification, requirement), groups by key; so one (IDS, model) gives the same report.

Must not: read the clock or paths, call the network, or cap the fill-in list silently (it is the
supplier's to-do list; the count is always there).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

import ifcopenshell
import ifcopenshell.util.element as element_util
import ifctester
from ifctester import facet as ids_facet
from pydantic import BaseModel, ConfigDict

from bim.ids import engine, fixes
from bim.outcomes import Instance

ENGINE = f"ifctester {ifctester.__version__} + tongban IDS fixes v{fixes.FIXES_VERSION}"
NO_STOREY = "（未归属楼层）"
RATE_DEFINITIONS = {
    "pair_rate": "满足的（构件，要求）对数 / 适用的（构件，要求）对数；适用于禁止类规范的构件计 1 对且不满足",
    "element_rate": "完整构件数 / 适用构件数；按规范统计时构件须满足该规范全部要求，按类别、楼层、总体统计时"
    "每个构件只计一次，须满足所有适用规范",
}
FACET_LABELS = {
    "Entity": "实体",
    "Attribute": "属性",
    "Classification": "分类",
    "Property": "属性集属性",
    "Material": "材质",
    "PartOf": "从属关系",
}
RELATION_LABELS = {
    "IFCRELAGGREGATES": "聚合于",
    "IFCRELASSIGNSTOGROUP": "编组于",
    "IFCRELCONTAINEDINSPATIALSTRUCTURE": "包含于空间结构",
    "IFCRELNESTS": "嵌套于",
    "IFCRELVOIDSELEMENT IFCRELFILLSELEMENT": "开洞/填充于",
}
USAGE_LABELS = {"required": "必需", "optional": "可选", "prohibited": "禁止"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Requirement(_Frozen):
    index: int  # 1-based within its specification
    facet: str  # Entity, Attribute, Classification, Property, Material, PartOf
    item: str  # what the requirement is about, e.g. "Pset_WallCommon.FireRating"
    label: str  # the IDS instructions (our seed puts the Chinese data-item name there) or item
    expected: str
    cardinality: str
    passed: int
    failed: int


class Rate(_Frozen):
    key: str
    applicable_pairs: int
    satisfied_pairs: int
    pair_rate: float | None
    applicable_elements: int
    complete_elements: int
    element_rate: float | None


class SpecificationResult(_Frozen):
    index: int  # 1-based
    name: str
    identifier: str
    description: str
    instructions: str
    ifc_versions: list[str]
    applies_to_model_schema: bool
    usage: str  # required / optional / prohibited
    status: Literal["passed", "failed"]
    message: str
    applicability: str
    requirements: list[Requirement]
    rate: Rate


class FillInRow(_Frozen):
    global_id: str
    ifc_class: str
    name: str
    storey: str
    missing_item: str
    expected: str
    observed: str
    reason: str
    specification: str
    specification_index: int
    requirement_index: int  # 0: the element itself is not allowed (prohibited specification)
    step_id: int


class Rates(_Frozen):
    overall: Rate
    by_specification: list[Rate]
    by_class: list[Rate]
    by_storey: list[Rate]


class CompletenessReport(_Frozen):
    type: Literal["bim.ids_completeness"] = "bim.ids_completeness"
    report_version: int = 1
    engine: str
    ids_title: str
    ids_digest: str
    model_digest: str
    model_schema: str
    status: Literal["passed", "failed"]
    specifications: list[SpecificationResult]
    fill_in: list[FillInRow]
    rates: Rates
    rate_definitions: dict[str, str]


# --- describing facets and failures in Chinese ------------------------------------------------------


def describe_value(value: Any) -> str:
    """A facet parameter (simple value or restriction) as a short Chinese expression."""
    if value is None:
        return ""
    if isinstance(value, ids_facet.Restriction):
        parts = []
        options = value.options
        for constraint in sorted(options):
            raw = options[constraint]
            values = [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]
            if constraint == "enumeration":
                parts.append("取值之一：" + " / ".join(values))
            elif constraint == "pattern":
                parts.append("匹配模式 " + " 且 ".join(values))
            else:
                symbol = {
                    "minInclusive": "≥", "minExclusive": ">", "maxInclusive": "≤", "maxExclusive": "<",
                    "length": "长度 =", "minLength": "长度 ≥", "maxLength": "长度 ≤",
                }.get(constraint, constraint)  # fmt: skip
                parts.append(f"{symbol} {values[0]}")
        return "，".join(parts)
    return str(value)


def describe_facet(facet: Any) -> tuple[str, str]:
    """(item, expected) of a requirement facet."""
    kind = _kind(facet)
    value = describe_value(getattr(facet, "value", None))
    if kind == "Entity":
        item = "实体类别"
        expected = describe_value(facet.name)
        if facet.predefinedType:
            expected += f"，预定义类型 {describe_value(facet.predefinedType)}"
    elif kind == "Attribute":
        item = f"属性 {describe_value(facet.name)}"
        expected = f"= {value}" if value else "须有值"
    elif kind == "Property":
        item = f"{describe_value(facet.propertySet)}.{describe_value(facet.baseName)}"
        data_type = f"{facet.dataType} " if facet.dataType else ""
        expected = f"{data_type}{'= ' + value if value else '须有值'}"
    elif kind == "Material":
        item = "材质"
        expected = f"= {value}" if value else "须指定材质"
    elif kind == "Classification":
        system = describe_value(facet.system)
        item = f"分类 {system}" if system else "分类"
        expected = f"= {value}" if value else "须有分类"
    else:  # PartOf
        relation = RELATION_LABELS.get(facet.relation or "", "从属于")
        item = f"{relation} {describe_value(facet.name)}".strip()
        expected = describe_value(facet.name) or "须有该关系"
        if facet.predefinedType:
            expected += f"，预定义类型 {describe_value(facet.predefinedType)}"
    cardinality = getattr(facet, "cardinality", "required")
    if cardinality == "prohibited":
        expected = f"不得：{expected}"
    elif cardinality == "optional":
        expected = f"如提供：{expected}"
    return item, expected


def describe_applicability(spec: Any) -> str:
    parts = []
    for facet in spec.applicability:
        item, expected = describe_facet(facet)
        parts.append(f"{item} {expected}" if _kind(facet) == "Entity" else f"{item}：{expected}")
    return "；".join(parts)


def _observed(reason: dict[str, Any]) -> str:
    actual = reason.get("actual")
    if actual is None:
        return ""
    if isinstance(actual, (set, frozenset)):
        return " / ".join(sorted(str(a) for a in actual if a is not None))
    if isinstance(actual, (list, tuple)):
        return " / ".join(str(a) for a in actual)
    return str(actual)


def explain(facet: Any, item: str, reason: dict[str, Any] | None) -> str:
    """Why an element fails a requirement, from ifctester's reason code (Chinese)."""
    kind = (reason or {}).get("type", "")
    observed = _observed(reason or {})
    texts = {
        "NOPSET": f"缺少属性集 {describe_value(getattr(facet, 'propertySet', ''))}",
        "NOVALUE": f"未提供 {item}",
        "FALSEY": f"{item} 为空",
        "DATATYPE": f"{item} 的数据类型为 {observed}，要求 {getattr(facet, 'dataType', '')}",
        "VALUE": f"{item} 的值 {observed} 不符合要求",
        "SYSTEM": f"分类体系 {observed or '（无）'} 不符合要求",
        "ENTITY": f"关联对象为 {observed or '（无）'}，不符合要求",
        "PREDEFINEDTYPE": f"预定义类型为 {observed or '（无）'}，不符合要求",
        "NAME": f"实体类别为 {observed}，不符合要求",
        "PROHIBITED": f"{item} 不得满足该条件，但模型中满足",
        "INVALID": f"{item} 在该实体上不存在",
        "UNREADABLE": f"{item} 的数据无法读取（{observed}），请检查其定义",
    }
    return texts.get(kind, f"{item} 不满足要求")


# --- where an element is ---------------------------------------------------------------------------


class _Storeys:
    """The name of the IfcBuildingStorey an element belongs to (through containment, aggregation,
    nesting or the opening it fills), memoised per instance."""

    def __init__(self) -> None:
        self._memo: dict[int, str] = {}

    def _up(self, node: Any) -> Any:
        parent = element_util.get_container(node)
        if parent is None:
            parent = element_util.get_aggregate(node) or element_util.get_nest(node)
        if parent is None and node.is_a("IfcOpeningElement"):
            parent = element_util.get_voided_element(node)
        if parent is None and node.is_a("IfcElement"):
            parent = element_util.get_filled_void(node)
        return parent

    def of(self, element: Any) -> str:
        key = element.id()
        if key in self._memo:
            return self._memo[key]
        name, node, seen = "", element, set[int]()
        while node is not None and node.id() not in seen and len(seen) < 64:
            seen.add(node.id())
            if node.is_a("IfcBuildingStorey"):
                name = node.Name or node.GlobalId
                break
            if node.id() != key and node.id() in self._memo:
                name = self._memo[node.id()]
                break
            try:
                node = self._up(node)
            except (AttributeError, RuntimeError):
                break
        self._memo[key] = name
        return name


# --- building the report ---------------------------------------------------------------------------


def _rate(key: str, pairs: int, satisfied: int, elements: int, complete: int) -> Rate:
    return Rate(
        key=key, applicable_pairs=pairs, satisfied_pairs=satisfied,
        pair_rate=round(satisfied / pairs, 6) if pairs else None,
        applicable_elements=elements, complete_elements=complete,
        element_rate=round(complete / elements, 6) if elements else None,
    )  # fmt: skip


def _spec_message(spec: Any, usage: str, applicable: int, failed: int) -> str:
    if usage == "prohibited":
        return f"禁止出现的构件有 {applicable} 个" if applicable else "未发现禁止出现的构件"
    if applicable == 0:
        return "模型中没有适用的构件，但该规范为必需" if usage == "required" else "模型中没有适用的构件"
    return (
        f"适用构件 {applicable} 个，其中 {failed} 个不满足要求"
        if failed
        else f"适用构件 {applicable} 个，全部满足"
    )


def build_report(
    document: engine.IdsDocument, model: ifcopenshell.file, model_digest: str = ""
) -> CompletenessReport:
    """Run the IDS over the model and summarise (see module text)."""
    ids = engine.validate(document, model)
    storeys = _Storeys()
    schema = model.schema_identifier
    rows: list[FillInRow] = []
    spec_results: list[SpecificationResult] = []
    # per element (step id): [pairs, satisfied, all specs met]; and its class / storey
    per_element: dict[int, list[int]] = {}
    element_keys: dict[int, tuple[str, str]] = {}

    for s_index, spec in enumerate(ids.specifications, start=1):
        usage = spec.get_usage()
        applicable = list(dict.fromkeys(spec.applicable_entities))
        prohibited = usage == "prohibited"
        facets = [] if prohibited else list(spec.requirements)
        failing: list[set[int]] = [{f["element"].id() for f in facet.failures} for facet in facets]
        applicability = describe_applicability(spec)
        requirements = []
        for r_index, facet in enumerate(facets, start=1):
            item, expected = describe_facet(facet)
            requirements.append(
                Requirement(
                    index=r_index,
                    facet=FACET_LABELS.get(_kind(facet), _kind(facet)),
                    item=item,
                    label=str(getattr(facet, "instructions", None) or item),
                    expected=expected,
                    cardinality=getattr(facet, "cardinality", "required") or "required",
                    passed=len(applicable) - len(failing[r_index - 1]),
                    failed=len(failing[r_index - 1]),
                )
            )
        spec_pairs = spec_satisfied = spec_complete = 0
        for element in applicable:
            eid = element.id()
            if eid not in element_keys:
                element_keys[eid] = (element.is_a(), storeys.of(element))
                per_element[eid] = [0, 0, 1]
            totals = per_element[eid]
            failed_here = [i for i, ids_failing in enumerate(failing) if eid in ids_failing]
            pairs = 1 if prohibited else len(facets)
            satisfied = 0 if prohibited else pairs - len(failed_here)
            complete = not prohibited and not failed_here
            spec_pairs += pairs
            spec_satisfied += satisfied
            spec_complete += complete
            totals[0] += pairs
            totals[1] += satisfied
            totals[2] &= int(complete)
            if complete:
                continue
            rows.extend(
                _rows(spec, s_index, element, element_keys[eid][1], facets, requirements, failed_here)
            )
        failed_elements = len(applicable) - spec_complete
        spec_results.append(
            SpecificationResult(
                index=s_index,
                name=spec.name or "",
                identifier=spec.identifier or "",
                description=spec.description or "",
                instructions=spec.instructions or "",
                ifc_versions=list(spec.ifcVersion or []),
                applies_to_model_schema=schema in (spec.ifcVersion or []),
                usage=usage,
                status="passed" if spec.status else "failed",
                message=_spec_message(spec, usage, len(applicable), failed_elements),
                applicability=applicability,
                requirements=requirements,
                rate=_rate(
                    f"{s_index}. {spec.name}", spec_pairs, spec_satisfied, len(applicable), spec_complete
                ),
            )
        )

    rows.sort(key=lambda r: (r.storey, r.ifc_class, r.name, r.global_id, r.step_id, r.specification_index,
                             r.requirement_index))  # fmt: skip
    return CompletenessReport(
        engine=ENGINE, ids_title=document.title, ids_digest=document.digest, model_digest=model_digest,
        model_schema=schema, status="passed" if all(s.status == "passed" for s in spec_results) else "failed",
        specifications=spec_results, fill_in=rows,
        rates=Rates(
            overall=_group_rates(per_element, element_keys, lambda k: "总体")[0],
            by_specification=[s.rate for s in spec_results],
            by_class=_group_rates(per_element, element_keys, lambda k: k[0]),
            by_storey=_group_rates(per_element, element_keys, lambda k: k[1] or NO_STOREY),
        ),
        rate_definitions=RATE_DEFINITIONS,
    )  # fmt: skip


def _kind(facet: Any) -> str:
    for cls in type(facet).__mro__:
        if cls.__module__ == ids_facet.__name__:
            return cls.__name__
    return type(facet).__name__


def _rows(
    spec: Any, s_index: int, element: Any, storey: str, facets: list[Any], requirements: list[Requirement],
    failed_here: Iterable[int],
) -> list[FillInRow]:  # fmt: skip
    instance = Instance.of(element)
    base = {
        "global_id": instance.global_id or "", "ifc_class": instance.ifc_class or element.is_a(),
        "name": instance.name or "", "storey": storey, "specification": spec.name or "",
        "specification_index": s_index, "step_id": element.id(),
    }  # fmt: skip
    if not facets:  # prohibited specification: the element itself is the problem
        return [
            FillInRow(
                **base,
                missing_item="（禁止出现）",
                expected=f"不得出现：{describe_applicability(spec)}",
                observed=element.is_a(),
                reason="该构件属于禁止出现的类别",
                requirement_index=0,
            )
        ]
    rows = []
    for i in failed_here:
        facet, requirement = facets[i], requirements[i]
        reason = getattr(facet, "failure_reasons", {}).get(element.id())
        label = requirement.label
        missing = label if label == requirement.item else f"{label}（{requirement.item}）"
        rows.append(
            FillInRow(
                **base,
                missing_item=missing,
                expected=requirement.expected,
                observed=_observed(reason or {}),
                reason=explain(facet, requirement.item, reason),
                requirement_index=requirement.index,
            )
        )
    return rows


def _group_rates(
    per_element: dict[int, list[int]], keys: dict[int, tuple[str, str]], group: Any
) -> list[Rate]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for eid, (pairs, satisfied, complete) in per_element.items():
        total = sums[group(keys[eid])]
        total[0] += pairs
        total[1] += satisfied
        total[2] += 1
        total[3] += complete
    if not sums:
        sums[group(("", ""))]
    return [_rate(key, *sums[key]) for key in sorted(sums)]
