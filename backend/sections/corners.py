"""Where fitted runs of a noisy ring meet, and the loop they make.

A ``Run`` is a stretch of ring samples fitted by one line or one circle. Neighbouring runs meet at their
intersection nearest the samples between them (a sharp corner, although the samples round it); runs
without a nearby intersection (the two sides at the end of a thin wall) are joined by a line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from backend.cad.program import Arc, Curve, Line, Loop
from backend.cad.tessellate import TessellationError, tessellate_loop

TANGENT_GAP = 0.2  # projections closer than this share of the reach meet halfway


@dataclass
class Run:
    """Ring samples ``i`` .. ``j`` fitted by one line or one circle."""

    i: int  # first sample
    j: int  # last sample (shared with the next run)
    kind: str  # "line" | "arc"
    center: np.ndarray  # line: a point on it; arc: the centre
    axis: np.ndarray  # line: unit direction; arc: unused
    radius: float = 0.0


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 (a zero vector stays near zero)."""
    return v / max(float(np.linalg.norm(v)), 1e-12)


def project(run: Run, x: np.ndarray) -> np.ndarray:
    """The point of the run's line or circle nearest ``x``."""
    if run.kind == "line":
        return run.center + ((x - run.center) @ run.axis) * run.axis
    return run.center + run.radius * unit(x - run.center)


def meet(a: Run, b: Run, x: np.ndarray, reach: float) -> np.ndarray | None:
    """Where runs a and b meet near x: their intersection closest to x when within ``reach``; else, when
    both projections of x are close together (a tangent junction), their mean; else None."""
    near = [p for p in intersections(a, b) if np.linalg.norm(p - x) <= reach]
    if near:
        return min(near, key=lambda p: float(np.linalg.norm(p - x)))
    pa, pb = project(a, x), project(b, x)
    return 0.5 * (pa + pb) if np.linalg.norm(pa - pb) <= TANGENT_GAP * reach else None


def intersections(a: Run, b: Run) -> list[np.ndarray]:
    """Where the runs' lines or circles cross (lines within 5 degrees of parallel: nowhere)."""
    if a.kind == "line" and b.kind == "line":
        m = np.column_stack([a.axis, -b.axis])
        if abs(np.linalg.det(m)) < math.sin(math.radians(5.0)):
            return []
        t = np.linalg.solve(m, b.center - a.center)
        return [a.center + t[0] * a.axis]
    if a.kind == "arc" and b.kind == "line":
        a, b = b, a
    if a.kind == "line":  # line a, circle b
        f = a.center - b.center
        t0 = -(f @ a.axis)
        disc = t0 * t0 - (f @ f - b.radius**2)
        if disc < 0:
            return []
        s = math.sqrt(disc)
        return [a.center + (t0 + k * s) * a.axis for k in (-1.0, 1.0)]
    d = b.center - a.center  # two circles
    dist = float(np.linalg.norm(d))
    if dist < 1e-12 or dist > a.radius + b.radius or dist < abs(a.radius - b.radius):
        return []
    x = (dist**2 + a.radius**2 - b.radius**2) / (2.0 * dist)
    h = math.sqrt(max(a.radius**2 - x * x, 0.0))
    e = d / dist
    base = a.center + x * e
    return [base + k * h * np.array([-e[1], e[0]]) for k in (-1.0, 1.0)]


def build_loop(runs: list[Run], c: np.ndarray, reach: float) -> Loop | None:
    """The loop of lines and arcs through the runs of the closed samples ``c`` (``c[n] == c[0]``)."""
    n = len(c) - 1
    starts, ends = [], []  # each run's first and last vertex
    for k in range(len(runs)):
        a, b = runs[k - 1], runs[k]
        end, start = c[a.j % n], c[b.i % n]  # apart where runs were dropped between
        gap = float(np.linalg.norm(start - end))
        where = meet(a, b, 0.5 * (start + end), reach + gap)
        if where is None:  # no corner near (e.g. the end of a thin wall): joined by a line
            ends.append(project(a, end))
            starts.append(project(b, start))
        else:
            ends.append(where)
            starts.append(where)
    ends = ends[1:] + ends[:1]  # ends[k]: the end of runs[k]
    curves: list[Curve] = []
    for k, run in enumerate(runs):
        s, e = starts[k], ends[k]
        if np.linalg.norm(e - s) > 1e-9:
            if run.kind == "line":
                curves.append(Line(point(s), point(e)))
            else:
                mid_sample = c[((run.i + run.j) // 2) % n]
                mid = run.center + run.radius * unit(mid_sample - run.center)
                curves.append(Arc(point(s), point(mid), point(e)))
        following = starts[(k + 1) % len(runs)]
        if np.linalg.norm(following - e) > 1e-9:
            curves.append(Line(point(e), point(following)))
    return Loop(tuple(curves)) if len(curves) >= 2 else None


def point(v: np.ndarray) -> tuple[float, float]:
    """A 2D point of the schema."""
    return (float(v[0]), float(v[1]))


def is_simple(loop: Loop) -> bool:
    """The loop tessellates to a simple polygon."""
    try:
        ring = tessellate_loop(loop)
    except (TessellationError, ValueError):
        return False
    return len(ring) >= 3 and bool(Polygon(ring).is_valid)


def polyline_loop(ring: np.ndarray, tol: float) -> Loop:
    """The ring simplified (Douglas-Peucker at ``tol``) to straight lines: the fallback loop."""
    simple = shapely.simplify(Polygon(ring), tol, preserve_topology=True)
    pts = np.asarray(simple.exterior.coords)[:-1] if isinstance(simple, Polygon) else ring
    if len(pts) < 3:
        pts = ring
    return Loop(tuple(Line(point(pts[k]), point(pts[(k + 1) % len(pts)])) for k in range(len(pts))))
