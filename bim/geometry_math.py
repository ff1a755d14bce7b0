"""Plain geometry for the illegal-geometry rules: segment-to-segment distance, self-intersection of a
closed polygon (given as an ordered ring of edges), points that coincide within a tolerance, arcs
through colinear points. numpy arrays in, plain Python results out; all lengths are in model units
and every tolerance is passed in (the rules take it from the representation context's Precision).

The semantics follow the buildingSMART Validation Service's step code (ifc-gherkin-rules,
features/steps/utils/geometry.py and thens/geometry.py, MIT, Copyright (c) buildingSMART
International Ltd) so that our verdicts agree with theirs: neighbouring edges of a ring only fail
when they are parallel and fold back over each other, other edges fail when they come closer than
the tolerance.

Must not: read IFC entities, know about rules or outcomes, or do all-pairs work over unbounded input
(callers cap the size of a polygon; the pair search here is pruned by bounding boxes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = Any  # numpy arrays (kept loose for mypy without numpy stubs configuration)

# Pairs of edges whose bounding boxes are compared at once (memory bound of the pruning step).
_BLOCK = 512


@dataclass(frozen=True)
class SegmentProximity:
    is_parallel: bool
    distance: float


def nearest_points_on_segments(a0: Array, a1: Array, b0: Array, b1: Array, tol: float) -> SegmentProximity:
    """Closest distance between segments a0-a1 and b0-b1, and whether they are parallel (the sine of
    their angle below `tol`), computed as the Validation Service does."""
    r = b0 - a0
    u = a1 - a0
    v = b1 - b0
    ru = float(np.dot(r, u))
    rv = float(np.dot(r, v))
    uu = float(np.dot(u, u))
    uv = float(np.dot(u, v))
    vv = float(np.dot(v, v))
    if uu == 0.0 or vv == 0.0:  # a degenerate edge: distance from its point to the other segment
        return SegmentProximity(
            True, _point_segment_distance(a0, b0, b1) if uu == 0.0 else _point_segment_distance(b0, a0, a1)
        )
    det = max(0.0, uu * vv - uv * uv)
    is_parallel = math.sqrt(det) < tol * math.sqrt(uu) * math.sqrt(vv)
    if is_parallel:
        s = min(max(ru / uu, 0.0), 1.0)
        t = 0.0
    else:
        s = min(max((ru * vv - rv * uv) / det, 0.0), 1.0)
        t = min(max((ru * uv - rv * uu) / det, 0.0), 1.0)
    big_s = min(max((t * uv + ru) / uu, 0.0), 1.0)
    big_t = min(max((s * uv - rv) / vv, 0.0), 1.0)
    a = a0 + big_s * u
    b = b0 + big_t * v
    return SegmentProximity(is_parallel, float(np.linalg.norm(b - a)))


def _point_segment_distance(p: Array, s0: Array, s1: Array) -> float:
    d = s1 - s0
    dd = float(np.dot(d, d))
    t = 0.0 if dd == 0.0 else min(max(float(np.dot(p - s0, d)) / dd, 0.0), 1.0)
    return float(np.linalg.norm(p - (s0 + t * d)))


def _neighbours_fold_back(first: Array, second: Array, precision: float) -> bool:
    """For two parallel neighbouring edges: False when they lie on the same side of a shared end
    (fine), True when they overlap (the ring folds back on itself). As the Validation Service."""
    first_vec = first[1] - first[0]
    first_len = float(np.linalg.norm(first_vec))
    if first_len == 0.0:
        return False
    unit = first_vec / first_len  # the service projects on the unscaled vector; that misjudges
    a = float((second[0] - first[0]) @ unit)  # colinear continuations of edges shorter than 1
    b = float((second[1] - first[0]) @ unit)
    if a <= precision and b <= precision:
        return False
    return not (a >= first_len - precision and b >= first_len - precision)


def dedupe_ring(points: Array, precision: float) -> Array:
    """`points` (n, d) without points closer than `precision` to the point kept before them, and
    without a last point repeating the first (as IfcOpenShell builds wires from poly curves)."""
    pts = np.asarray(points, dtype=float)
    if len(pts) < 2:
        return pts
    step = np.diff(pts, axis=0)
    keep = np.concatenate(([True], np.sqrt((step * step).sum(-1)) >= precision))
    pts = pts[keep]
    while len(pts) > 1 and float(np.linalg.norm(pts[-1] - pts[0])) < precision:
        pts = pts[:-1]
    return pts


def ring_edges(points: Array) -> Array:
    """Edges (m, 2, d) of the closed ring through `points` (n, d): i → i+1 and last → first."""
    pts = np.asarray(points, dtype=float)
    return np.stack([pts, np.roll(pts, -1, axis=0)], axis=1)


def _candidate_pairs(edges: Array, precision: float) -> list[tuple[int, int]]:
    """Pairs (i, j), j < i, of edges whose bounding boxes (grown by `precision`) overlap."""
    lo = edges.min(axis=1) - precision
    hi = edges.max(axis=1) + precision
    m = len(edges)
    pairs: list[tuple[int, int]] = []
    for start in range(0, m, _BLOCK):
        stop = min(m, start + _BLOCK)
        # block rows i in [start, stop) against all j < stop
        overlap = np.all(
            (lo[start:stop, None, :] <= hi[None, :stop, :]) & (lo[None, :stop, :] <= hi[start:stop, None, :]),
            axis=2,
        )
        rows, cols = np.nonzero(overlap)
        rows = rows + start
        keep = cols < rows
        pairs.extend(zip(rows[keep].tolist(), cols[keep].tolist(), strict=True))
    return pairs


@dataclass(frozen=True)
class Crossing:
    first: int  # edge index (the later one)
    second: int  # edge index (the earlier one)
    neighbours: bool  # adjacent edges folding back over each other, rather than distinct edges meeting
    distance: float


def ring_self_intersections(edges: Array, precision: float) -> list[Crossing]:
    """Where a closed ring of edges (m, 2, d), edge i followed by edge i+1 and the last by the first,
    touches or crosses itself within `precision`."""
    edges = np.asarray(edges, dtype=float)
    m = len(edges)
    found: list[Crossing] = []
    if m < 2:
        return found
    for i, j in _candidate_pairs(edges, precision):
        ps, qs = edges[i], edges[j]
        info = nearest_points_on_segments(ps[0], ps[1], qs[0], qs[1], tol=precision)
        if j in ((i - 1) % m, (i + 1) % m):
            if info.is_parallel and _neighbours_fold_back(ps, qs, precision):
                found.append(Crossing(i, j, True, info.distance))
        elif info.distance < precision:
            found.append(Crossing(i, j, False, info.distance))
    return found


def rings_with_crossings(rings: Array, precision: float) -> Array:
    """For k closed rings of m edges each, (k, m, 2, d), whether each one touches or crosses
    itself — the same test as `ring_self_intersections`, over all edge pairs of all rings at once
    (for the many small rings of a model: triangles, quads). Rings with a zero-length edge are
    reported as crossing-candidates (True) so the caller re-checks them one by one."""
    rings = np.asarray(rings, dtype=float)
    k, m = rings.shape[0], rings.shape[1]
    if k == 0 or m < 2:
        return np.zeros(k, dtype=bool)
    i_idx, j_idx = np.tril_indices(m, -1)  # j < i
    neighbours = (j_idx == (i_idx - 1) % m) | (j_idx == (i_idx + 1) % m)
    p0, p1 = rings[:, i_idx, 0], rings[:, i_idx, 1]
    q0, q1 = rings[:, j_idx, 0], rings[:, j_idx, 1]
    r, u, v = q0 - p0, p1 - p0, q1 - q0
    ru, rv = (r * u).sum(-1), (r * v).sum(-1)
    uu, uv, vv = (u * u).sum(-1), (u * v).sum(-1), (v * v).sum(-1)
    degenerate = ((uu == 0.0) | (vv == 0.0)).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        det = np.maximum(0.0, uu * vv - uv * uv)
        is_parallel = np.sqrt(det) < precision * np.sqrt(uu) * np.sqrt(vv)
        s = np.where(is_parallel, np.clip(ru / uu, 0, 1), np.clip((ru * vv - rv * uv) / det, 0, 1))
        t = np.where(is_parallel, 0.0, np.clip((ru * uv - rv * uu) / det, 0, 1))
        big_s = np.clip((t * uv + ru) / uu, 0, 1)
        big_t = np.clip((s * uv - rv) / vv, 0, 1)
        gap = (p0 + big_s[..., None] * u) - (q0 + big_t[..., None] * v)
        distance = np.sqrt((gap * gap).sum(-1))
        length = np.sqrt(uu)
        a = ((q0 - p0) * u).sum(-1) / length
        b = ((q1 - p0) * u).sum(-1) / length
    behind = (a <= precision) & (b <= precision)
    beyond = (a >= length - precision) & (b >= length - precision)
    fold_back = is_parallel & ~(behind | beyond)
    crossing = np.where(neighbours[None, :], fold_back, distance < precision)
    return np.asarray(crossing.any(axis=1) | degenerate)


def coincident_pairs(points: Sequence[Sequence[float]] | Array, precision: float) -> list[tuple[int, int]]:
    """All pairs (i, j), i < j, of points closer than `precision`, found through a grid of cells of
    size `precision` (each point compared with its own and the neighbouring cells only)."""
    pts = _as_points(points)
    n = len(pts)
    if n < 2:
        return []
    if precision <= 0:
        precision = 1e-12
    if n <= 512:  # all pairs at once
        diff = pts[:, None, :] - pts[None, :, :]
        close = np.sqrt((diff * diff).sum(-1)) < precision
        rows, cols = np.nonzero(np.triu(close, 1))
        return list(zip(rows.tolist(), cols.tolist(), strict=True))
    cells = np.floor(pts / precision).astype(np.int64)
    order = np.lexsort(cells.T[::-1])
    buckets: dict[tuple[int, ...], list[int]] = {}
    for k in order.tolist():
        buckets.setdefault(tuple(cells[k].tolist()), []).append(k)
    dims = pts.shape[1]
    offsets = np.array(np.meshgrid(*[[-1, 0, 1]] * dims, indexing="ij")).reshape(dims, -1).T.tolist()
    pairs: set[tuple[int, int]] = set()
    for key, members in buckets.items():
        near: list[int] = []
        for off in offsets:
            other = buckets.get(tuple(a + b for a, b in zip(key, off, strict=True)))
            if other:
                near.extend(other)
        if len(near) < 2:
            continue
        for a in members:
            for b in near:
                if a < b and math.dist(pts[a], pts[b]) < precision:
                    pairs.add((a, b))
    return sorted(pairs)


def consecutive_coincident(points: Sequence[Sequence[float]] | Array, precision: float) -> list[int]:
    """Indices i (≥ 1) where point i lies closer than `precision` to point i-1."""
    pts = _as_points(points)
    if len(pts) < 2:
        return []
    gaps = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    return (np.nonzero(gaps < precision)[0] + 1).tolist()


def arc_is_colinear(
    start: Sequence[float], mid: Sequence[float], end: Sequence[float], precision: float
) -> bool:
    """Whether an arc through three points is degenerate: the middle point within `precision` of the
    line through the ends (or the ends coincide)."""
    p0, p1, p2 = (_pad3(p) for p in (start, mid, end))
    chord = p2 - p0
    length = float(np.linalg.norm(chord))
    if length < precision:
        return True
    return float(np.linalg.norm(np.cross(p1 - p0, chord))) / length < precision


def _pad3(p: Sequence[float]) -> Array:
    a = np.zeros(3)
    values = [float(x) for x in p][:3]
    a[: len(values)] = values
    return a


def _as_points(points: Sequence[Sequence[float]] | Array) -> Array:
    """(n, d) float array; points of mixed dimension padded with zeros."""
    if isinstance(points, np.ndarray):
        return points.astype(float).reshape(len(points), -1)
    rows = [tuple(float(x) for x in p) for p in points]
    dims = max((len(r) for r in rows), default=3)
    return np.array([r + (0.0,) * (dims - len(r)) for r in rows], dtype=float).reshape(len(rows), dims)
