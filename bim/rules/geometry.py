"""Illegal-geometry rules (非法几何拦截): closed shells whose edges are not used exactly twice in
opposite directions (GEM001), duplicate points in polylines, poly loops and indexed poly curves
(GEM111, GEM112), arcs through colinear points (GEM113), self-intersecting face bounds of B-reps
(BRP001) and of polygonal face sets (TAS001), self-intersecting profiles of swept solids (SWE001),
and our own: extrusions of zero or negative depth (TB311) and extrusion directions of zero length or
lying in the profile plane (TB312).

The Validation Service rules follow its .feature files and step code (buildingSMART
ifc-gherkin-rules, MIT, Copyright (c) buildingSMART International Ltd). Tolerances come from the
Precision of the geometric representation context the item is used in (a sub-context takes its
parent's; 1e-5 model units when none is given), as the service's steps take them.

Must not: triangulate whole products or compare all faces of a model pairwise; polygons with more
than MAX_POINTS points are skipped with an EXECUTED outcome that says so.
"""

from __future__ import annotations

import importlib
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from bim import geometry_math as gm
from bim.outcomes import Instance, Outcome, Severity
from bim.rules.base import rule

DEFAULT_PRECISION = 1e-5
MAX_POINTS = 5000  # a polygon / ring larger than this is not checked for self-intersection
_WALK_LIMIT = 5000  # instances visited when looking for the representation an item belongs to


# ---------------------------------------------------------------------------------------------------
# shared helpers


def _by_type(model: Any, ifc_class: str) -> list[Any]:
    try:
        return sorted(model.by_type(ifc_class), key=lambda e: e.id())
    except RuntimeError:  # the class does not exist in this schema
        return []


def _attr(entity: Any, name: str) -> Any:
    try:
        return getattr(entity, name)
    except (AttributeError, RuntimeError):
        return None


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _pt(coords: Iterable[float]) -> str:
    return "(" + ", ".join(_fmt(float(c)) for c in coords) + ")"


def _ref(entity: Any) -> str:
    return f"#{entity.id()}={entity.is_a()}"


class Outcomes:
    """Collects one rule's outcomes: errors per instance, a PASSED when something was checked and
    nothing was wrong, EXECUTED notes for skipped instances."""

    def __init__(self, code: str, version: int) -> None:
        self.code, self.version = code, version
        self.items: list[Outcome] = []
        self.checked = 0

    def error(self, entity: Any, message: str, expected: Any = None, observed: Any = None) -> None:
        self.items.append(Outcome(rule=self.code, version=self.version, severity=Severity.ERROR, message=message,
                                  instance=Instance.of(entity), expected=expected, observed=observed))  # fmt: skip

    def skipped(self, entity: Any, message: str) -> None:
        self.items.append(Outcome(rule=self.code, version=self.version, severity=Severity.EXECUTED,
                                  message=message, instance=Instance.of(entity)))  # fmt: skip

    def result(self, passed_message: str) -> list[Outcome]:
        if self.checked and not any(o.severity == Severity.ERROR for o in self.items):
            self.items.append(Outcome(rule=self.code, version=self.version, severity=Severity.PASSED,
                                      message=passed_message.format(n=self.checked)))  # fmt: skip
        return self.items


def _context_precision(context: Any, depth: int = 0) -> float:
    if context is None or depth > 20:
        return DEFAULT_PRECISION
    if context.is_a("IfcGeometricRepresentationSubContext"):
        return _context_precision(_attr(context, "ParentContext"), depth + 1)
    value = _attr(context, "Precision")
    return float(value) if isinstance(value, (int, float)) and value > 0 else DEFAULT_PRECISION


class Precision:
    """The context precision of a geometric item: the largest Precision of the contexts of the
    representations that use it (as the Validation Service resolves it). When every geometric
    context of the model resolves to one value (the usual case) no lookup is needed."""

    def __init__(self, model: Any) -> None:
        self.model = model
        contexts = _by_type(model, "IfcGeometricRepresentationContext")
        values = {_context_precision(c) for c in contexts}
        self.single: float | None = values.pop() if len(values) == 1 else None
        if not contexts:
            self.single = DEFAULT_PRECISION
        self._memo: dict[int, float] = {}

    def of(self, entity: Any) -> float:
        if self.single is not None:
            return self.single
        key = entity.id()
        if key not in self._memo:
            self._memo[key] = self._walk(entity)
        return self._memo[key]

    def _walk(self, entity: Any) -> float:
        found: list[float] = []
        seen = {entity.id()}
        queue = [entity]
        while queue and len(seen) < _WALK_LIMIT:
            nxt: list[Any] = []
            for item in queue:
                if item.is_a("IfcRepresentation"):
                    found.append(_context_precision(_attr(item, "ContextOfItems")))
                    continue
                try:
                    inverses = self.model.get_inverse(item)
                except RuntimeError:
                    continue
                for inv in inverses:
                    if inv.id() not in seen:
                        seen.add(inv.id())
                        nxt.append(inv)
            queue = nxt
        return max(found) if found else DEFAULT_PRECISION


def _coords(point: Any) -> tuple[float, ...] | None:
    try:
        values = point[0] if point.is_a("IfcCartesianPoint") else None  # Coordinates, by position (fast)
    except (IndexError, RuntimeError, TypeError):
        values = None
    if not values:
        return None
    return tuple(float(v) for v in values)


def _all_coords(points: Iterable[Any]) -> list[tuple[float, ...]] | None:
    """Coordinates of every point, or None when one of them has none."""
    found: list[tuple[float, ...]] = []
    for point in points:
        coords = _coords(point)
        if coords is None:
            return None
        found.append(coords)
    return found


def _index_values(segment: Any) -> list[int]:
    """The indices of an IfcLineIndex / IfcArcIndex select value (wrapped or plain)."""
    value = segment.wrappedValue if hasattr(segment, "wrappedValue") else segment
    return [int(v) for v in value]


def _indexed_points(curve: Any) -> list[tuple[float, ...]]:
    """The points of an IfcIndexedPolyCurve in order, arc mid points included, as the Validation
    Service joins the segments (a segment not starting where the previous one ends is dropped)."""
    point_list = _attr(curve, "Points")
    coord_list = _attr(point_list, "CoordList") if point_list is not None else None
    if not coord_list:
        return []
    coords = [tuple(float(v) for v in p) for p in coord_list]
    segments = _attr(curve, "Segments")
    if not segments:
        return coords
    gen = [_index_values(s) for s in segments]
    joined: list[int] = []
    for a, b in itertools.pairwise(gen):
        if a and b and a[-1] == b[0]:
            joined.extend(a[:-1])
    joined.extend(gen[-1])
    return [coords[i - 1] for i in joined if 1 <= i <= len(coords)]


# ---------------------------------------------------------------------------------------------------
# GEM001 closed shell edge usage


def _shell_edges(shell: Any) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """Oriented edges (by vertex coordinates) of the loops of a closed shell's faces."""
    edges: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    for face in _attr(shell, "CfsFaces") or ():
        for bound in _attr(face, "Bounds") or ():
            loop = _attr(bound, "Bound")
            if loop is None:
                continue
            orientation = _attr(bound, "Orientation") is not False
            if loop.is_a("IfcPolyLoop"):
                pts = [_coords(p) for p in _attr(loop, "Polygon") or ()]
                if any(p is None for p in pts) or not pts:
                    continue
                ring = [p for p in pts if p is not None]
                if not orientation:
                    ring.reverse()
                edges.extend(zip(ring, ring[1:] + ring[:1], strict=True))
            elif loop.is_a("IfcEdgeLoop"):
                for oriented in _attr(loop, "EdgeList") or ():
                    element = _attr(oriented, "EdgeElement")
                    try:
                        start = _coords(element.EdgeStart.VertexGeometry)
                        end = _coords(element.EdgeEnd.VertexGeometry)
                    except (AttributeError, RuntimeError):
                        continue
                    if start is None or end is None:
                        continue
                    pair = [start, end]
                    if _attr(oriented, "Orientation") is False:
                        pair.reverse()
                    if not orientation:
                        pair.reverse()
                    edges.append((pair[0], pair[1]))
    return edges


def _faceset_vertex_ids(faceset: Any) -> tuple[Any, list[int] | None] | None:
    """Vertex ids (equal coordinates → equal id) per CoordList entry, and the PnIndex if any."""
    coordinates = _attr(faceset, "Coordinates")
    coord_list = _attr(coordinates, "CoordList") if coordinates is not None else None
    if not coord_list:
        return None
    try:
        coords = np.array(coord_list, dtype=float)
    except ValueError:
        return None
    _, ids = np.unique(coords, axis=0, return_inverse=True)
    pn = _attr(faceset, "PnIndex")
    return ids.reshape(-1), [int(i) for i in pn] if pn else None


def _edge_usage_errors(out: Outcomes, entity: Any, oriented_edges: Counter[Any], describe: Any) -> None:
    """GEM001's two statements: every edge twice, every oriented edge once."""
    undirected: Counter[Any] = Counter()
    for (a, b), count in oriented_edges.items():
        undirected[frozenset((a, b))] += count
    bad_edges = [(e, c) for e, c in undirected.items() if c != 2]
    bad_oriented = [(e, c) for e, c in oriented_edges.items() if c != 1]
    if bad_edges:
        edge, count = min(bad_edges, key=lambda ec: sorted(map(str, ec[0])))
        ends = sorted(edge, key=str)
        out.error(entity, f"闭合面集/闭合壳体 {_ref(entity)} 中有 {len(bad_edges)} 条边未被恰好两个面环引用；"
                          f"例如边 {describe(ends[0])}–{describe(ends[-1])} 被引用 {count} 次（应为 2 次），"
                          "壳体不封闭或存在多余/缺失的面",
                  expected=2, observed=count)  # fmt: skip
    elif bad_oriented:
        (a, b), count = min(bad_oriented, key=lambda ec: (str(ec[0][0]), str(ec[0][1])))
        out.error(entity, f"闭合面集/闭合壳体 {_ref(entity)} 中有 {len(bad_oriented)} 条有向边重复使用；"
                          f"例如边 {describe(a)}→{describe(b)} 同方向被引用 {count} 次（应为 1 次），"
                          "相邻面的朝向不一致",
                  expected=1, observed=count)  # fmt: skip


def _used_in_faceted_brep(model: Any, shell: Any) -> bool:
    try:
        inverses = model.get_inverse(shell)
    except RuntimeError:
        return False
    return any(inv.is_a("IfcFacetedBrep") for inv in inverses)


@rule("GEM001", 1, "闭合壳体边的使用（每条边恰好两次、方向相反）")
def gem001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("GEM001", 1)
    for shell in _by_type(model, "IfcClosedShell"):
        if not _used_in_faceted_brep(model, shell):
            continue
        out.checked += 1
        _edge_usage_errors(out, shell, Counter(_shell_edges(shell)), _pt)
    for ifc_class in ("IfcTriangulatedFaceSet", "IfcPolygonalFaceSet"):
        for faceset in _by_type(model, ifc_class):
            if _attr(faceset, "Closed") is not True:
                continue
            vertex = _faceset_vertex_ids(faceset)
            if vertex is None:
                continue
            out.checked += 1
            ids, pn = vertex
            coords = faceset.Coordinates.CoordList

            def vid(index: int, ids: Any = ids, pn: list[int] | None = pn) -> int | None:
                if pn is not None:
                    if not 1 <= index <= len(pn):
                        return None
                    index = pn[index - 1]
                return int(ids[index - 1]) if 1 <= index <= len(ids) else None

            representative: dict[int, tuple[float, ...]] = {}
            for k, v in enumerate(ids.tolist()):
                representative.setdefault(v, tuple(coords[k]))
            edges: Counter[tuple[int, int]] = Counter()
            for loop in _faceset_loops(faceset):
                ring = [vid(i) for i in loop]
                if any(r is None for r in ring) or not ring:
                    continue
                clean = [r for r in ring if r is not None]
                edges.update(zip(clean, clean[1:] + clean[:1], strict=True))
            _edge_usage_errors(out, faceset, edges, lambda v, rep=representative: _pt(rep[v]))
    yield from out.result("已检查 {n} 个闭合壳体/闭合面集，所有边均被恰好两个面以相反方向引用")


def _faceset_loops(faceset: Any) -> Iterator[list[int]]:
    if faceset.is_a("IfcTriangulatedFaceSet"):
        for triangle in _attr(faceset, "CoordIndex") or ():
            yield [int(i) for i in triangle]
        return
    for face in _attr(faceset, "Faces") or ():
        yield [int(i) for i in _attr(face, "CoordIndex") or ()]
        if face.is_a("IfcIndexedPolygonalFaceWithVoids"):
            for inner in _attr(face, "InnerCoordIndices") or ():
                yield [int(i) for i in inner]


# ---------------------------------------------------------------------------------------------------
# GEM111 / GEM112 / GEM113 duplicate points, colinear arcs


@rule("GEM111", 1, "多段线/多边形环中不得有重复点")
def gem111(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("GEM111", 1)
    precision = Precision(model)
    items = _by_type(model, "IfcPolyLoop") + _by_type(model, "IfcPolyline")
    for curve in sorted(items, key=lambda e: e.id()):
        is_loop = curve.is_a("IfcPolyLoop")
        points = list(_attr(curve, "Polygon" if is_loop else "Points") or ())
        coords = _all_coords(points)
        if not coords:
            continue
        out.checked += 1
        if len(coords) > MAX_POINTS * 4:
            out.skipped(curve, f"{_ref(curve)} 有 {len(coords)} 个点，超过检查上限，未检查重复点")
            continue
        tol = precision.of(curve)
        closed = not is_loop and math.dist(coords[0], coords[-1]) < tol
        pairs = gm.coincident_pairs(coords, tol)
        if closed:
            pairs = [p for p in pairs if p != (0, len(coords) - 1)]
        if pairs:
            i, j = pairs[0]
            kind = "多边形环" if is_loop else ("闭合多段线" if closed else "开放多段线")
            out.error(curve, f"{kind} {_ref(curve)} 有 {len(pairs)} 对重复点（间距小于精度 {_fmt(tol)}）；"
                             f"例如第 {i + 1} 点 "
                             f"#{points[i].id()}{_pt(coords[i])} 与第 {j + 1} 点 #{points[j].id()}{_pt(coords[j])}",
                      expected=f"点间距 ≥ {_fmt(tol)}", observed=[i + 1, j + 1])  # fmt: skip
        if closed and points[0].id() != points[-1].id():
            out.error(curve, f"闭合多段线 {_ref(curve)} 的首点 #{points[0].id()} 与末点 #{points[-1].id()} "
                             "坐标相同但不是同一个"
                             "IfcCartesianPoint 实例；闭合多段线须以同一实例首尾相接",
                      expected=f"#{points[0].id()}", observed=f"#{points[-1].id()}")  # fmt: skip
    yield from out.result("已检查 {n} 条多段线/多边形环，无重复点")


@rule("GEM112", 1, "索引多段曲线中不得有相邻重合点")
def gem112(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("GEM112", 1)
    precision = Precision(model)
    for curve in _by_type(model, "IfcIndexedPolyCurve"):
        try:
            coords = _indexed_points(curve)
        except (TypeError, ValueError, AttributeError, RuntimeError):
            continue
        out.checked += 1
        if not coords:
            continue
        tol = precision.of(curve)
        hits = gm.consecutive_coincident(coords, tol)
        if hits:
            k = hits[0]
            out.error(curve, f"索引多段曲线 {_ref(curve)} 有 {len(hits)} 处相邻点重合（间距小于精度 {_fmt(tol)}）；"
                             f"例如第 {k} 点 {_pt(coords[k - 1])} 与第 {k + 1} 点 {_pt(coords[k])}",
                      expected=f"相邻点间距 ≥ {_fmt(tol)}", observed=[_pt(coords[k - 1]), _pt(coords[k])])  # fmt: skip
    yield from out.result("已检查 {n} 条索引多段曲线，无相邻重合点")


@rule("GEM113", 1, "索引多段曲线的圆弧段不得由共线点定义")
def gem113(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("GEM113", 1)
    precision = Precision(model)
    for curve in _by_type(model, "IfcIndexedPolyCurve"):
        out.checked += 1
        segments = _attr(curve, "Segments") or ()
        point_list = _attr(curve, "Points")
        coords = _attr(point_list, "CoordList") if point_list is not None else None
        if not coords:
            continue
        tol = precision.of(curve)
        bad: list[list[int]] = []
        for segment in segments:
            if not segment.is_a("IfcArcIndex"):
                continue
            try:
                idx = _index_values(segment)
            except (TypeError, ValueError):
                continue
            if len(idx) != 3 or not all(1 <= i <= len(coords) for i in idx):
                continue
            if gm.arc_is_colinear(coords[idx[0] - 1], coords[idx[1] - 1], coords[idx[2] - 1], tol):
                bad.append(idx)
        if bad:
            idx = bad[0]
            out.error(curve, f"索引多段曲线 {_ref(curve)} 有 {len(bad)} 个圆弧段的三点共线"
                             f"（精度 {_fmt(tol)}），无法确定圆弧；"
                             f"例如 IfcArcIndex({', '.join(map(str, idx))}): "
                             + "、".join(_pt(coords[i - 1]) for i in idx),
                      expected="三点不共线", observed=idx)  # fmt: skip
    yield from out.result("已检查 {n} 条索引多段曲线，圆弧段均不共线")


# ---------------------------------------------------------------------------------------------------
# self-intersections: BRP001 (poly loops of faces), TAS001 (polygonal face sets), SWE001 (profiles)


def _ring_from_points(coords: list[tuple[float, ...]], tol: float) -> Any:
    """Edges of the closed ring through `coords`; repeated points (and the closing one) dropped."""
    return gm.ring_edges(gm.dedupe_ring(gm._as_points(coords), tol))


def _describe_crossing(edges: Any, crossing: gm.Crossing) -> str:
    a, b = edges[crossing.first], edges[crossing.second]
    what = "相邻边折返重叠" if crossing.neighbours else f"两条边相交或相距 {_fmt(crossing.distance)}"
    return f"{what}：{_pt(b[0])}→{_pt(b[1])} 与 {_pt(a[0])}→{_pt(a[1])}"


def _check_ring(out: Outcomes, entity: Any, edges: Any, tol: float, label: str) -> None:
    if len(edges) > MAX_POINTS:
        out.skipped(
            entity, f"{label} {_ref(entity)} 有 {len(edges)} 条边，超过自相交检查上限 {MAX_POINTS}，未检查"
        )
        return
    crossings = gm.ring_self_intersections(edges, tol)
    if crossings:
        out.error(entity, f"{label} {_ref(entity)} 边界自相交（{len(crossings)} 处，精度 {_fmt(tol)}）；例如"
                          + _describe_crossing(edges, crossings[0]),
                  expected="边界不自相交", observed=len(crossings))  # fmt: skip


_BATCH_EDGES = 32  # rings up to this many edges are screened together, larger ones one by one
_BATCH_PAIRS = 200_000  # edge pairs screened at once (memory bound)


def _check_rings(out: Outcomes, entries: list[tuple[Any, Any, float, str]]) -> None:
    """`_check_ring` for many rings (entity, edges, tolerance, label): small rings are screened
    in batches of the same size, only the suspicious ones are examined (and reported) one by one."""
    suspect = [True] * len(entries)
    groups: dict[tuple[int, int, float], list[int]] = {}
    for n, (_, edges, tol, _) in enumerate(entries):
        if 2 <= len(edges) <= min(_BATCH_EDGES, MAX_POINTS):
            groups.setdefault((len(edges), edges.shape[-1], tol), []).append(n)
    for (m, _, tol), members in groups.items():
        size = max(1, _BATCH_PAIRS // max(1, m * (m - 1) // 2))
        for start in range(0, len(members), size):
            part = members[start : start + size]
            flags = gm.rings_with_crossings(np.stack([entries[k][1] for k in part]), tol)
            for k, flag in zip(part, flags.tolist(), strict=True):
                suspect[k] = bool(flag)
    for n, flag in enumerate(suspect):
        if flag:
            entity, edges, tol, label = entries[n]
            _check_ring(out, entity, edges, tol, label)


@rule("BRP001", 1, "B-rep 面的多边形边界不得自相交")
def brp001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("BRP001", 1)
    precision = Precision(model)
    seen: set[int] = set()
    entries: list[tuple[Any, Any, float, str]] = []
    for face in _by_type(model, "IfcFace"):
        for bound in _attr(face, "Bounds") or ():
            loop = _attr(bound, "Bound")
            if loop is None or not loop.is_a("IfcPolyLoop") or loop.id() in seen:
                continue
            seen.add(loop.id())
            coords = _all_coords(_attr(loop, "Polygon") or ())
            if coords is None or len(coords) < 2:
                continue
            out.checked += 1
            if len(coords) > MAX_POINTS:
                out.skipped(
                    loop,
                    f"多边形环 {_ref(loop)} 有 {len(coords)} 个点，超过自相交检查上限 {MAX_POINTS}，未检查",
                )
                continue
            tol = precision.of(loop)
            entries.append((loop, _ring_from_points(coords, tol), tol, "面边界多边形环"))
    _check_rings(out, entries)
    yield from out.result("已检查 {n} 个面边界多边形环，均不自相交")


@rule("TAS001", 1, "多边形面集的面边界不得自相交")
def tas001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("TAS001", 1)
    precision = Precision(model)
    entries: list[tuple[Any, Any, float, str]] = []
    for faceset in _by_type(model, "IfcPolygonalFaceSet"):
        coordinates = _attr(faceset, "Coordinates")
        coord_list = _attr(coordinates, "CoordList") if coordinates is not None else None
        faces = _attr(faceset, "Faces") or ()
        if not coord_list or not faces:
            continue
        try:
            vertices = np.array(coord_list, dtype=float)
        except ValueError:
            continue
        pn = _attr(faceset, "PnIndex")
        pn_list = [int(i) for i in pn] if pn else None
        tol = precision.of(faceset)
        for face in sorted(faces, key=lambda f: f.id()):
            loops = [_attr(face, "CoordIndex") or ()]
            if face.is_a("IfcIndexedPolygonalFaceWithVoids"):
                loops += list(_attr(face, "InnerCoordIndices") or ())
            out.checked += 1
            for n, loop in enumerate(loops):
                index = [int(i) for i in loop]
                if pn_list is not None:
                    index = [pn_list[i - 1] if 1 <= i <= len(pn_list) else 0 for i in index]
                if len(index) < 2 or not all(1 <= i <= len(vertices) for i in index):
                    continue
                label = "多边形面外边界" if n == 0 else f"多边形面第 {n} 个内边界"
                entries.append((face, gm.ring_edges(vertices[np.array(index) - 1]), tol, label))
    _check_rings(out, entries)
    yield from out.result("已检查多边形面集的 {n} 个面，边界均不自相交")


def _curve_edges(curve: Any, tol: float) -> Any | None:
    """Edges (m, 2, d) of a profile curve in model units: polylines and straight indexed poly curves
    directly, anything else (arcs, composite and trimmed curves) through IfcOpenShell's tessellation
    with a deflection tied to the precision (as the Validation Service does)."""
    if curve.is_a("IfcPolyline"):
        points = _all_coords(_attr(curve, "Points") or ())
        if points is None or len(points) < 2:
            return None
        return _ring_from_points(points, tol)
    if curve.is_a("IfcIndexedPolyCurve") and all(
        not s.is_a("IfcArcIndex") for s in (_attr(curve, "Segments") or ())
    ):
        coords = _indexed_points(curve)
        return _ring_from_points(coords, tol) if len(coords) >= 2 else None
    geom: Any = importlib.import_module("ifcopenshell.geom")
    settings = geom.settings()
    settings.set("mesher-linear-deflection", max(min(tol * 10, 0.01), 1e-4))
    settings.set("convert-back-units", True)
    try:
        shape = geom.create_shape(settings, curve)
    except Exception:
        return None
    verts = np.array(shape.verts, dtype=float).reshape(-1, 3)
    edge_index = np.array(shape.edges, dtype=int).reshape(-1, 2)
    if len(edge_index) == 0:
        return None
    return verts[edge_index]


@rule("SWE001", 1, "任意轮廓（拉伸等扫掠体的截面）边界不得自相交")
def swe001(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("SWE001", 1)
    precision = Precision(model)
    for profile in _by_type(model, "IfcArbitraryClosedProfileDef"):
        curves = [("外轮廓", _attr(profile, "OuterCurve"))]
        if profile.is_a("IfcArbitraryProfileDefWithVoids"):
            curves += [(f"第 {n} 个内轮廓", c) for n, c in enumerate(_attr(profile, "InnerCurves") or (), 1)]
        tol = precision.of(profile)
        for label, curve in curves:
            if curve is None:
                continue
            out.checked += 1
            edges = _curve_edges(curve, tol)
            if edges is None:
                out.skipped(profile, f"轮廓 {_ref(profile)} 的{label} {_ref(curve)} 无法离散化，未检查自相交")
                continue
            if len(edges) > MAX_POINTS:
                out.skipped(
                    profile, f"轮廓 {_ref(profile)} 的{label}有 {len(edges)} 条边，超过自相交检查上限，未检查"
                )
                continue
            crossings = gm.ring_self_intersections(edges, tol)
            if crossings:
                out.error(profile, f"轮廓 {_ref(profile)} 的{label} {_ref(curve)} 自相交"
                                   f"（{len(crossings)} 处，精度 {_fmt(tol)}）；"
                                   "例如" + _describe_crossing(edges, crossings[0]),
                          expected="轮廓边界不自相交", observed=len(crossings))  # fmt: skip
    yield from out.result("已检查 {n} 条任意轮廓边界，均不自相交")


# ---------------------------------------------------------------------------------------------------
# TB311 / TB312 degenerate extrusions (ours)


@rule("TB311", 1, "拉伸体的拉伸深度必须为正")
def tb311(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("TB311", 1)
    for solid in _by_type(model, "IfcExtrudedAreaSolid"):
        depth = _attr(solid, "Depth")
        if not isinstance(depth, (int, float)):
            continue
        out.checked += 1
        if depth <= 0:
            out.error(solid, f"拉伸体 {_ref(solid)} 的拉伸深度 Depth 为 {_fmt(depth)}，"
                             "必须大于 0（IfcPositiveLengthMeasure）；"
                             "零或负深度得到的是退化实体",
                      expected="> 0", observed=depth)  # fmt: skip
    yield from out.result("已检查 {n} 个拉伸体，拉伸深度均为正")


@rule("TB312", 1, "拉伸方向不得为零长度或平行于轮廓平面")
def tb312(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    out = Outcomes("TB312", 1)
    precision = Precision(model)
    for solid in _by_type(model, "IfcExtrudedAreaSolid"):
        direction = _attr(solid, "ExtrudedDirection")
        ratios = _attr(direction, "DirectionRatios") if direction is not None else None
        if not ratios:
            continue
        out.checked += 1
        vec = [float(v) for v in ratios] + [0.0] * (3 - len(ratios))
        length = math.sqrt(sum(v * v for v in vec[:3]))
        if length < 1e-12:
            out.error(solid, f"拉伸体 {_ref(solid)} 的拉伸方向 {_ref(direction)}{_pt(ratios)} 长度为零，"
                             "无法确定拉伸方向",
                      expected="非零方向", observed=list(ratios))  # fmt: skip
            continue
        depth = _attr(solid, "Depth")
        depth = float(depth) if isinstance(depth, (int, float)) and depth > 0 else 1.0
        height = abs(vec[2]) / length * depth  # extent normal to the profile plane (z of Position)
        tol = precision.of(solid)
        if height < tol:
            out.error(solid, f"拉伸体 {_ref(solid)} 的拉伸方向 {_pt(ratios)} 平行于轮廓平面"
                             f"（垂直于轮廓的厚度 {_fmt(height)} "
                             f"小于精度 {_fmt(tol)}），实体退化为零厚度",
                      expected="拉伸方向与轮廓平面不平行", observed=list(ratios))  # fmt: skip
    yield from out.result("已检查 {n} 个拉伸体，拉伸方向均有效")
