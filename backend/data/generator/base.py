"""The base of a part: a planform (plate, rounded or chamfered plate, disc, stadium, polygon,
L/T/U/cross profile, often with fillet arcs), a thickness and extent along Z, sometimes holes; or
(``ROD_SHARE``) a bar, pin or shaft: a small section, long along Z."""

from __future__ import annotations

import math

import numpy as np
import shapely

from backend.cad.program import Circle, Extent, ExtentKind, Line, Loop, Operation, Profile
from backend.data.generator.grid import MIN, dim, extrude, pick, snap
from backend.data.generator.loops import circle, poly_loop, rect, regular_points, rough_shape, stadium
from backend.data.generator.part import Part, hole_shapes, place_pattern


def _planform(rng: np.random.Generator) -> tuple[str, Loop, dict]:
    kind = str(
        pick(
            rng,
            {
                "rect": 24,
                "rounded": 22,
                "chamfer": 5,
                "disc": 12,
                "stadium": 7,
                "polygon": 8,
                "L": 8,
                "T": 4,
                "U": 6,
                "cross": 2,
                "tri_fillet": 2,
            },
        )
    )
    w = 1.0
    d = dim(rng, 0.25, 1.0)
    x0, y0, x1, y1 = -w / 2, -d / 2, w / 2, d / 2
    full = {(0, -1): (y0, y1), (0, 1): (y0, y1), (1, -1): (x0, x1), (1, 1): (x0, x1)}
    if kind == "rect":
        return kind, rect(x0, y0, x1, y1), full
    if kind == "rounded":
        r = dim(rng, 0.02, min(0.2, d / 2 - 0.01))
        shrunk = {k: (lo + r, hi - r) for k, (lo, hi) in full.items()}
        return kind, rect(x0, y0, x1, y1, r), shrunk
    if kind == "chamfer":
        c = dim(rng, 0.02, min(0.15, d / 3))
        pts = [
            (x0 + c, y0),
            (x1 - c, y0),
            (x1, y0 + c),
            (x1, y1 - c),
            (x1 - c, y1),
            (x0 + c, y1),
            (x0, y1 - c),
            (x0, y0 + c),
        ]
        return kind, poly_loop(pts), {k: (lo + c, hi - c) for k, (lo, hi) in full.items()}
    if kind == "disc":
        return kind, circle(0.0, 0.0, 0.5), {}
    if kind == "stadium":
        return kind, stadium(0.0, 0.0, 1.0, min(d, 0.7)), {}
    if kind in ("polygon", "tri_fillet"):
        n = 3 if kind == "tri_fillet" else int(rng.choice([3, 4, 5, 6, 6, 6, 8]))
        phase = float(rng.choice([0.0, math.pi / n, math.pi / 2]))
        rf = dim(rng, 0.03, 0.15) if kind == "tri_fillet" or rng.random() < 0.25 else 0.0
        return kind, poly_loop(regular_points(0.0, 0.0, 0.5, n, phase), [rf] * n), {}
    a = dim(rng, 2 * MIN, 0.45 * w)
    b = dim(rng, 2 * MIN, 0.45 * d) if d > 4 * MIN + 0.02 else snap(d / 3)
    if kind == "L":
        pts = [(x0, y0), (x1, y0), (x1, y0 + b), (x0 + a, y0 + b), (x0 + a, y1), (x0, y1)]
    elif kind == "T":
        pts = [
            (-a / 2, y0),
            (a / 2, y0),
            (a / 2, y1 - b),
            (x1, y1 - b),
            (x1, y1),
            (x0, y1),
            (x0, y1 - b),
            (-a / 2, y1 - b),
        ]
    elif kind == "U":
        a = min(a, 0.3)
        pts = [
            (x0, y0),
            (x1, y0),
            (x1, y1),
            (x1 - a, y1),
            (x1 - a, y0 + b),
            (x0 + a, y0 + b),
            (x0 + a, y1),
            (x0, y1),
        ]
    else:  # cross
        a, b = min(a, 0.3), min(b, d / 3)
        ha, hb = a / 2, b / 2
        pts = [
            (x0, -hb),
            (-ha, -hb),
            (-ha, y0),
            (ha, y0),
            (ha, -hb),
            (x1, -hb),
            (x1, hb),
            (ha, hb),
            (ha, y1),
            (-ha, y1),
            (-ha, hb),
            (x0, hb),
        ]
    radii = None
    if rng.random() < 0.45:
        radii = [dim(rng, 0.01, 0.08)] * len(pts)
    return kind, poly_loop(pts, radii), {}


def _extent_for(rng: np.random.Generator, t: float) -> tuple[Extent, float, float]:
    """Extent of thickness t for a sketch at z = 0, and the material's (z0, z1)."""
    u = rng.random()
    if u < 0.1:
        return Extent(ExtentKind.SYMMETRIC, snap(t / 2)), -snap(t / 2), snap(t / 2)
    if u < 0.12:
        d2 = dim(rng, 0.2 * t, 0.4 * t)
        return Extent(ExtentKind.TWO_SIDES, t - d2, d2), -d2, t - d2
    if u < 0.22:
        return Extent(ExtentKind.ONE_SIDE, -t), -t, 0.0
    return Extent(ExtentKind.ONE_SIDE, t), 0.0, t


def flat_sides(loop: Loop) -> dict[tuple[int, int], tuple[float, float]]:
    """The longest straight segment of the loop on each side of its bounding box: (axis, +-1) -> span."""
    pts = [c.start for c in loop.curves if not isinstance(c, Circle)]
    if not pts:
        return {}
    lo = (min(p[0] for p in pts), min(p[1] for p in pts))
    hi = (max(p[0] for p in pts), max(p[1] for p in pts))
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for c in loop.curves:
        if not isinstance(c, Line):
            continue
        for axis in (0, 1):
            if c.start[axis] != c.end[axis]:
                continue
            for sign, at in ((-1, lo[axis]), (1, hi[axis])):
                if abs(c.start[axis] - at) < 1e-9:
                    a, b = sorted((c.start[1 - axis], c.end[1 - axis]))
                    if b - a > out.get((axis, sign), (0.0, 0.0))[1] - out.get((axis, sign), (0.0, 0.0))[0]:
                        out[(axis, sign)] = (a, b)
    return out


ROD_SHARE = 0.1  # bases that are bars, pins and shafts: a small section, long along Z


def _rod_planform(rng: np.random.Generator) -> tuple[str, Loop]:
    """The end of a bar, pin or shaft: a small disc, rectangle or regular polygon (no fillets: its sizes
    stay on the grid after normalisation)."""
    kind = str(pick(rng, {"rod_disc": 40, "rod_rect": 45, "rod_polygon": 15}))
    if kind == "rod_disc":
        return kind, circle(0.0, 0.0, dim(rng, 0.03, 0.2))
    if kind == "rod_rect":
        a = dim(rng, 0.04, 0.4)
        b = dim(rng, 0.04, a)
        return kind, rect(-a / 2, -b / 2, a / 2, b / 2)
    n = int(rng.choice([3, 4, 6, 6, 8]))
    return kind, poly_loop(
        regular_points(0.0, 0.0, dim(rng, 0.05, 0.2), n, float(rng.choice([0.0, math.pi / n])))
    )


def make_base(rng: np.random.Generator) -> Part:
    rod = rng.random() < ROD_SHARE
    kind, outer = _rod_planform(rng) if rod else _planform(rng)[:2]
    flat = flat_sides(outer)
    u = rng.random()
    if rod:
        t = dim(rng, 0.5, 1.0)
    else:
        t = dim(rng, 0.04, 0.2) if u < 0.55 else dim(rng, 0.2, 0.6) if u < 0.85 else dim(rng, 0.6, 1.5)
    extent, z0, z1 = _extent_for(rng, t)
    part = Part(rng, [], z0, z1, rough_shape(outer), kind, flat)
    holes: list[Loop] = []
    if not rod and rng.random() < 0.25:
        holes = place_pattern(part, hole_shapes(rng, part.room()[0]))
        part.remove(shapely.union_all([rough_shape(h) for h in holes]))
    part.feats.append(
        extrude(2, 0.0, [Profile(outer, tuple(holes))], Operation.NEW, extent.kind, extent.d1, extent.d2)
    )
    return part
