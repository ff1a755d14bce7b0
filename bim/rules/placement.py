"""Object placement rules: the Validation Service's LOP000 (local placements present: activation of
the functional part) and our own checks that ifcopenshell.validate misses: cyclic placement chains
(TB101), dangling or ill-typed placement references (TB102), coordinates far from the origin
(TB103) and zero-length directions (TB104).

Placement chains are walked once, iteratively, with every placement's state remembered, so a chain
that loops (even onto itself) never recurses and a 100 MB model costs one pass.
Must not: call ifcopenshell.util.placement on a chain not known to be acyclic (it recurses forever).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from bim.outcomes import Outcome, Severity
from bim.rules.base import by_type, outcome, ref, rule


def _attr(entity: Any, name: str) -> Any:
    try:
        return getattr(entity, name, None)
    except RuntimeError:
        return None


def _parent_placement(placement: Any) -> Any:
    """PlacementRelTo of a local (or grid/linear) placement when it is an entity, else None."""
    parent = _attr(placement, "PlacementRelTo")
    return parent if parent is not None and hasattr(parent, "is_a") else None


def cyclic_placements(model: Any) -> dict[int, list[Any]]:
    """Placement STEP id → the cycle (list of placements, in chain order) it belongs to."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    cycles: dict[int, list[Any]] = {}
    for start in sorted(by_type(model, "IfcObjectPlacement"), key=lambda e: e.id()):
        path: list[Any] = []
        node: Any = start
        while node is not None and state.get(node.id()) is None:
            state[node.id()] = 1
            path.append(node)
            node = _parent_placement(node)
        if node is not None and state.get(node.id()) == 1:  # back on the current path: a cycle
            ids = [p.id() for p in path]
            cycle = path[ids.index(node.id()) :]
            for member in cycle:
                cycles[member.id()] = cycle
        for member in path:
            state[member.id()] = 2
    return cycles


# --- LOP000 -------------------------------------------------------------------------------------


@rule("LOP000", 1, "定位：模型包含局部定位（IfcLocalPlacement）信息")
def check_lop000(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    placements = by_type(model, "IfcLocalPlacement")
    if placements:
        yield outcome("LOP000", 1, Severity.PASSED, f"模型包含 {len(placements)} 个 IfcLocalPlacement")


# --- TB101 --------------------------------------------------------------------------------------


@rule("TB101", 1, "定位：对象定位链（PlacementRelTo）不得形成循环")
def check_tb101(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    placements = by_type(model, "IfcObjectPlacement")
    if not placements:
        return
    cycles = cyclic_placements(model)
    for step_id in sorted(cycles):
        cycle = cycles[step_id]
        member = next(p for p in cycle if p.id() == step_id)
        if len(cycle) == 1:
            message = f"{ref(member)} 的 PlacementRelTo 引用了自身，定位无法求解"
        else:
            chain = " → ".join(f"#{p.id()}" for p in [*cycle, cycle[0]])
            message = f"{ref(member)} 处于循环定位链中（{chain}），定位无法求解"
        yield outcome("TB101", 1, Severity.ERROR, message, member, "无循环的定位链", [p.id() for p in cycle])
    users: list[tuple[Any, Any]] = []
    if cycles:
        for product in by_type(model, "IfcProduct"):
            placement = _attr(product, "ObjectPlacement")
            node, seen = placement, 0
            while node is not None and hasattr(node, "id") and node.id() not in cycles and seen < 10_000:
                node, seen = _parent_placement(node), seen + 1
            if node is not None and hasattr(node, "id") and node.id() in cycles:
                users.append((product, node))
    for product, node in sorted(users, key=lambda pair: pair[0].id()):
        yield outcome(
            "TB101",
            1,
            Severity.ERROR,
            f"{ref(product)} 的定位依赖循环定位 #{node.id()}，其位置无法确定",
            product,
            "无循环的定位链",
            node.id(),
        )
    if not cycles:
        yield outcome("TB101", 1, Severity.PASSED, f"{len(placements)} 个对象定位均无循环引用")


# --- TB102 --------------------------------------------------------------------------------------


def _placement_problems(placement: Any) -> list[tuple[str, Any, Any]]:
    problems: list[tuple[str, Any, Any]] = []
    parent = _attr(placement, "PlacementRelTo")
    if parent is not None and not (hasattr(parent, "is_a") and parent.is_a("IfcObjectPlacement")):
        observed = ref(parent) if hasattr(parent, "is_a") else repr(parent)
        problems.append(
            (f"PlacementRelTo 应引用 IfcObjectPlacement，实际引用 {observed}", "IfcObjectPlacement", observed)
        )
    if placement.is_a("IfcLocalPlacement"):
        relative = _attr(placement, "RelativePlacement")
        if relative is None:
            problems.append(
                (
                    "必填属性 RelativePlacement 缺失（为空或引用了文件中不存在的实例）",
                    "IfcAxis2Placement2D/3D",
                    None,
                )
            )
        elif not (
            hasattr(relative, "is_a")
            and (relative.is_a("IfcAxis2Placement3D") or relative.is_a("IfcAxis2Placement2D"))
        ):
            observed = ref(relative) if hasattr(relative, "is_a") else repr(relative)
            problems.append(
                (
                    f"RelativePlacement 应为 IfcAxis2Placement2D/3D，实际为 {observed}",
                    "IfcAxis2Placement2D/3D",
                    observed,
                )
            )
        elif _attr(relative, "Location") is None:
            problems.append(
                (f"RelativePlacement {ref(relative)} 缺少必填属性 Location", "IfcCartesianPoint", None)
            )
        elif not _attr(relative, "Location").is_a("IfcCartesianPoint"):
            location = _attr(relative, "Location")
            problems.append(
                (
                    f"RelativePlacement {ref(relative)} 的 Location 应为 IfcCartesianPoint，实际为 "
                    f"{ref(location)}",
                    "IfcCartesianPoint",
                    location.is_a(),
                )
            )
    return problems


@rule("TB102", 1, "定位：对象定位不得引用缺失或类型错误的实例")
def check_tb102(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    placements = sorted(by_type(model, "IfcObjectPlacement"), key=lambda e: e.id())
    products = sorted(by_type(model, "IfcProduct"), key=lambda e: e.id())
    if not placements and not products:
        return
    fine = True
    for placement in placements:
        for message, expected, observed in _placement_problems(placement):
            fine = False
            yield outcome(
                "TB102", 1, Severity.ERROR, f"{ref(placement)}：{message}", placement, expected, observed
            )
    for product in products:
        placement = _attr(product, "ObjectPlacement")
        if placement is not None and not (
            hasattr(placement, "is_a") and placement.is_a("IfcObjectPlacement")
        ):
            fine = False
            observed = ref(placement) if hasattr(placement, "is_a") else repr(placement)
            yield outcome(
                "TB102",
                1,
                Severity.ERROR,
                f"{ref(product)} 的 ObjectPlacement 应为 IfcObjectPlacement，实际为 {observed}",
                product,
                "IfcObjectPlacement",
                observed,
            )
    if fine:
        yield outcome("TB102", 1, Severity.PASSED, f"{len(placements)} 个对象定位的引用均完整有效")


# --- TB103 --------------------------------------------------------------------------------------

Matrix = list[list[float]]
_IDENTITY: Matrix = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


def _unit(vector: Any, default: tuple[float, float, float]) -> tuple[float, float, float]:
    ratios = [float(r) for r in (_attr(vector, "DirectionRatios") or ())][:3]
    ratios += [0.0] * (3 - len(ratios))
    norm = math.sqrt(sum(r * r for r in ratios))
    if norm < 1e-12:
        return default
    return (ratios[0] / norm, ratios[1] / norm, ratios[2] / norm)


def _cross(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def axis2placement_matrix(placement: Any) -> Matrix:
    """The 4×4 matrix of an IfcAxis2Placement2D/3D (columns: x, y, z axes, origin)."""
    location = _attr(placement, "Location")
    coordinates = [float(c) for c in (_attr(location, "Coordinates") or ())][:3]
    coordinates += [0.0] * (3 - len(coordinates))
    z = _unit(_attr(placement, "Axis"), (0.0, 0.0, 1.0))
    x_hint = _unit(_attr(placement, "RefDirection"), (1.0, 0.0, 0.0))
    # Project the reference direction onto the plane normal to z, as the schema's FUNCTION does.
    dot = sum(x_hint[i] * z[i] for i in range(3))
    x = (x_hint[0] - dot * z[0], x_hint[1] - dot * z[1], x_hint[2] - dot * z[2])
    norm = math.sqrt(sum(c * c for c in x))
    x = (x[0] / norm, x[1] / norm, x[2] / norm) if norm > 1e-12 else (1.0, 0.0, 0.0)
    y = _cross(z, x)
    return [
        [x[0], y[0], z[0], coordinates[0]],
        [x[1], y[1], z[1], coordinates[1]],
        [x[2], y[2], z[2], coordinates[2]],
        [0.0, 0.0, 0.0, 1.0],
    ]


def _multiply(a: Matrix, b: Matrix) -> Matrix:
    return [[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)] for i in range(4)]


def absolute_placements(model: Any) -> dict[int, Matrix]:
    """IfcLocalPlacement STEP id → its absolute matrix, for every placement whose chain resolves
    (no cycle, no missing RelativePlacement)."""
    cycles = cyclic_placements(model)
    done: dict[int, Matrix | None] = {}
    for start in by_type(model, "IfcLocalPlacement"):
        path: list[Any] = []
        node: Any = start
        while node is not None and node.id() not in done and node.id() not in cycles:
            path.append(node)
            node = _parent_placement(node)
        base: Matrix | None = _IDENTITY if node is None else done.get(node.id())
        for member in reversed(path):
            relative = _attr(member, "RelativePlacement")
            if base is None or relative is None or not member.is_a("IfcLocalPlacement"):
                base = None
            else:
                try:
                    base = _multiply(base, axis2placement_matrix(relative))
                except (TypeError, ValueError, AttributeError):
                    base = None
            done[member.id()] = base
    return {k: v for k, v in done.items() if v is not None}


def length_unit_in_metres(model: Any) -> float:
    try:
        import ifcopenshell.util.unit

        return float(ifcopenshell.util.unit.calculate_unit_scale(model))
    except Exception:  # no or odd units: assume metres, the IFC default
        return 1.0


@rule("TB103", 1, "定位：构件坐标不应远离原点（默认 10 km）", max_distance_m=10_000.0, severity="warning")
def check_tb103(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    """Far coordinates are valid IFC but lose precision in every viewer and checker (single
    precision, ~1 mm at 10 km); large site coordinates belong in IfcMapConversion. WARNING by
    default; a tender may set `severity: "error"`."""
    limit = float(params.get("max_distance_m", 10_000.0))
    severity = (
        Severity.ERROR if str(params.get("severity", "warning")).lower() == "error" else Severity.WARNING
    )
    scale = length_unit_in_metres(model)
    absolute = absolute_placements(model)
    products = sorted(by_type(model, "IfcProduct"), key=lambda e: e.id())
    checked = 0
    flagged_placements: set[int] = set()
    for product in products:
        placement = _attr(product, "ObjectPlacement")
        matrix = absolute.get(placement.id()) if placement is not None and hasattr(placement, "id") else None
        if matrix is None:
            continue
        checked += 1
        origin = (matrix[0][3] * scale, matrix[1][3] * scale, matrix[2][3] * scale)
        distance = math.sqrt(sum(c * c for c in origin))
        if distance > limit:
            flagged_placements.add(placement.id())
            yield outcome(
                "TB103",
                1,
                severity,
                f"{ref(product)} 的绝对位置 ({origin[0]:.1f}, {origin[1]:.1f}, {origin[2]:.1f}) m 距原点 "
                f"{distance / 1000:.2f} km，超过 {limit / 1000:g} km；大坐标应通过 IfcMapConversion 表达",
                product,
                limit,
                round(distance, 3),
            )
    for placement in sorted(by_type(model, "IfcLocalPlacement"), key=lambda e: e.id()):
        if placement.id() in flagged_placements:
            continue
        location = _attr(_attr(placement, "RelativePlacement"), "Location")
        coordinates = _attr(location, "Coordinates")
        if not coordinates:
            continue
        checked += 1
        distance = math.sqrt(sum(float(c) ** 2 for c in coordinates)) * scale
        if distance > limit:
            yield outcome(
                "TB103",
                1,
                severity,
                f"{ref(placement)} 的定位点 {ref(location)} 距其参照原点 {distance / 1000:.2f} km，"
                f"超过 {limit / 1000:g} km",
                placement,
                limit,
                round(distance, 3),
            )
    if checked:
        yield outcome(
            "TB103", 1, Severity.PASSED, f"已检查 {checked} 个构件/定位的坐标范围（限值 {limit / 1000:g} km）"
        )


# --- TB104 --------------------------------------------------------------------------------------

ZERO_DIRECTION = 1e-12


@rule("TB104", 1, "几何：方向（IfcDirection）不得为零向量")
def check_tb104(model: Any, params: Mapping[str, Any]) -> Iterator[Outcome]:
    directions = sorted(by_type(model, "IfcDirection"), key=lambda e: e.id())
    if not directions:
        return
    bad = 0
    for direction in directions:
        try:
            ratios = [float(r) for r in (_attr(direction, "DirectionRatios") or ())]
        except (TypeError, ValueError):
            ratios = []
        if ratios and math.sqrt(sum(r * r for r in ratios)) > ZERO_DIRECTION:
            continue
        bad += 1
        try:
            users = sorted(model.get_inverse(direction), key=lambda e: e.id())
        except Exception:  # inverses unavailable: report the direction alone
            users = []
        where = "、".join(ref(u) for u in users[:5]) or "（未被引用）"
        yield outcome(
            "TB104",
            1,
            Severity.ERROR,
            f"{ref(direction)} 的方向比 {tuple(ratios)} 为零向量，无法确定方向；被 {where} 使用",
            direction,
            "非零向量",
            ratios,
        )
    if not bad:
        yield outcome("TB104", 1, Severity.PASSED, f"{len(directions)} 个 IfcDirection 均为非零向量")
