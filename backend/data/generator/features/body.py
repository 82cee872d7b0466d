"""Features that change the body as a whole: a smaller plate stacked on top, an intersection with a
rounded silhouette (or a disc seen from above)."""

from __future__ import annotations

import math

from backend.cad.program import ExtentKind, Extrude, Operation, Profile
from backend.data.generator.grid import MIN, dim, extrude, pick, snap
from backend.data.generator.loops import circle, poly_loop, rect, rough_shape
from backend.data.generator.part import FeatureFn, Part


def f_stack(part: Part) -> list[Extrude]:
    """A smaller plate stacked on the top face."""
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    w, h = dim(rng, 0.3, 0.8) * (x1 - x0), dim(rng, 0.3, 0.8) * (y1 - y0)
    kind = pick(rng, {"rect": 3, "rounded": 4, "circle": 3})
    rr = dim(rng, 0.01, min(w, h) / 3) if kind == "rounded" else 0.0
    for cx, cy in ((snap((x0 + x1) / 2), snap((y0 + y1) / 2)), part.room()[1]):
        for shrink in (1.0, 0.7, 0.45):
            a, b = snap(w * shrink / 2), snap(h * shrink / 2)
            if min(a, b) < MIN:
                break
            if kind == "circle":
                loop = circle(cx, cy, min(a, b))
            else:
                loop = rect(cx - a, cy - b, cx + a, cy + b, min(rr, min(a, b) - 0.005))
            shape = rough_shape(loop)
            if part.fits(shape, 0.0):
                part.use(shape)
                part.tall = True
                return [
                    extrude(
                        2, part.z1, [Profile(loop)], Operation.JOIN, ExtentKind.ONE_SIDE, dim(rng, 0.04, 0.3)
                    )
                ]
    return []


def f_intersect(part: Part) -> list[Extrude]:
    """Intersect with a rounded silhouette seen from a side (or a disc seen from above)."""
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    if part.tall:
        return []
    if rng.random() < 0.4:
        rad = snap(math.hypot(x1 - x0, y1 - y0) / 2 * rng.uniform(0.75, 0.95))
        return [
            extrude(
                2,
                part.z0,
                [Profile(circle(snap((x0 + x1) / 2), snap((y0 + y1) / 2), rad))],
                Operation.INTERSECT,
                ExtentKind.ONE_SIDE,
                part.t,
            )
        ]
    r = dim(rng, MIN, max(MIN, min(part.t, (x1 - x0) / 2) - 0.005))
    top = part.z1
    loop = poly_loop([(part.z0, x0), (part.z0, x1), (top, x1), (top, x0)], [0.0, 0.0, r, r])
    return [
        extrude(
            1,
            snap((y0 + y1) / 2),
            [Profile(loop)],
            Operation.INTERSECT,
            ExtentKind.SYMMETRIC,
            snap((y1 - y0) / 2),
        )
    ]


FEATURES: dict[FeatureFn, float] = {
    f_stack: 13,
    f_intersect: 0.6,
}
