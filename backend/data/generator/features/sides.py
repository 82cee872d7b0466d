"""Features on the straight sides of the base: upright walls (L brackets), tabs, holes from a side,
rounded or chamfered edges, notches. ``part.flat`` lists the straight sides."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Polygon

from backend.cad.program import Arc, ExtentKind, Extrude, Line, Loop, Operation, Profile, map_curve
from backend.data.generator.grid import MIN, dim, extrude, snap
from backend.data.generator.loops import circle, rect
from backend.data.generator.part import FeatureFn, Part, cut_depth, cut_from_top


def _side(part: Part) -> tuple[int, int, float, float, float] | None:
    """A random straight side longer than 4 MIN: (axis, sign, its coordinate, span start, span end)."""
    sides = [(k, v) for k, v in part.flat.items() if v[1] - v[0] > 4 * MIN]
    if not sides:
        return None
    (axis, sign), (lo, hi) = sides[int(part.rng.integers(len(sides)))]
    return axis, sign, _side_coord(part, (axis, sign)), lo, hi


def _side_coord(part: Part, side: tuple[int, int]) -> float:
    x0, y0, x1, y1 = part.bounds
    return {(0, -1): x0, (0, 1): x1, (1, -1): y0, (1, 1): y1}[side]


def _footprint(axis: int, c: float, inward: float, lo: float, hi: float) -> Polygon:
    """Rectangle against the side line (axis coordinate c), reaching ``inward`` (signed) from it."""
    a, b = sorted((c, c + inward))
    return shapely.box(a, lo, b, hi) if axis == 0 else shapely.box(lo, a, hi, b)


def _claim(part: Part, foot: Polygon, gap: float) -> bool:
    """Mark a strip against a side as used, unless it comes within ``gap`` of a used footprint or leaves
    the material."""
    if part.used.intersects(foot.buffer(gap)) or not part.region.buffer(1e-6).contains(foot):
        return False
    part.use(foot)
    return True


def f_wall(part: Part) -> list[Extrude]:
    """An upright wall along a straight side (an L bracket), maybe with holes through it."""
    if (found := _side(part)) is None:
        return []
    rng, (axis, sign, c, lo, hi) = part.rng, found
    w = dim(rng, MIN, 0.15)
    foot = _footprint(axis, c, -sign * w, lo, hi)
    if not _claim(part, foot, MIN / 2):
        return []
    h = dim(rng, 0.15, 0.8)
    a0, b0, a1, b1 = foot.bounds
    out = [extrude(2, part.z1, [Profile(rect(a0, b0, a1, b1))], Operation.JOIN, ExtentKind.ONE_SIDE, h)]
    part.tall = True
    r = dim(rng, 0.015, 0.07)
    if rng.random() < 0.5 and h > 2 * r + 2 * MIN and hi - lo > 2 * r + 2 * MIN:
        n = int(rng.integers(1, 4))
        zc = snap(part.z1 + h / 2)
        span = (hi - lo) - 2 * r - 2 * MIN
        along = (
            [snap((lo + hi) / 2 + k) for k in np.linspace(-span / 2, span / 2, n)]
            if n > 1
            else [snap((lo + hi) / 2)]
        )
        if n > 1 and span / (n - 1) < 2 * r + MIN:
            along = [snap((lo + hi) / 2)]
        # side plane: axis 0 -> (u, v) = (Y, Z); axis 1 -> (u, v) = (Z, X)
        loops = [circle(s, zc, r) if axis == 0 else circle(zc, s, r) for s in along]
        out.append(
            extrude(axis, c, [Profile(lp) for lp in loops], Operation.CUT, ExtentKind.ONE_SIDE, -sign * w)
        )
    return out


def f_tab(part: Part) -> list[Extrude]:
    """A lug sticking out of a straight side, sketched on the side plane, often with a hole."""
    if (found := _side(part)) is None:
        return []
    rng, (axis, sign, c, lo, hi) = part.rng, found
    width = dim(rng, 2 * MIN, min(0.5, hi - lo))
    s0 = dim(rng, lo, hi - width)
    length = dim(rng, 0.08, 0.4)
    thick = part.t if rng.random() < 0.5 else dim(rng, MIN, part.t) if part.t > 2 * MIN else part.t
    z0 = part.z0 if rng.random() < 0.7 else part.z1 - thick
    # on the side plane: axis 0 -> (u, v) = (Y, Z); axis 1 -> (u, v) = (Z, X)
    loop = rect(s0, z0, s0 + width, z0 + thick) if axis == 0 else rect(z0, s0, z0 + thick, s0 + width)
    out = [extrude(axis, c, [Profile(loop)], Operation.JOIN, ExtentKind.ONE_SIDE, sign * length)]
    r = snap(min(width, length) * rng.uniform(0.15, 0.35))
    if rng.random() < 0.6 and r >= 0.015 and min(width, length) - 2 * r >= 2 * MIN:
        hc = (snap(c + sign * length / 2), snap(s0 + width / 2))
        xy = hc if axis == 0 else (hc[1], hc[0])
        out.append(
            extrude(
                2, z0 + thick, [Profile(circle(xy[0], xy[1], r))], Operation.CUT, ExtentKind.ONE_SIDE, -thick
            )
        )
    part.flat.pop((axis, sign), None)
    return out


def f_side_hole(part: Part) -> list[Extrude]:
    """A hole through the part from a side face, at mid thickness."""
    rng = part.rng
    r_max = min(0.08, part.t / 2 - MIN)
    if r_max < 0.015:
        return []
    r = dim(rng, 0.015, r_max)
    x0, y0, x1, y1 = part.bounds
    axis = int(rng.integers(2))
    lo, hi = (y0, y1) if axis == 0 else (x0, x1)
    if hi - lo < 2 * r + 2 * MIN:
        return []
    s = snap((lo + hi) / 2) if rng.random() < 0.5 else dim(rng, lo + r + MIN, hi - r - MIN)
    zc = (
        snap((part.z0 + part.z1) / 2)
        if rng.random() < 0.7
        else dim(rng, part.z0 + r + MIN, part.z1 - r - MIN)
    )
    loop = circle(s, zc, r) if axis == 0 else circle(zc, s, r)
    a, b = (x0, x1) if axis == 0 else (y0, y1)
    u = rng.random()
    if u < 0.25:
        return [
            extrude(
                axis,
                snap((a + b) / 2),
                [Profile(loop)],
                Operation.CUT,
                ExtentKind.SYMMETRIC,
                snap((b - a) / 2 + MIN),
            )
        ]
    if u < 0.6:
        return [extrude(axis, b, [Profile(loop)], Operation.CUT, ExtentKind.ONE_SIDE, -(b - a))]
    depth = dim(rng, 0.1, 0.5) * (b - a)
    return [extrude(axis, a, [Profile(loop)], Operation.CUT, ExtentKind.ONE_SIDE, depth)]


def f_edge(part: Part) -> list[Extrude]:
    """Round or chamfer a long edge of a rectangular-ish base with a cut along it."""
    rng = part.rng
    if part.kind not in ("rect", "rounded", "chamfer", "L", "T", "U"):
        return []
    x0, y0, x1, y1 = part.bounds
    axis = int(rng.integers(2))  # 0: edge along Y at x = x0/x1 (profile in XZ); 1: edge along X
    sign = int(rng.choice([-1, 1]))
    top = rng.random() < 0.75
    r = dim(rng, 0.02, max(0.021, min(part.t - MIN, 0.2)))
    if r > part.t - MIN + 1e-9 or (axis, sign) not in part.flat:
        return []
    c = _side_coord(part, (axis, sign))
    strip = _footprint(axis, c, -sign * (r + MIN), y0 if axis == 0 else x0, y1 if axis == 0 else x1)
    if top and part.used.intersects(strip):
        return []
    zc = part.z1 if top else part.z0
    inward, down = -sign * r, (-r if top else r)
    corner = (c, zc)
    p_in, p_dn = (c + inward, zc), (c, zc + down)
    if rng.random() < 0.7:
        k = 1 - 1 / math.sqrt(2)
        mid = (c + inward * k, zc + down * k)
        curves = (Line(p_in, corner), Line(corner, p_dn), Arc(p_dn, mid, p_in))
    else:
        curves = (Line(p_in, corner), Line(corner, p_dn), Line(p_dn, p_in))
    # the profile lies on the perpendicular plane: edge along Y -> plane Y (u, v) = (Z, X);
    # edge along X -> plane X (u, v) = (Y, Z). Points above are (side coordinate, z).
    if axis == 0:
        curves = tuple(map_curve(cv, lambda p: (p[1], p[0])) for cv in curves)
        plane_axis, a, b = 1, y0, y1
    else:
        plane_axis, a, b = 0, x0, x1
    return [extrude(plane_axis, b, [Profile(Loop(curves))], Operation.CUT, ExtentKind.ONE_SIDE, -(b - a))]


def f_notch(part: Part) -> list[Extrude]:
    """A rectangular notch (or a step when blind) cut into a straight side from the top."""
    if (found := _side(part)) is None:
        return []
    rng, (axis, sign, c, lo, hi) = part.rng, found
    width = dim(rng, 2 * MIN, max(2 * MIN, min(0.4, hi - lo - 2 * MIN)))
    s0 = dim(rng, lo, hi - width) if rng.random() < 0.7 else lo
    deep = dim(rng, MIN, 0.25)
    foot = _footprint(axis, c, -sign * deep, s0, s0 + width)
    if not _claim(part, foot, MIN):
        return []
    return [cut_from_top(part, [rect(*foot.bounds)], cut_depth(part, 0.6))]


FEATURES: dict[FeatureFn, float] = {
    f_wall: 12,
    f_tab: 11,
    f_side_hole: 6,
    f_edge: 5,
    f_notch: 5,
}
