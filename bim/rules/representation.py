"""Shape-representation rules: allowed RepresentationIdentifier / RepresentationType values of the
products' representations (GEM004), the geometric representation contexts of the project (GEM051)
and their sub-contexts (GEM052), and the tender's own restriction of representation types (TB301,
parameter `allowed_representation_types`, not activated while it is None).

The value tables below are transcribed from the buildingSMART Validation Service
(ifc-gherkin-rules, features/resources: valid_RepresentationIdentifier.csv,
IFC4/IFC4X3 valid_ShapeRepresentationType.csv, valid_RepresentationType_IFC2X3.csv,
IFC4X3/valid_TopologyRepresentationType.csv), MIT licence,
Copyright (c) buildingSMART International Ltd. Comparisons are exact (case-sensitive), as there.

Must not: evaluate geometry (bim.rules.geometry does), or hold tender values in code (they come from
the rule set's parameters).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bim.outcomes import Instance, Outcome, Severity
from bim.rules.base import rule

# Copyright (c) buildingSMART International Ltd (MIT) — ifc-gherkin-rules features/resources.
SHAPE_REPRESENTATION_IDENTIFIERS = (
    "CoG", "Box", "Annotation", "Axis", "FootPrint", "Profile", "Surface", "Reference", "Body",
    "Body-Fallback", "Clearance", "Lighting",
)  # fmt: skip
_TYPES_IFC4 = (
    "Point", "PointCloud", "Curve", "Curve2D", "Curve3D", "Surface", "Surface2D", "Surface3D",
    "FillArea", "Text", "AdvancedSurface", "GeometricSet", "GeometricCurveSet", "Annotation2D",
    "SurfaceModel", "Tessellation", "SurfaceOrSolidModel", "SolidModel", "SweptSolid",
    "AdvancedSweptSolid", "Brep", "AdvancedBrep", "CSG", "Clipping", "BoundingBox", "SectionedSpine",
    "LightSource", "MappedRepresentation",
)  # fmt: skip
SHAPE_REPRESENTATION_TYPES = {
    "IFC2X3": (
        "Curve2D", "GeometricSet", "GeometricCurveSet", "Annotation2D", "SurfaceModel", "SolidModel",
        "SweptSolid", "Brep", "CSG", "Clipping", "AdvancedSweptSolid", "BoundingBox", "SectionedSpine",
        "MappedRepresentation",
    ),
    "IFC4": _TYPES_IFC4,
    "IFC4X3": (*_TYPES_IFC4, "Segment", "SectionedSurface"),
}  # fmt: skip
TOPOLOGY_REPRESENTATION_TYPES = ("Vertex", "Edge", "Path", "Face", "Shell", "Undefined")
CONTEXT_TYPES = ("Model", "Plan", "NotDefined")


def _schema(model: Any) -> str:
    name = str(getattr(model, "schema", "") or "").upper()
    if name.startswith("IFC4X3") or name.startswith("IFC4.3"):
        return "IFC4X3"
    if name.startswith("IFC2X3"):
        return "IFC2X3"
    return "IFC4"


def _by_type(model: Any, ifc_class: str) -> list[Any]:
    try:
        return sorted(model.by_type(ifc_class), key=lambda e: e.id())
    except RuntimeError:
        return []


def _attr(entity: Any, name: str) -> Any:
    try:
        return getattr(entity, name)
    except (AttributeError, RuntimeError):
        return None


def _ref(entity: Any) -> str:
    return f"#{entity.id()}={entity.is_a()}"


def _outcome(code: str, severity: Severity, message: str, entity: Any = None, expected: Any = None,
             observed: Any = None) -> Outcome:  # fmt: skip
    return Outcome(rule=code, version=1, severity=severity, message=message,
                   instance=Instance.of(entity) if entity is not None else None,
                   expected=expected, observed=observed)  # fmt: skip


def _product_representations(product: Any) -> list[Any]:
    shape = _attr(product, "Representation")
    return list(_attr(shape, "Representations") or ()) if shape is not None else []


@rule("GEM004", 1, "形状表达的标识符与类型须为规定值")
def gem004(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    shape_types = SHAPE_REPRESENTATION_TYPES[_schema(model)]
    checked = 0
    errors: list[Outcome] = []
    for product in _by_type(model, "IfcProduct"):
        for rep in _product_representations(product):
            identifier = _attr(rep, "RepresentationIdentifier")
            rep_type = _attr(rep, "RepresentationType")
            if identifier:
                checked += 1
                if identifier not in SHAPE_REPRESENTATION_IDENTIFIERS:
                    errors.append(_outcome("GEM004", Severity.ERROR,
                        f"{_ref(product)} 的形状表达 {_ref(rep)} 的标识符 RepresentationIdentifier='{identifier}' "
                        f"不是规定值（{'、'.join(SHAPE_REPRESENTATION_IDENTIFIERS)}）",
                        product, list(SHAPE_REPRESENTATION_IDENTIFIERS), identifier))  # fmt: skip
            if not rep_type:
                continue
            if rep.is_a("IfcShapeRepresentation"):
                allowed: tuple[str, ...] = shape_types
                kind = "形状表达"
            elif rep.is_a("IfcTopologyRepresentation"):
                allowed, kind = TOPOLOGY_REPRESENTATION_TYPES, "拓扑表达"
            else:
                continue
            checked += 1
            if rep_type not in allowed:
                errors.append(_outcome("GEM004", Severity.ERROR,
                    f"{_ref(product)} 的{kind} {_ref(rep)} 的类型 RepresentationType='{rep_type}' "
                    f"不是 {_schema(model)} 规定的{kind}类型（{'、'.join(allowed)}）",
                    product, list(allowed), rep_type))  # fmt: skip
    yield from errors
    if checked and not errors:
        yield _outcome("GEM004", Severity.PASSED, f"已检查 {checked} 个表达标识符/类型，均为规定值")


def _project_contexts(model: Any) -> list[Any]:
    return _by_type(model, "IfcProject" if _schema(model) == "IFC2X3" else "IfcContext")


@rule("GEM051", 1, "项目须有几何表达上下文且上下文类型有效")
def gem051(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    owners = _project_contexts(model)
    errors: list[Outcome] = []
    for owner in owners:
        contexts = list(_attr(owner, "RepresentationContexts") or ())
        if not contexts:
            errors.append(_outcome("GEM051", Severity.ERROR,
                f"{_ref(owner)} 没有任何表达上下文（RepresentationContexts 为空），至少须有一个几何表达上下文",
                owner, "IfcGeometricRepresentationContext", None))  # fmt: skip
        for context in contexts:
            if not context.is_a("IfcGeometricRepresentationContext"):
                errors.append(_outcome("GEM051", Severity.ERROR,
                    f"{_ref(owner)} 的表达上下文 {_ref(context)} 不是几何表达上下文"
                    "（IfcGeometricRepresentationContext）",
                    owner, "IfcGeometricRepresentationContext", context.is_a()))  # fmt: skip
            context_type = _attr(context, "ContextType")
            if context_type not in CONTEXT_TYPES:
                errors.append(_outcome("GEM051", Severity.ERROR,
                    f"{_ref(owner)} 的表达上下文 {_ref(context)} 的 ContextType="
                    f"{repr(context_type) if context_type is not None else '空'}，应为 'Model'、'Plan' 或 'NotDefined'",
                    owner, list(CONTEXT_TYPES), context_type))  # fmt: skip
    yield from errors
    if owners and not errors:
        yield _outcome("GEM051", Severity.PASSED, f"已检查 {len(owners)} 个项目/上下文的表达上下文，均有效")


@rule("GEM052", 1, "几何表达上下文须有子上下文且子上下文标识符有效")
def gem052(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    if _schema(model) == "IFC2X3":
        return
    checked = 0
    errors: list[Outcome] = []
    for context in _by_type(model, "IfcGeometricRepresentationContext"):
        if context.is_a() != "IfcGeometricRepresentationContext":
            continue
        checked += 1
        if not _attr(context, "HasSubContexts"):
            errors.append(_outcome("GEM052", Severity.ERROR,
                f"几何表达上下文 {_ref(context)}（ContextType={_attr(context, 'ContextType')!r}）没有任何子上下文"
                "（IfcGeometricRepresentationSubContext），形状表达应引用 Body、Axis 等子上下文",
                context, "至少一个子上下文", 0))  # fmt: skip
    for sub in _by_type(model, "IfcGeometricRepresentationSubContext"):
        checked += 1
        identifier = _attr(sub, "ContextIdentifier")
        if not identifier:
            errors.append(_outcome("GEM052", Severity.ERROR,
                f"几何子上下文 {_ref(sub)} 的标识符 ContextIdentifier 为空",
                sub, list(SHAPE_REPRESENTATION_IDENTIFIERS), None))  # fmt: skip
        elif identifier not in SHAPE_REPRESENTATION_IDENTIFIERS:
            errors.append(_outcome("GEM052", Severity.ERROR,
                f"几何子上下文 {_ref(sub)} 的标识符 ContextIdentifier='{identifier}' 不是规定值"
                f"（{'、'.join(SHAPE_REPRESENTATION_IDENTIFIERS)}）",
                sub, list(SHAPE_REPRESENTATION_IDENTIFIERS), identifier))  # fmt: skip
    yield from errors
    if checked and not errors:
        yield _outcome("GEM052", Severity.PASSED, f"已检查 {checked} 个几何上下文/子上下文，均有效")


def _types_in(rep: Any, depth: int = 0) -> list[tuple[Any, str | None]]:
    """(representation, type) of `rep` and of the representations its mapped items map, so a
    product placing a block shows the types the block is made of too."""
    found: list[tuple[Any, str | None]] = [(rep, _attr(rep, "RepresentationType"))]
    if depth > 8:
        return found
    for item in _attr(rep, "Items") or ():
        if item.is_a("IfcMappedItem"):
            source = _attr(item, "MappingSource")
            mapped = _attr(source, "MappedRepresentation") if source is not None else None
            if mapped is not None:
                found.extend(_types_in(mapped, depth + 1))
    return found


@rule("TB301", 1, "形状表达类型须在招标允许的范围内", stage="tender", allowed_representation_types=None)
def tb301(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    allowed = params.get("allowed_representation_types")
    if allowed is None:
        return
    allowed_set = {str(a) for a in allowed}
    listed = "、".join(sorted(allowed_set)) or "（无）"
    checked = 0
    errors: list[Outcome] = []
    for product in _by_type(model, "IfcProduct"):
        seen: set[int] = set()
        for top in _product_representations(product):
            if not top.is_a("IfcShapeRepresentation"):
                continue
            for rep, rep_type in _types_in(top):
                if rep.id() in seen or not rep_type:
                    continue
                seen.add(rep.id())
                checked += 1
                if rep_type not in allowed_set:
                    via = "" if rep is top else f"（经映射项引用自 {_ref(top)}）"
                    errors.append(_outcome("TB301", Severity.ERROR,
                        f"{_ref(product)} 的形状表达 {_ref(rep)}{via}（标识符 "
                        f"{_attr(rep, 'RepresentationIdentifier')!r}）类型为 '{rep_type}'，本招标只允许：{listed}",
                        product, sorted(allowed_set), rep_type))  # fmt: skip
    yield from errors
    if checked and not errors:
        yield _outcome("TB301", Severity.PASSED, f"已检查 {checked} 个形状表达，类型均在招标允许范围内")
