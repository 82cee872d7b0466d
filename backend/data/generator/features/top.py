"""Features on the top face: hole patterns, counterbores, pockets, slots, bosses (rings) and ribs."""

from __future__ import annotations

import shapely
from shapely.geometry import Polygon

from backend.cad.program import ExtentKind, Extrude, Loop, Operation, Profile
from backend.data.generator.grid import MIN, P2, dim, extrude, pick, snap
from backend.data.generator.loops import circle, poly_loop, rect, regular_points, rough_shape, stadium
from backend.data.generator.part import FeatureFn, Part, cut_depth, cut_from_top, hole_shapes, place_pattern


def f_holes(part: Part) -> list[Extrude]:
    loops = place_pattern(part, hole_shapes(part.rng, part.room()[0]))
    return [cut_from_top(part, loops, cut_depth(part, 0.8))] if loops else []


def f_counterbore(part: Part) -> list[Extrude]:
    rng = part.rng
    if part.t < 3 * MIN:
        return []
    r1 = dim(rng, 0.03, 0.09)
    r0 = max(0.015, snap(r1 * rng.uniform(0.4, 0.7)))
    loops = place_pattern(part, lambda x, y: circle(x, y, r1))
    if not loops:
        return []
    c = dim(rng, MIN, part.t - MIN)
    centres = [lp.curves[0].center for lp in loops]
    bore = extrude(2, part.z1, [Profile(lp) for lp in loops], Operation.CUT, ExtentKind.ONE_SIDE, -c)
    if rng.random() < 0.7:
        hole = extrude(
            2,
            part.z1,
            [Profile(circle(x, y, r0)) for x, y in centres],
            Operation.CUT,
            ExtentKind.ONE_SIDE,
            -part.t,
        )
    else:
        hole = extrude(
            2,
            part.z1 - c,
            [Profile(circle(x, y, r0)) for x, y in centres],
            Operation.CUT,
            ExtentKind.ONE_SIDE,
            -(part.t - c),
        )
    return [bore, hole]


def f_pocket(part: Part) -> list[Extrude]:
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    room = part.room()[0]
    w = min(dim(rng, 0.1, 0.6) * (x1 - x0), dim(rng, 0.5, 1.6) * room)
    h = min(dim(rng, 0.1, 0.6) * (y1 - y0), dim(rng, 0.5, 1.6) * room)
    w, h = max(snap(w), 2 * MIN), max(snap(h), 2 * MIN)
    kind = pick(rng, {"rounded": 45, "rect": 25, "circle": 15, "stadium": 10, "polygon": 5})
    rr = dim(rng, 0.01, min(w, h) / 2 - 0.005) if kind == "rounded" else 0.0
    n = int(rng.choice([5, 6, 8]))

    def shape(x: float, y: float) -> Loop:
        if kind == "circle":
            return circle(x, y, min(w, h) / 2)
        if kind == "stadium":
            return stadium(x, y, max(w, h), min(w, h), w >= h)
        if kind == "polygon":
            return poly_loop(regular_points(x, y, min(w, h) / 2, n, 0.0))
        return rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, rr)

    loops = place_pattern(part, shape)
    return [cut_from_top(part, loops, cut_depth(part, 0.3))] if loops else []


def f_slot(part: Part) -> list[Extrude]:
    rng = part.rng
    width = dim(rng, 0.03, 0.12)
    length = dim(rng, 2 * width, 0.5)
    along = bool(rng.random() < 0.6)
    loops = place_pattern(part, lambda x, y: stadium(x, y, length, width, along))
    return [cut_from_top(part, loops, cut_depth(part, 0.75))] if loops else []


def f_boss(part: Part) -> list[Extrude]:
    rng = part.rng
    r = dim(rng, 0.03, min(0.25, 0.8 * part.room()[0] - MIN))
    kind = pick(rng, {"circle": 40, "rounded": 25, "hex": 8, "ring": 10, "stadium": 17})
    hole_r = max(0.015, snap(r * rng.uniform(0.3, 0.65)))
    rr = dim(rng, 0.01, r - 0.005)

    def shape(x: float, y: float) -> Loop:
        if kind in ("circle", "ring"):
            return circle(x, y, r)
        if kind == "hex":
            return poly_loop(regular_points(x, y, r, 6, 0.0))
        if kind == "stadium":
            return stadium(x, y, 3 * r, 2 * r, True)
        return rect(x - r, y - r, x + r, y + r, rr)

    loops = place_pattern(part, shape)
    if not loops:
        return []
    h = dim(rng, 0.04, 0.5)
    profiles = [Profile(lp) for lp in loops]
    centres = [_centre(lp) for lp in loops]
    if kind == "ring":
        profiles = [Profile(lp, (circle(x, y, hole_r),)) for lp, (x, y) in zip(loops, centres)]
    out = [extrude(2, part.z1, profiles, Operation.JOIN, ExtentKind.ONE_SIDE, h)]
    if kind != "ring" and rng.random() < 0.45:
        depth = h + part.t if rng.random() < 0.6 else dim(rng, MIN, h + part.t - MIN)
        out.append(
            extrude(
                2,
                part.z1 + h,
                [Profile(circle(x, y, hole_r)) for x, y in centres],
                Operation.CUT,
                ExtentKind.ONE_SIDE,
                -depth,
            )
        )
    part.tall = True
    return out


def _centre(loop: Loop) -> P2:
    c = rough_shape(loop).centroid
    return (snap(c.x), snap(c.y))


def f_rib(part: Part) -> list[Extrude]:
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    w = dim(rng, MIN, 0.07)
    along_x = bool(rng.random() < 0.5)
    length = dim(rng, 0.3, 0.9) * ((x1 - x0) if along_x else (y1 - y0))
    if length < 3 * MIN:
        return []
    n = int(rng.choice([1, 1, 2, 3]))
    gap = dim(rng, 3 * w, 0.3)

    def one(x: float, y: float) -> Polygon:
        if along_x:
            return shapely.box(x - length / 2, y - w / 2, x + length / 2, y + w / 2)
        return shapely.box(x - w / 2, y - length / 2, x + w / 2, y + length / 2)

    for _ in range(6):
        x, y = dim(rng, x0, x1), dim(rng, y0, y1)
        if _ == 0:
            x, y = snap((x0 + x1) / 2), snap((y0 + y1) / 2)
        offs = [(k - (n - 1) / 2) * gap for k in range(n)]
        centres = [(x, snap(y + o)) if along_x else (snap(x + o), y) for o in offs]
        shapes = [one(cx, cy) for cx, cy in centres]
        if all(part.fits(s, 0.0) for s in shapes) and not any(part.used.intersects(s) for s in shapes):
            part.use(shapely.union_all(shapes))
            h = dim(rng, 0.04, 0.35)
            part.tall = True
            if n == 1 and rng.random() < 0.5:  # drawn on its mid plane, extruded to both sides
                a0, b0, a1, b1 = shapes[0].bounds
                if along_x:  # plane Y = y: (u, v) = (Z, X)
                    loop, axis, mid = rect(part.z1, a0, part.z1 + h, a1), 1, y
                else:  # plane X = x: (u, v) = (Y, Z)
                    loop, axis, mid = rect(b0, part.z1, b1, part.z1 + h), 0, x
                return [
                    extrude(axis, mid, [Profile(loop)], Operation.JOIN, ExtentKind.SYMMETRIC, snap(w / 2))
                ]
            loops = [rect(*s.bounds) for s in shapes]
            return [
                extrude(2, part.z1, [Profile(lp) for lp in loops], Operation.JOIN, ExtentKind.ONE_SIDE, h)
            ]
    return []


FEATURES: dict[FeatureFn, float] = {
    f_holes: 13,
    f_counterbore: 4,
    f_pocket: 8,
    f_slot: 5,
    f_boss: 26,
    f_rib: 13,
}
