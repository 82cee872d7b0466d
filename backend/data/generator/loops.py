"""The loop shapes parts are drawn with: circles, polygons with fillet arcs, rectangles, stadiums
(slots), regular polygons; ``rough_shape`` is a cheap region of a loop for placement checks."""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from backend.cad.program import Arc, Circle, Line, Loop
from backend.data.generator.grid import P2


def circle(cx: float, cy: float, r: float) -> Loop:
    return Loop((Circle((cx, cy), r),))


def poly_loop(pts: list[P2], radii: list[float] | None = None) -> Loop:
    """Closed polygon; vertex i gets a fillet arc of radius radii[i] (0: sharp), shrunk to fit."""
    n = len(pts)
    if not radii or not any(r > 0 for r in radii):
        return Loop(tuple(Line(pts[i], pts[(i + 1) % n]) for i in range(n)))
    edge = [math.dist(pts[i - 1], pts[i]) for i in range(n)]  # edge i-1 -> i
    a = [((pts[i][0] - pts[i - 1][0]) / edge[i], (pts[i][1] - pts[i - 1][1]) / edge[i]) for i in range(n)]
    alpha, tan_len = [], []
    for i in range(n):
        b = a[(i + 1) % n]
        cos_t = max(-1.0, min(1.0, -(a[i][0] * b[0] + a[i][1] * b[1])))
        al = math.acos(cos_t)  # angle between the two edges at vertex i
        alpha.append(al)
        tan_len.append(0.0 if radii[i] <= 0 or al > math.pi - 1e-3 else radii[i] / math.tan(al / 2))
    over = [min(1.0, edge[(i + 1) % n] / max(tan_len[i] + tan_len[(i + 1) % n], 1e-12)) for i in range(n)]
    fit = [min(over[i], over[i - 1]) for i in range(n)]
    entry, exit_, mids = [], [], []
    for i in range(n):
        p, aa, b, tl = pts[i], a[i], a[(i + 1) % n], tan_len[i] * fit[i]
        if tl <= 1e-9:
            entry.append(p)
            exit_.append(p)
            mids.append(None)
            continue
        r = radii[i] * fit[i]
        bx, by = b[0] - aa[0], b[1] - aa[1]
        bn = math.hypot(bx, by)
        bx, by = bx / bn, by / bn
        k = r / math.sin(alpha[i] / 2) - r
        entry.append((p[0] - aa[0] * tl, p[1] - aa[1] * tl))
        exit_.append((p[0] + b[0] * tl, p[1] + b[1] * tl))
        mids.append((p[0] + bx * k, p[1] + by * k))
    curves: list = []
    for i in range(n):
        if mids[i] is not None:
            curves.append(Arc(entry[i], mids[i], exit_[i]))
        j = (i + 1) % n
        if math.dist(exit_[i], entry[j]) > 1e-9:
            curves.append(Line(exit_[i], entry[j]))
    return Loop(tuple(curves))


def rect(x0: float, y0: float, x1: float, y1: float, r: float = 0.0) -> Loop:
    return poly_loop([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [r] * 4 if r > 0 else None)


def stadium(cx: float, cy: float, length: float, width: float, along_x: bool = True) -> Loop:
    """Slot shape: two half circles joined by straight sides (a circle when length <= width)."""
    r, half = width / 2, (length - width) / 2
    if half <= 1e-9:
        return circle(cx, cy, r)
    pts = [(-half, -r), (half, -r), (half + r, 0.0), (half, r), (-half, r), (-half - r, 0.0)]
    q = [(cx + x, cy + y) if along_x else (cx - y, cy + x) for x, y in pts]
    return Loop((Line(q[0], q[1]), Arc(q[1], q[2], q[3]), Line(q[3], q[4]), Arc(q[4], q[5], q[0])))


def regular_points(cx: float, cy: float, radius: float, n: int, phase: float) -> list[P2]:
    return [
        (
            cx + radius * math.cos(phase + 2 * math.pi * k / n),
            cy + radius * math.sin(phase + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def rough_shape(loop: Loop) -> BaseGeometry:
    """Cheap region of a loop for placement checks (chords through arc points; within ~1e-2 of it)."""
    if loop.is_circle:
        c = loop.curves[0]
        t = np.linspace(0.0, 2 * math.pi, 12, endpoint=False)
        return Polygon(
            np.column_stack([c.center[0] + c.radius * np.cos(t), c.center[1] + c.radius * np.sin(t)])
        )
    pts: list[P2] = []
    for c in loop.curves:
        pts.append(c.start)
        if isinstance(c, Arc):
            pts.append(c.mid)
    return Polygon(pts)
