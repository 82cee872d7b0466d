"""Canonical form: one shape, one program text.

Per feature (the feature order is kept: booleans do not commute):
- an axis-aligned sketch plane gets the +axis normal, a fixed in-plane x axis
  (+Z: x=+X, +X: x=+Y, +Y: x=+Z) and the origin on the axis (the point of the
  plane closest to the world origin); sketch coordinates and the extent are
  re-expressed so the solid does not change;
- extents: two_sides with a zero side becomes one_side, equal sides symmetric;
- numbers are snapped to the token grid (``quantize.py``) unless asked not to;
- chains: zero-length lines dropped, collinear neighbouring lines merged,
  outer loops counter-clockwise and holes clockwise, starting at the
  lexicographically smallest (x, y) vertex;
- holes, then profiles, sorted by their smallest point.
"""

from __future__ import annotations

from backend.cad.curves import oriented
from backend.cad.program import (
    Curve,
    Extent,
    ExtentKind,
    Extrude,
    Line,
    Loop,
    Plane,
    Profile,
    Program,
    Sketch,
    cross,
    dot,
    map_loop,
    normalized,
)
from backend.cad.quantize import quantize_value

AXIS_TOLERANCE = 1e-9
_CANONICAL_X = {0: (0.0, 1.0, 0.0), 1: (0.0, 0.0, 1.0), 2: (1.0, 0.0, 0.0)}
_EPS = 1e-12


def canonicalize(program: Program, quantize: bool = True) -> Program:
    return Program(tuple(_canonical_feature(f, quantize) for f in program.features))


def _axis_of(n: tuple[float, float, float]) -> int | None:
    for a in range(3):
        if abs(abs(n[a]) - 1.0) < AXIS_TOLERANCE:
            return a
    return None


def _canonical_feature(f: Extrude, quantize: bool) -> Extrude:
    q = quantize_value if quantize else float
    pl = f.sketch.plane
    n_old = normalized(pl.normal)
    axis = _axis_of(n_old)
    if axis is not None:
        n_new = tuple(1.0 if i == axis else 0.0 for i in range(3))
        x_new = _CANONICAL_X[axis]
    else:
        n_new = n_old
        xo = pl.x_dir
        x_new = normalized(tuple(xo[i] - dot(xo, n_old) * n_old[i] for i in range(3)))
    y_new = cross(n_new, x_new)
    flipped = dot(n_new, n_old) < 0
    height = q(dot(pl.origin, n_new))
    o_new = tuple(height * n_new[i] for i in range(3))
    if axis is None and quantize:
        n_new, x_new = tuple(q(v) for v in n_new), tuple(q(v) for v in x_new)
    plane = Plane(o_new, x_new, n_new)

    def to_new(p: tuple[float, float]) -> tuple[float, float]:
        w = pl.to_world(p[0], p[1])
        d = (w[0] - o_new[0], w[1] - o_new[1], w[2] - o_new[2])
        return (q(dot(d, x_new)), q(dot(d, y_new)))

    profiles = []
    for p in f.sketch.profiles:
        outer = _canonical_loop(map_loop(p.outer, to_new, q), ccw=True)
        holes = [_canonical_loop(map_loop(h, to_new, q), ccw=False) for h in p.holes]
        profiles.append(Profile(outer, tuple(sorted(holes, key=_loop_key))))
    profiles.sort(key=lambda pr: _loop_key(pr.outer))
    extent = _canonical_extent(f.extent, flipped, q)
    return Extrude(Sketch(plane, tuple(profiles)), extent, f.operation)


def _canonical_extent(e: Extent, flipped: bool, q) -> Extent:
    d1, d2 = q(e.d1), q(e.d2)
    if e.kind is ExtentKind.SYMMETRIC:
        return Extent(ExtentKind.SYMMETRIC, abs(d1))
    if e.kind is ExtentKind.ONE_SIDE:
        return Extent(ExtentKind.ONE_SIDE, -d1 if flipped else d1)
    if flipped:
        d1, d2 = d2, d1
    if d2 == 0.0:
        return Extent(ExtentKind.ONE_SIDE, d1)
    if d1 == 0.0:
        return Extent(ExtentKind.ONE_SIDE, -d2)
    if d1 == d2:
        return Extent(ExtentKind.SYMMETRIC, d1)
    return Extent(ExtentKind.TWO_SIDES, d1, d2)


def _loop_key(loop: Loop) -> tuple[float, float]:
    if loop.is_circle:
        c = loop.curves[0]
        return (c.center[0] - c.radius, c.center[1])
    return min(c.start for c in loop.curves)


def _collinear_same_direction(a: Line, b: Line) -> bool:
    u = (a.end[0] - a.start[0], a.end[1] - a.start[1])
    v = (b.end[0] - b.start[0], b.end[1] - b.start[1])
    scale = max(abs(u[0]) + abs(u[1]), abs(v[0]) + abs(v[1]), _EPS)
    return abs(u[0] * v[1] - u[1] * v[0]) <= _EPS * scale * scale and u[0] * v[0] + u[1] * v[1] > 0


def _merge_lines(curves: list[Curve]) -> list[Curve]:
    curves = [c for c in curves if not (isinstance(c, Line) and c.start == c.end)]
    changed = True
    while changed and len(curves) > 3:
        changed = False
        for i in range(len(curves)):
            a, b = curves[i], curves[(i + 1) % len(curves)]
            if isinstance(a, Line) and isinstance(b, Line) and _collinear_same_direction(a, b):
                merged = Line(a.start, b.end)
                if i + 1 < len(curves):
                    curves[i : i + 2] = [merged]
                else:  # wrap-around: last and first
                    curves = [merged] + curves[1:-1]
                changed = True
                break
    return curves


def _canonical_loop(loop: Loop, ccw: bool) -> Loop:
    if loop.is_circle or not loop.curves:
        return loop
    curves = list(oriented(Loop(tuple(_merge_lines(list(loop.curves)))), ccw).curves)
    first = min(range(len(curves)), key=lambda i: curves[i].start)
    return Loop(tuple(curves[first:] + curves[:first]))
