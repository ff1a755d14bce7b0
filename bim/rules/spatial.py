"""Spatial-structure normative rules, after the Validation Service's functional part SPS:
the basic building structure (SPS001), the spatial decomposition per the composition table
(SPS002), containment versus aggregation, positioning and referencing (SPS003–SPS007) and spatial
containers without their own representation (SPS008).

Relationships are read once per rule from the relationship instances (IfcRelAggregates,
IfcRelContainedInSpatialStructure, …) rather than from every product's inverses, so a product the
schema gives no inverse for is still seen.
Must not: modify the model or report anything for a schema a rule does not apply to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bim.outcomes import Outcome, Severity
from bim.rules.base import by_type, outcome, ref, rule


def schema_key(model: Any) -> str:
    schema = str(getattr(model, "schema", "")).upper()
    return "IFC4X3" if schema.startswith("IFC4X3") else schema


def view_definitions(model: Any) -> list[str]:
    """The model view definitions named in FILE_DESCRIPTION ('ViewDefinition [A, B]'), lower case."""
    try:
        descriptions = model.header.file_description.description
    except Exception:  # a header ifcopenshell cannot give us
        return []
    views: list[str] = []
    for text in descriptions or ():
        match = re.match(r"\s*ViewDefinition\s*\[(.*)\]", str(text), re.IGNORECASE)
        if match:
            views.extend(v.strip().lower() for v in match.group(1).split(",") if v.strip())
    return views


def _by_id(entities: list[Any]) -> list[Any]:
    return sorted(entities, key=lambda e: e.id())


def containment(model: Any) -> dict[int, list[Any]]:
    """Product STEP id → the IfcRelContainedInSpatialStructure relationships it is a RelatedElement of."""
    found: dict[int, list[Any]] = {}
    for rel in by_type(model, "IfcRelContainedInSpatialStructure"):
        for product in getattr(rel, "RelatedElements", None) or ():
            if product is not None:
                found.setdefault(product.id(), []).append(rel)
    return found


def positioning(model: Any) -> dict[int, list[Any]]:
    """Product STEP id → the IfcRelPositions relationships positioning it (IFC4X3)."""
    found: dict[int, list[Any]] = {}
    for rel in by_type(model, "IfcRelPositions"):
        for product in getattr(rel, "RelatedProducts", None) or ():
            if product is not None:
                found.setdefault(product.id(), []).append(rel)
    return found


def _inverse(entity: Any, attribute: str) -> tuple[Any, ...]:
    try:
        return tuple(getattr(entity, attribute, None) or ())
    except RuntimeError:
        return ()


def _parent(entity: Any) -> Any:
    """The RelatingObject of the entity's first Decomposes relationship, or None."""
    for rel in _inverse(entity, "Decomposes"):
        return getattr(rel, "RelatingObject", None)
    return None


# --- SPS001 -------------------------------------------------------------------------------------


@rule("SPS001", 2, "空间结构：IFC2X3 协调视图中最多一个场地、至少一个建筑，且建筑正确归属")
def check_sps001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    if schema_key(model) != "IFC2X3" or "coordinationview_v2.0" not in view_definitions(model):
        return
    sites = _by_id(by_type(model, "IfcSite"))
    buildings = _by_id(by_type(model, "IfcBuilding"))
    fine = True
    if len(sites) > 1:
        fine = False
        for site in sites:
            yield outcome(
                "SPS001",
                2,
                Severity.ERROR,
                f"模型中有 {len(sites)} 个 IfcSite（{ref(site)} 为其一），最多只允许 1 个",
                site,
                "≤1",
                len(sites),
            )
    if not buildings:
        fine = False
        yield outcome(
            "SPS001", 2, Severity.ERROR, "模型中没有 IfcBuilding，空间结构至少需要 1 个建筑", None, "≥1", 0
        )
    expected_parent = "IfcSite" if sites else "IfcProject"
    for building in buildings:
        parent = _parent(building)
        if parent is None or not parent.is_a(expected_parent):
            fine = False
            observed = ref(parent) if parent is not None else "未归属"
            yield outcome(
                "SPS001",
                2,
                Severity.ERROR,
                f"{ref(building)} 应通过 IfcRelAggregates 归属于 {expected_parent}，实际：{observed}",
                building,
                expected_parent,
                observed,
            )
    if fine:
        yield outcome(
            "SPS001",
            2,
            Severity.PASSED,
            f"空间结构正确：{len(sites)} 个场地、{len(buildings)} 个建筑且归属正确",
        )


# --- SPS002 -------------------------------------------------------------------------------------

# The spatial composition table: a spatial element → the classes it may be aggregated into.
COMPOSITION: dict[str, tuple[str, ...]] = {
    "IfcBridgePart": ("IfcBridge", "IfcBridgePart"),
    "IfcBridge": ("IfcProject", "IfcSite", "IfcBridge"),
    "IfcBuilding": ("IfcProject", "IfcSite", "IfcBuilding"),
    "IfcBuildingStorey": ("IfcBuilding", "IfcBuildingStorey"),
    "IfcExternalSpatialElement": ("IfcProject", "IfcSite", "IfcExternalSpatialElement"),
    "IfcFacilityPartCommon": ("IfcFacility", "IfcFacilityPartCommon"),
    "IfcFacility": ("IfcProject", "IfcSite", "IfcFacility"),
    "IfcMarineFacility": ("IfcProject", "IfcSite", "IfcMarineFacility"),
    "IfcMarinePart": ("IfcMarineFacility", "IfcMarinePart"),
    "IfcRailwayPart": ("IfcRailway", "IfcRailwayPart"),
    "IfcRailway": ("IfcProject", "IfcSite", "IfcRailway"),
    "IfcRoadPart": ("IfcRoad", "IfcRoadPart"),
    "IfcRoad": ("IfcProject", "IfcSite", "IfcRoad"),
    "IfcSite": ("IfcProject", "IfcSite"),
    "IfcSpace": (
        "IfcProject",
        "IfcSite",
        "IfcBuilding",
        "IfcBuildingStorey",
        "IfcSpace",
        "IfcFacility",
        "IfcBridge",
        "IfcMarineFacility",
        "IfcRailway",
        "IfcRoad",
        "IfcFacilityPartCommon",
        "IfcBridgePart",
        "IfcMarinePart",
        "IfcRailwayPart",
        "IfcRoadPart",
    ),
}
# …and reversed: a class → the spatial classes it may aggregate.
DECOMPOSITION: dict[str, tuple[str, ...]] = {}
for _child, _parents in COMPOSITION.items():
    for _p in _parents:
        DECOMPOSITION[_p] = (*DECOMPOSITION.get(_p, ()), _child)


def _supertypes(entity: Any) -> list[str]:
    """The entity's class and its supertypes, most specific first (lower case)."""
    try:
        declaration: Any = entity.declaration
    except Exception:  # an instance ifcopenshell cannot describe: fall back to its class name
        declaration = None
    names: list[str] = []
    while declaration is not None:
        names.append(declaration.name().lower())
        declaration = declaration.supertype()
    return names or [entity.is_a().lower()]


def _most_specific(entity: Any, classes: Mapping[str, Any]) -> str | None:
    """The most specific class of `classes` the entity is an instance of (the one its supertype
    chain meets first)."""
    by_lower = {c.lower(): c for c in classes}
    for name in _supertypes(entity):
        if name in by_lower:
            return by_lower[name]
    return None


@rule("SPS002", 3, "空间结构：空间单元须按空间组成表进行聚合分解")
def check_sps002(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    if schema_key(model) not in ("IFC4", "IFC4X3"):
        return
    entities = _by_id(by_type(model, "IfcSpatialElement") + by_type(model, "IfcProject"))
    for entity in entities:
        errors: list[tuple[str, Any, Any]] = []
        checked = False
        key = _most_specific(entity, COMPOSITION)
        if key is not None:
            allowed = COMPOSITION[key]
            parents = [getattr(r, "RelatingObject", None) for r in _inverse(entity, "Decomposes")]
            if not parents:
                errors.append(
                    (
                        f"{ref(entity)} 未聚合到任何上级空间单元，应聚合到 {'/'.join(allowed)}",
                        list(allowed),
                        None,
                    )
                )
            else:
                checked = True
                parent = parents[0]
                if parent is None or not any(parent.is_a(c) for c in allowed):
                    observed = ref(parent) if parent is not None else None
                    errors.append(
                        (
                            f"{ref(entity)} 聚合到 {observed}，按空间组成表只能聚合到 {'/'.join(allowed)}",
                            list(allowed),
                            observed,
                        )
                    )
        key = _most_specific(entity, DECOMPOSITION)
        if key is not None:
            allowed = DECOMPOSITION[key]
            for rel in _inverse(entity, "IsDecomposedBy")[:1]:
                children = [c for c in (getattr(rel, "RelatedObjects", None) or ()) if c is not None]
                checked = checked or bool(children)
                for child in children:
                    if not any(child.is_a(c) for c in allowed):
                        errors.append(
                            (
                                f"{ref(entity)} 聚合了 {ref(child)}，按空间组成表只能聚合 "
                                f"{'/'.join(allowed)}",
                                list(allowed),
                                child.is_a(),
                            )
                        )
        for message, expected, observed in errors:
            yield outcome("SPS002", 3, Severity.ERROR, message, entity, expected, observed)
        if checked and not errors:
            yield outcome("SPS002", 3, Severity.PASSED, f"{ref(entity)} 的空间分解符合空间组成表", entity)
    if entities:  # the rule applied (the Validation Service's activation), whatever the checks found
        yield outcome("SPS002", 3, Severity.EXECUTED, f"已按空间组成表检查 {len(entities)} 个项目/空间单元")


# --- SPS003 -------------------------------------------------------------------------------------


@rule("SPS003", 1, "空间结构：被聚合到其他构件中的构件不得再通过空间包含关系包含在空间结构中")
def check_sps003(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    contained = containment(model)
    for element in _by_id(by_type(model, "IfcElement")):
        parent = _parent(element)
        if not _inverse(element, "Decomposes"):
            continue
        rels = contained.get(element.id(), [])
        if rels:
            structures = "、".join(ref(r.RelatingStructure) for r in rels if r.RelatingStructure is not None)
            yield outcome(
                "SPS003",
                1,
                Severity.ERROR,
                f"{ref(element)} 已聚合到 {ref(parent) if parent is not None else '上级对象'}，"
                f"不应再包含在空间结构 {structures or '（未知）'} 中",
                element,
                "无空间包含",
                structures,
            )
        else:
            yield outcome("SPS003", 1, Severity.PASSED, f"{ref(element)} 为聚合部件且未被空间包含", element)


# --- SPS004 / SPS006 (IFC4X3) -------------------------------------------------------------------


@rule("SPS004", 2, "空间结构：产品不得同时被空间包含与被定位元素定位（IFC4X3）")
def check_sps004(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    if schema_key(model) != "IFC4X3":
        return
    contained, positioned = containment(model), positioning(model)
    for product in _by_id(by_type(model, "IfcProduct")):
        in_structure = contained.get(product.id(), [])
        positions = positioned.get(product.id(), [])
        if not in_structure and not positions:
            continue
        if in_structure and positions:
            by = "、".join(
                ref(r.RelatingPositioningElement) for r in positions if r.RelatingPositioningElement
            )
            yield outcome(
                "SPS004",
                2,
                Severity.ERROR,
                f"{ref(product)} 既包含在空间结构 {ref(in_structure[0].RelatingStructure)} 中，"
                f"又由定位元素 {by or '（未知）'} 定位；两者只能取其一",
                product,
                "空间包含或定位二选一",
                "两者皆有",
            )
        else:
            yield outcome("SPS004", 2, Severity.PASSED, f"{ref(product)} 未同时使用空间包含与定位", product)


@rule("SPS006", 1, "空间结构：由定位元素定位的构件须以空间引用（而非包含）关联到空间结构（IFC4X3）")
def check_sps006(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    if schema_key(model) != "IFC4X3":
        return
    positioned = positioning(model)
    elements = _by_id(by_type(model, "IfcElement"))
    if elements:  # the rule applied (the Validation Service's activation)
        yield outcome("SPS006", 1, Severity.EXECUTED, f"已检查 {len(elements)} 个构件的定位与空间引用")
    referenced: set[int] = set()
    for rel in by_type(model, "IfcRelReferencedInSpatialStructure"):
        for element in getattr(rel, "RelatedElements", None) or ():
            if element is not None:
                referenced.add(element.id())
    for element in elements:
        if element.id() not in positioned:
            continue
        if element.id() in referenced:
            yield outcome("SPS006", 1, Severity.PASSED, f"{ref(element)} 已被空间结构引用", element)
        else:
            yield outcome(
                "SPS006",
                1,
                Severity.ERROR,
                f"{ref(element)} 由定位元素定位，但没有通过 IfcRelReferencedInSpatialStructure "
                "引用到任何空间结构",
                element,
                "空间引用",
                None,
            )


# --- SPS005 -------------------------------------------------------------------------------------

SPS005_RELATIONSHIPS = ("Nests", "Decomposes", "ContainedInStructure", "AdheresToElement", "VoidsElements")


@rule("SPS005", 1, "空间结构：构件必须且只能以一种方式（嵌套、聚合、空间包含、附着、开洞）作为子对象")
def check_sps005(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    contained = containment(model)
    for element in _by_id(by_type(model, "IfcElement")):
        present = []
        for attribute in SPS005_RELATIONSHIPS:
            if attribute == "ContainedInStructure":
                value: Any = contained.get(element.id())
            else:
                value = _inverse(element, attribute)
            if value:
                present.append(attribute)
        if len(present) == 1:
            yield outcome(
                "SPS005", 1, Severity.PASSED, f"{ref(element)} 以 {present[0]} 关系作为子对象", element
            )
        elif not present:
            yield outcome(
                "SPS005",
                1,
                Severity.ERROR,
                f"{ref(element)} 未以任何方式（嵌套、聚合、空间包含、附着、开洞）关联到上级对象",
                element,
                1,
                0,
            )
        else:
            yield outcome(
                "SPS005",
                1,
                Severity.ERROR,
                f"{ref(element)} 同时以 {'、'.join(present)} 多种关系作为子对象，只允许一种",
                element,
                1,
                present,
            )


# --- SPS007 -------------------------------------------------------------------------------------


def _is_spatial_container(entity: Any) -> bool:
    # IFC2X3 has no IfcSpatialElement: its spatial structure elements play the role.
    return entity is not None and (
        entity.is_a("IfcSpatialElement") or entity.is_a("IfcSpatialStructureElement")
    )


@rule("SPS007", 4, "空间结构：构件、注释与轴网须包含在空间结构中，其他对象不得被空间包含")
def check_sps007(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    contained = containment(model)
    for product in _by_id(by_type(model, "IfcProduct")):
        rels = contained.get(product.id(), [])
        structures = [r.RelatingStructure for r in rels]
        is_element = product.is_a("IfcElement")
        if (
            product.is_a("IfcGrid")
            or product.is_a("IfcAnnotation")
            or (is_element and not product.is_a("IfcFeatureElement") and not _inverse(product, "Decomposes"))
        ):
            if any(_is_spatial_container(s) for s in structures):
                yield outcome("SPS007", 4, Severity.PASSED, f"{ref(product)} 已包含在空间结构中", product)
            else:
                yield outcome(
                    "SPS007",
                    4,
                    Severity.ERROR,
                    f"{ref(product)} 未通过 IfcRelContainedInSpatialStructure 包含在任何空间单元中",
                    product,
                    "包含在空间结构中",
                    None,
                )
        if is_element:
            parent = _parent(product)
            if parent is not None and parent.is_a("IfcElement"):
                if rels:
                    yield outcome(
                        "SPS007",
                        4,
                        Severity.ERROR,
                        f"{ref(product)} 是 {ref(parent)} 的聚合部件，不应再包含在空间结构 "
                        f"{ref(structures[0]) if structures[0] is not None else ''} 中",
                        product,
                        "无空间包含",
                        "已空间包含",
                    )
                else:
                    yield outcome(
                        "SPS007", 4, Severity.PASSED, f"{ref(product)} 为聚合部件且未被空间包含", product
                    )
        elif not product.is_a("IfcGrid") and not product.is_a("IfcAnnotation"):
            # Through the product's own ContainedInStructure inverse, as the Validation Service reads
            # it: classes without that inverse (spatial elements) are not this scenario's concern.
            rels = list(_inverse(product, "ContainedInStructure"))
            structures = [r.RelatingStructure for r in rels]
            if not hasattr(product, "ContainedInStructure"):
                continue
            if rels:
                yield outcome(
                    "SPS007",
                    4,
                    Severity.ERROR,
                    f"{ref(product)} 不是构件、注释或轴网，不应通过 IfcRelContainedInSpatialStructure "
                    f"包含在 {ref(structures[0]) if structures[0] is not None else '空间结构'} 中",
                    product,
                    "无空间包含",
                    "已空间包含",
                )
            else:
                yield outcome("SPS007", 4, Severity.PASSED, f"{ref(product)} 未被空间包含", product)


# --- SPS008 -------------------------------------------------------------------------------------

SPS008_CLASSES = {
    "IFC2X3": ("IfcBuildingStorey",),
    "IFC4": ("IfcBuildingStorey",),
    "IFC4X3": ("IfcBuildingStorey", "IfcBridge", "IfcMarineFacility", "IfcRailway", "IfcRoad"),
}


@rule("SPS008", 1, "空间结构：楼层及基础设施设施不应有独立的几何表达")
def check_sps008(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    classes = SPS008_CLASSES.get(schema_key(model), ())
    entities: dict[int, Any] = {}
    for ifc_class in classes:
        for entity in by_type(model, ifc_class):
            entities[entity.id()] = entity
    for _, entity in sorted(entities.items()):
        representation = getattr(entity, "Representation", None)
        if representation is None:
            yield outcome("SPS008", 1, Severity.PASSED, f"{ref(entity)} 没有独立的几何表达", entity)
        else:
            yield outcome(
                "SPS008",
                1,
                Severity.ERROR,
                f"{ref(entity)} 带有独立的几何表达 {ref(representation)}；空间容器应由其包含的构件表达",
                entity,
                None,
                ref(representation),
            )
