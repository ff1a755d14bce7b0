"""Representation rules on small models built here: GEM004 identifiers and types per schema, GEM051
and GEM052 contexts, and the tender's TB301 restriction of representation types."""

from __future__ import annotations

from typing import Any

import ifcopenshell
import ifcopenshell.guid
import pytest

from bim.rules import load_all
from bim.rules.runner import activated, has_error, run_rule

RULES = load_all()


def _verdict(code: str, model: Any, params: dict[str, Any] | None = None) -> str:
    result = run_rule(RULES[code], model, params)
    return "fail" if has_error(result) else "pass" if activated(result) else "na"


def _model(
    schema: str = "IFC4", subcontext: str | None = "Body", context_type: str | None = "Model"
) -> tuple[Any, Any]:
    f = ifcopenshell.file(schema=schema)
    origin = f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, 0.0)), None, None)
    ctx = f.create_entity("IfcGeometricRepresentationContext", ContextType=context_type, CoordinateSpaceDimension=3,
                          Precision=1e-5, WorldCoordinateSystem=origin)  # fmt: skip
    target = ctx
    if subcontext is not None:
        target = f.create_entity("IfcGeometricRepresentationSubContext", ContextIdentifier=subcontext,
                                 ContextType="Model", ParentContext=ctx, TargetView="MODEL_VIEW")  # fmt: skip
    f.create_entity("IfcProject", GlobalId=ifcopenshell.guid.new(), Name="P", RepresentationContexts=[ctx])
    return f, target


def _solid(f: Any) -> Any:
    profile = f.createIfcRectangleProfileDef("AREA", None, None, 1.0, 1.0)
    return f.createIfcExtrudedAreaSolid(profile, None, f.createIfcDirection((0.0, 0.0, 1.0)), 1.0)


def _product(
    f: Any, ctx: Any, identifier: str | None, rep_type: str | None, items: list[Any] | None = None
) -> Any:
    rep = f.createIfcShapeRepresentation(ctx, identifier, rep_type, items or [_solid(f)])
    shape = f.createIfcProductDefinitionShape(None, None, [rep])
    return f.create_entity("IfcBuildingElementProxy", GlobalId=ifcopenshell.guid.new(), Name="构件",
                           Representation=shape)  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "identifier", "rep_type", "verdict"),
    [
        ("IFC4", "Body", "SweptSolid", "pass"),
        ("IFC4", "Body", "Tessellation", "pass"),
        ("IFC4", "body", "SweptSolid", "fail"),  # case matters
        ("IFC4", "Body", "Solid", "fail"),
        ("IFC4", "Body", "Segment", "fail"),  # IFC4X3 only
        ("IFC4X3_ADD2", "Axis", "Segment", "pass"),
        ("IFC2X3", "Body", "Tessellation", "fail"),  # not an IFC2X3 type
        ("IFC2X3", "Body", "Brep", "pass"),
    ],
)
def test_gem004_identifiers_and_types_per_schema(schema: str, identifier: str, rep_type: str, verdict: str):
    f, ctx = _model(schema)
    _product(f, ctx, identifier, rep_type)
    assert _verdict("GEM004", f) == verdict


def test_gem004_topology_types_and_not_applicable_without_representations():
    f, ctx = _model()
    point = f.createIfcVertexPoint(f.createIfcCartesianPoint((0.0, 0.0, 0.0)))
    rep = f.createIfcTopologyRepresentation(ctx, "Reference", "Solid", [point])
    f.create_entity("IfcBuildingElementProxy", GlobalId=ifcopenshell.guid.new(),
                    Representation=f.createIfcProductDefinitionShape(None, None, [rep]))  # fmt: skip
    result = run_rule(RULES["GEM004"], f)
    assert has_error(result)
    assert "'Solid'" in result.outcomes[0].message
    rep.RepresentationType = "Vertex"
    assert _verdict("GEM004", f) == "pass"
    assert _verdict("GEM004", _model()[0]) == "na"


def test_gem051_contexts_of_the_project():
    assert _verdict("GEM051", _model()[0]) == "pass"
    assert _verdict("GEM051", _model(context_type="Design")[0]) == "fail"
    f = ifcopenshell.file(schema="IFC4")
    f.create_entity("IfcProject", GlobalId=ifcopenshell.guid.new(), Name="P",
                    RepresentationContexts=[f.createIfcRepresentationContext(None, "Model")])  # fmt: skip
    assert _verdict("GEM051", f) == "fail"
    assert _verdict("GEM051", ifcopenshell.file(schema="IFC4")) == "na"


def test_gem052_subcontexts():
    assert _verdict("GEM052", _model()[0]) == "pass"
    assert _verdict("GEM052", _model(subcontext=None)[0]) == "fail"
    assert _verdict("GEM052", _model(subcontext="Wrong_Value")[0]) == "fail"
    assert _verdict("GEM052", _model(schema="IFC2X3")[0]) == "na"


def test_tb301_is_off_by_default_and_restricts_types_when_the_tender_lists_them():
    f, ctx = _model()
    _product(f, ctx, "Body", "SweptSolid")
    points = f.createIfcCartesianPointList3D([(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)])
    faces = f.createIfcTriangulatedFaceSet(points, None, None, [(1, 2, 3)], None)
    _product(f, ctx, "Body", "AdvancedBrep", [faces])
    assert _verdict("TB301", f) == "na"
    allowed = {"allowed_representation_types": ["SweptSolid", "Tessellation", "Brep", "MappedRepresentation"]}
    result = run_rule(RULES["TB301"], f, allowed)
    assert has_error(result)
    errors = [o for o in result.outcomes if o.severity.name == "ERROR"]
    assert len(errors) == 1
    assert "AdvancedBrep" in errors[0].message
    assert errors[0].instance.global_id
    allowed["allowed_representation_types"].append("AdvancedBrep")
    assert _verdict("TB301", f, allowed) == "pass"


def test_tb301_looks_into_mapped_representations():
    f, ctx = _model()
    inner = f.createIfcShapeRepresentation(ctx, "Body", "CSG", [_solid(f)])
    origin = f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, 0.0)), None, None)
    mapping = f.createIfcRepresentationMap(origin, inner)
    operator = f.createIfcCartesianTransformationOperator3D(
        None, None, f.createIfcCartesianPoint((0.0, 0.0, 0.0)), 1.0, None
    )
    _product(f, ctx, "Body", "MappedRepresentation", [f.createIfcMappedItem(mapping, operator)])
    params = {"allowed_representation_types": ["SweptSolid", "MappedRepresentation"]}
    result = run_rule(RULES["TB301"], f, params)
    assert has_error(result)
    assert "映射" in result.outcomes[0].message
    assert "CSG" in result.outcomes[0].message
