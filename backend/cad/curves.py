"""The measured geometry of the schema's curves, written once: the circle through three points, an arc's
centre and sweep, a loop's signed area and exact bounds, and the loop turned to a given orientation.

Structural operations that need no measuring (reversing a curve or loop, mapping its points) live on
the schema itself, in ``program.py``; tessellation (curves -> polygons) in ``tessellate.py``.
"""

from __future__ import annotations

import math

import numpy as np

from backend.cad.program import Arc, Circle, Loop, Vec2, reverse_loop

COLLINEAR_TOLERANCE = 1e-9  # |sin| of the angle at start between (mid - start) and (end - start)


class CurveError(ValueError):
    """A curve without a well-defined shape (e.g. an arc through three collinear points)."""


def circle_through(
    a: Vec2 | np.ndarray, b: Vec2 | np.ndarray, c: Vec2 | np.ndarray
) -> tuple[np.ndarray, float] | None:
    """Centre and radius of the circle through three points; None when they coincide or are collinear
    (|sin| of the angle at ``a`` at most ``COLLINEAR_TOLERANCE``)."""
    a, b, c = (np.asarray(p, dtype=np.float64) for p in (a, b, c))
    ab, ac = b - a, c - a
    d = 2.0 * (ab[0] * ac[1] - ab[1] * ac[0])
    lab, lac = float(np.dot(ab, ab)), float(np.dot(ac, ac))
    if lab == 0.0 or lac == 0.0 or abs(d) <= 2.0 * COLLINEAR_TOLERANCE * math.sqrt(lab * lac):
        return None
    ux = (ac[1] * lab - ab[1] * lac) / d
    uy = (ab[0] * lac - ac[0] * lab) / d
    return a + np.array([ux, uy]), math.hypot(ux, uy)


def arc_center(arc: Arc) -> tuple[np.ndarray, float]:
    """Centre and radius of the circle through the arc's three points; raises ``CurveError`` on collinear
    or coinciding points."""
    fit = circle_through(arc.start, arc.mid, arc.end)
    if fit is None:
        raise CurveError(
            f"degenerate arc: start {arc.start}, mid {arc.mid}, end {arc.end} are collinear or coincide"
        )
    return fit


def arc_sweep(arc: Arc) -> tuple[np.ndarray, float, float, float]:
    """(centre, radius, start angle, signed sweep) of the arc going from start through mid to end."""
    center, r = arc_center(arc)
    a0 = math.atan2(arc.start[1] - center[1], arc.start[0] - center[0])
    am = math.atan2(arc.mid[1] - center[1], arc.mid[0] - center[0])
    a1 = math.atan2(arc.end[1] - center[1], arc.end[0] - center[0])
    two_pi = 2.0 * math.pi
    dm = (am - a0) % two_pi
    d1 = (a1 - a0) % two_pi
    sweep = d1 if dm < d1 else d1 - two_pi  # counter-clockwise if mid lies on the ccw path, else clockwise
    return center, r, a0, sweep


def segment_area(arc: Arc) -> float:
    """Signed area between the arc and its chord: positive for a counter-clockwise arc (walked start to
    end it bulges to the right of the chord, adding to a counter-clockwise loop); 0 when degenerate."""
    try:
        _, r, _, sweep = arc_sweep(arc)
    except CurveError:
        return 0.0
    segment = 0.5 * r * r * (abs(sweep) - math.sin(abs(sweep)))
    return segment if sweep > 0 else -segment


def loop_area(loop: Loop) -> float:
    """Exact signed area of a loop (counter-clockwise positive): the shoelace of its vertices plus each
    arc's segment; a circle counts its whole area, positive."""
    area = 0.0
    for c in loop.curves:
        if isinstance(c, Circle):
            area += math.pi * c.radius**2
            continue
        s, e = c.start, c.end
        area += 0.5 * (s[0] * e[1] - e[0] * s[1])
        if isinstance(c, Arc):
            area += segment_area(c)
    return area


def oriented(loop: Loop, ccw: bool) -> Loop:
    """The loop walked counter-clockwise (``ccw``) or clockwise; circles are returned unchanged."""
    if loop.is_circle or (loop_area(loop) > 0) == ccw:
        return loop
    return reverse_loop(loop)


def loop_bounds(loop: Loop) -> tuple[float, float, float, float]:
    """Exact (min x, min y, max x, max y) of a loop: an arc counts its extreme points, not only its ends."""
    xs, ys = [], []
    for c in loop.curves:
        if isinstance(c, Circle):
            xs += [c.center[0] - c.radius, c.center[0] + c.radius]
            ys += [c.center[1] - c.radius, c.center[1] + c.radius]
            continue
        xs += [c.start[0], c.end[0]]
        ys += [c.start[1], c.end[1]]
        if isinstance(c, Arc):
            centre, r, a0, sweep = arc_sweep(c)
            for k in range(4):
                rel = (
                    (k * math.pi / 2 - a0) % (2 * math.pi)
                    if sweep > 0
                    else (a0 - k * math.pi / 2) % (2 * math.pi)
                )
                if rel <= abs(sweep):
                    xs.append(centre[0] + r * math.cos(k * math.pi / 2))
                    ys.append(centre[1] + r * math.sin(k * math.pi / 2))
    return min(xs), min(ys), max(xs), max(ys)
