"""Illegal-geometry rules on small models built here: each rule passes a sound model, fails a broken
one and stays silent (not activated) when the model has nothing it applies to."""

from __future__ import annotations

import random
from typing import Any

import ifcopenshell
import ifcopenshell.guid
import pytest

from bim import geometry_math as gm
from bim.outcomes import Severity
from bim.rules import geometry as geometry_rules
from bim.rules import load_all
from bim.rules.runner import activated, has_error, run_rule

RULES = load_all()


def _verdict(code: str, model: Any) -> str:
    result = run_rule(RULES[code], model)
    return "fail" if has_error(result) else "pass" if activated(result) else "na"


def _model(precision: float = 1e-5, schema: str = "IFC4") -> tuple[Any, Any]:
    f = ifcopenshell.file(schema=schema)
    origin = f.createIfcAxis2Placement3D(f.createIfcCartesianPoint((0.0, 0.0, 0.0)), None, None)
    ctx = f.create_entity("IfcGeometricRepresentationContext", ContextType="Model", CoordinateSpaceDimension=3,
                          Precision=precision, WorldCoordinateSystem=origin)  # fmt: skip
    body = f.create_entity("IfcGeometricRepresentationSubContext", ContextIdentifier="Body", ContextType="Model",
                           ParentContext=ctx, TargetView="MODEL_VIEW")  # fmt: skip
    f.create_entity("IfcProject", GlobalId=ifcopenshell.guid.new(), Name="P", RepresentationContexts=[ctx])
    return f, body


def _product(f: Any, ctx: Any, items: list[Any], rep_type: str = "SweptSolid") -> Any:
    rep = f.createIfcShapeRepresentation(ctx, "Body", rep_type, items)
    shape = f.createIfcProductDefinitionShape(None, None, [rep])
    return f.create_entity("IfcBuildingElementProxy", GlobalId=ifcopenshell.guid.new(), Name="构件",
                           Representation=shape)  # fmt: skip


def _polyline(f: Any, points: list[tuple[float, ...]], close: bool = True) -> Any:
    pts = [f.createIfcCartesianPoint(p) for p in points]
    return f.createIfcPolyline([*pts, pts[0]] if close else pts)


def _extrusion(f: Any, ctx: Any, outline: list[tuple[float, ...]], depth: float = 1.0,
               direction: tuple[float, ...] = (0.0, 0.0, 1.0)) -> Any:  # fmt: skip
    profile = f.createIfcArbitraryClosedProfileDef("AREA", None, _polyline(f, outline))
    solid = f.createIfcExtrudedAreaSolid(profile, None, f.createIfcDirection(direction), depth)
    _product(f, ctx, [solid])
    return solid


SQUARE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
BOWTIE = [(0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0)]


# --- SWE001 -----------------------------------------------------------------------------------------


def test_swe001_passes_a_square_profile_fails_a_crossing_one_and_is_silent_without_profiles():
    f, ctx = _model()
    _extrusion(f, ctx, SQUARE)
    assert _verdict("SWE001", f) == "pass"
    _extrusion(f, ctx, BOWTIE)
    assert _verdict("SWE001", f) == "fail"
    result = run_rule(RULES["SWE001"], f)
    error = next(o for o in result.outcomes if o.severity == Severity.ERROR)
    assert "自相交" in error.message
    assert error.instance
    assert error.instance.ifc_class == "IfcArbitraryClosedProfileDef"
    assert _verdict("SWE001", _model()[0]) == "na"


def test_swe001_checks_the_inner_curves_of_profiles_with_voids():
    f, ctx = _model()
    outer = _polyline(f, [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)])
    inner = _polyline(f, [(2.0, 2.0), (4.0, 4.0), (4.0, 2.0), (2.0, 4.0)])
    profile = f.createIfcArbitraryProfileDefWithVoids("AREA", None, outer, [inner])
    _product(
        f, ctx, [f.createIfcExtrudedAreaSolid(profile, None, f.createIfcDirection((0.0, 0.0, 1.0)), 1.0)]
    )
    result = run_rule(RULES["SWE001"], f)
    assert has_error(result)
    assert "内轮廓" in result.outcomes[0].message


def test_swe001_tessellates_curved_profiles():
    f, ctx = _model()
    circle = f.createIfcCircle(f.createIfcAxis2Placement2D(f.createIfcCartesianPoint((0.0, 0.0)), None), 1.0)
    profile = f.createIfcArbitraryClosedProfileDef("AREA", None, circle)
    _product(
        f, ctx, [f.createIfcExtrudedAreaSolid(profile, None, f.createIfcDirection((0.0, 0.0, 1.0)), 1.0)]
    )
    assert _verdict("SWE001", f) == "pass"


def test_swe001_skips_profiles_beyond_the_size_cap(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(geometry_rules, "MAX_POINTS", 3)
    f, ctx = _model()
    _extrusion(f, ctx, BOWTIE)
    result = run_rule(RULES["SWE001"], f)
    assert activated(result)
    assert not has_error(result)
    assert any(o.severity == Severity.EXECUTED and "上限" in o.message for o in result.outcomes)


# --- GEM001 -----------------------------------------------------------------------------------------

CUBE = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
CUBE_FACES = [(1, 4, 3, 2), (5, 6, 7, 8), (1, 2, 6, 5), (2, 3, 7, 6), (3, 4, 8, 7), (4, 1, 5, 8)]


def _brep(f: Any, ctx: Any, faces: list[tuple[int, ...]]) -> Any:
    points = [f.createIfcCartesianPoint(tuple(float(c) for c in p)) for p in CUBE]
    ifc_faces = [f.createIfcFace([f.createIfcFaceOuterBound(f.createIfcPolyLoop([points[i - 1] for i in face]), True)])
                 for face in faces]  # fmt: skip
    brep = f.createIfcFacetedBrep(f.createIfcClosedShell(ifc_faces))
    _product(f, ctx, [brep], "Brep")
    return brep


def test_gem001_closed_shell_passes_whole_and_fails_with_a_face_missing_or_flipped():
    f, ctx = _model()
    _brep(f, ctx, CUBE_FACES)
    assert _verdict("GEM001", f) == "pass"
    f, ctx = _model()
    _brep(f, ctx, CUBE_FACES[:-1])
    assert _verdict("GEM001", f) == "fail"
    f, ctx = _model()
    _brep(f, ctx, [*CUBE_FACES[:-1], tuple(reversed(CUBE_FACES[-1]))])
    result = run_rule(RULES["GEM001"], f)
    assert has_error(result)
    assert "有向边" in result.outcomes[0].message


def test_gem001_closed_face_sets_and_not_applicable_without_shells():
    f, _ctx = _model()
    coords = f.createIfcCartesianPointList3D([tuple(float(c) for c in p) for p in CUBE])
    faces = [f.createIfcIndexedPolygonalFace(list(face)) for face in CUBE_FACES]
    f.createIfcPolygonalFaceSet(coords, True, faces, None)
    assert _verdict("GEM001", f) == "pass"
    f2, _ = _model()
    coords = f2.createIfcCartesianPointList3D([tuple(float(c) for c in p) for p in CUBE])
    f2.createIfcPolygonalFaceSet(
        coords, True, [f2.createIfcIndexedPolygonalFace(list(fc)) for fc in CUBE_FACES[:5]], None
    )
    assert _verdict("GEM001", f2) == "fail"
    f3, _ = _model()
    coords = f3.createIfcCartesianPointList3D([tuple(float(c) for c in p) for p in CUBE])
    f3.createIfcPolygonalFaceSet(
        coords, False, [f3.createIfcIndexedPolygonalFace(list(fc)) for fc in CUBE_FACES[:5]], None
    )
    assert _verdict("GEM001", f3) == "na"  # an open face set is not held to it


# --- GEM111 / GEM112 / GEM113 ---------------------------------------------------------------------


def test_gem111_duplicate_points_in_polylines_and_closing_by_reference():
    f, _ = _model()
    _polyline(f, [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])  # closed by the same instance
    assert _verdict("GEM111", f) == "pass"
    f, _ = _model()
    _polyline(f, [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (1.0, 0.0)], close=False)
    assert _verdict("GEM111", f) == "fail"
    f, _ = _model()
    _polyline(f, [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)], close=False)  # closed by a copy
    result = run_rule(RULES["GEM111"], f)
    assert has_error(result)
    assert "同一" in result.outcomes[0].message
    assert _verdict("GEM111", _model()[0]) == "na"


def test_gem111_tolerance_is_the_context_precision():
    points = [(0.0, 0.0), (1.0, 0.0), (1.005, 0.0), (1.0, 1.0)]
    f, ctx = _model(precision=0.01)
    _extrusion(f, ctx, points)
    assert _verdict("GEM111", f) == "fail"
    f, ctx = _model(precision=0.001)
    _extrusion(f, ctx, points)
    assert _verdict("GEM111", f) == "pass"


def test_gem112_and_gem113_indexed_poly_curves():
    f, _ = _model()
    points = f.createIfcCartesianPointList2D([(0.0, 0.0), (1.0, 0.0), (1.0, 1e-7), (0.0, 1.0)])
    f.createIfcIndexedPolyCurve(points, None, False)
    assert _verdict("GEM112", f) == "fail"
    assert _verdict("GEM113", f) == "pass"  # no arcs: checked, nothing wrong
    f, _ = _model()
    points = f.createIfcCartesianPointList2D([(0.0, 0.0), (0.5, 1e-7), (1.0, 0.0)])
    arc = f.create_entity("IfcArcIndex", (1, 2, 3))
    line = f.create_entity("IfcLineIndex", (3, 1))
    f.createIfcIndexedPolyCurve(points, [arc, line], False)
    assert _verdict("GEM112", f) == "pass"
    assert _verdict("GEM113", f) == "fail"
    assert _verdict("GEM112", _model()[0]) == "na"


# --- BRP001 / TAS001 --------------------------------------------------------------------------------


def test_brp001_self_intersecting_poly_loop():
    f, ctx = _model()
    _brep(f, ctx, CUBE_FACES)
    assert _verdict("BRP001", f) == "pass"
    points = [f.createIfcCartesianPoint((float(x), float(y), 0.0)) for x, y in BOWTIE]
    f.createIfcFace([f.createIfcFaceOuterBound(f.createIfcPolyLoop(points), True)])
    assert _verdict("BRP001", f) == "fail"
    assert _verdict("BRP001", _model()[0]) == "na"


def test_tas001_self_intersecting_polygonal_face():
    f, _ctx = _model()
    coords = f.createIfcCartesianPointList3D([(x, y, 0.0) for x, y in SQUARE])
    f.createIfcPolygonalFaceSet(coords, False, [f.createIfcIndexedPolygonalFace([1, 2, 3, 4])], None)
    assert _verdict("TAS001", f) == "pass"
    coords = f.createIfcCartesianPointList3D([(x, y, 0.0) for x, y in SQUARE])
    f.createIfcPolygonalFaceSet(coords, False, [f.createIfcIndexedPolygonalFace([1, 3, 2, 4])], None)
    result = run_rule(RULES["TAS001"], f)
    assert has_error(result)
    assert result.outcomes[0].instance.ifc_class == "IfcIndexedPolygonalFace"
    assert _verdict("TAS001", _model()[0]) == "na"


# --- TB311 / TB312 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("depth", "verdict"), [(2.5, "pass"), (0.0, "fail"), (-1.0, "fail")])
def test_tb311_extrusion_depth(depth: float, verdict: str):
    f, ctx = _model()
    _extrusion(f, ctx, SQUARE, depth=depth)
    assert _verdict("TB311", f) == verdict
    assert _verdict("TB311", _model()[0]) == "na"


@pytest.mark.parametrize(
    ("direction", "verdict"),
    [((0.0, 0.0, 1.0), "pass"), ((0.3, 0.0, 1.0), "pass"), ((0.0, 0.0, 0.0), "fail"), ((1.0, 0.0, 0.0), "fail"),
     ((1.0, 0.0, 1e-9), "fail")],
)  # fmt: skip
def test_tb312_extrusion_direction(direction: tuple[float, ...], verdict: str):
    f, ctx = _model()
    _extrusion(f, ctx, SQUARE, direction=direction)
    assert _verdict("TB312", f) == verdict


def test_outcomes_are_deterministic():
    f, ctx = _model()
    for _ in range(3):
        _extrusion(f, ctx, BOWTIE, depth=0.0)
    for code in ("SWE001", "TB311", "GEM111"):
        first = run_rule(RULES[code], f).model_dump_json()
        assert run_rule(RULES[code], f).model_dump_json() == first


# --- geometry_math ----------------------------------------------------------------------------------


def test_coincident_pairs_matches_brute_force():
    rng = random.Random(7)
    pts = [(rng.randint(0, 30) * 0.001, rng.randint(0, 30) * 0.001, 0.0) for _ in range(300)]
    tol = 0.0015
    brute = sorted(
        (i, j) for i in range(len(pts)) for j in range(i + 1, len(pts))
        if sum((a - b) ** 2 for a, b in zip(pts[i], pts[j], strict=True)) ** 0.5 < tol
    )  # fmt: skip
    assert gm.coincident_pairs(pts, tol) == brute


def test_ring_self_intersections_cases():
    square = gm.ring_edges(gm._as_points(SQUARE))
    assert gm.ring_self_intersections(square, 1e-5) == []
    assert gm.ring_self_intersections(gm.ring_edges(gm._as_points(BOWTIE)), 1e-5)
    # a spike folding back on its neighbour
    spike = gm.ring_edges(gm._as_points([(0.0, 0.0), (2.0, 0.0), (1.0, 0.0), (1.0, 1.0)]))
    assert any(c.neighbours for c in gm.ring_self_intersections(spike, 1e-5))
    assert gm.arc_is_colinear((0, 0), (0.5, 0.0), (1, 0), 1e-5)
    assert not gm.arc_is_colinear((1, 0), (0.7071, 0.7071), (0, 1), 1e-5)
    assert gm.consecutive_coincident([(0, 0), (0, 0), (1, 0)], 1e-5) == [1]


def test_batched_screening_agrees_with_the_ring_by_ring_check():
    rng = random.Random(11)
    for m in (3, 4, 5, 7):
        rings = []
        for _ in range(300):
            pts = [(rng.randint(0, 4) * 0.25, rng.randint(0, 4) * 0.25, 0.0) for _ in range(m)]
            rings.append(gm.ring_edges(gm._as_points(pts)))
        batch = gm.rings_with_crossings(rings, 1e-5).tolist()
        for ring, flag in zip(rings, batch, strict=True):
            single = bool(gm.ring_self_intersections(ring, 1e-5))
            degenerate = bool((abs(ring[:, 1] - ring[:, 0]).sum(axis=1) == 0).any())
            assert flag == single or (degenerate and flag)
