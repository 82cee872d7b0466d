"""The measured geometry of the schema's curves, written once: the circle through three points, an arc's
centre and sweep.

Structural operations that need no measuring (reversing a curve or loop, mapping its points) live on
the schema itself, in ``program.py``; tessellation (curves -> polygons) in ``tessellate.py``.
"""

from __future__ import annotations

import math

import numpy as np

from backend.cad.program import Arc, Vec2

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
