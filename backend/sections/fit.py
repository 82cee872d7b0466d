"""2D sections -> compact sketch profiles: lines, arcs (start, mid, end) and full circles.

A ring of section points is split greedily into the longest runs that lie on a line or on a common
circle within ``FIT_TOLERANCE`` (normalised frame: largest extent 1). A whole ring on one circle
becomes one ``Circle``. Outer rings become outer loops, interior rings holes. ``snap_profile``
puts a fitted profile on the token grid and checks that it still validates.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import Polygon

from backend.cad.curves import circle_through
from backend.cad.program import Arc, Circle, Curve, Line, Loop, Profile
from backend.cad.quantize import STEP, quantize_value
from backend.cad.tessellate import TessellationError, tessellate_loop
from backend.cad.validate import is_valid_profile

FIT_TOLERANCE = 0.002  # largest distance from a section point to its fitted curve (normalised units)
MIN_AREA = 1e-5  # rings enclosing less are dropped (outer) or filled (holes)
MAX_ARC_TURN = 0.8  # radians: a sharper turn between two segments is a corner, never inside an arc
MIN_ARC_TURN = 2e-3  # radians: straighter points (e.g. on a flat triangulated wall) are not on an arc
MAX_ARC_RADIUS = 5.0  # flatter runs are lines
MAX_EDGE_RATIO = 2.5  # an arc's longest chord is at most this times its median chord
MIN_ARC_SEGMENTS = 3  # an arc spans at least this many section segments
MIN_CIRCLE_POINTS = 8
# radians: the widest chord of a whole circle (the coarsest round holes of the public meshes, OpenSCAD's,
# 0.85; a flat on a circle, 1.2 and more)
MAX_CIRCLE_CHORD = 1.0
_DUPLICATE = 1e-9
_STRAIGHT = 1e-7  # a point this close to the chord of its neighbours is no vertex


# --- rings ------------------------------------------------------------------------------------------


def _clean_ring(points: np.ndarray) -> np.ndarray:
    """Drop the closing duplicate, coincident points and points on the straight line through their
    neighbours (a slice through a triangulated wall crosses each triangle's diagonal there)."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    if len(p) > 1 and np.allclose(p[0], p[-1], atol=_DUPLICATE):
        p = p[:-1]
    keep = np.linalg.norm(p - np.roll(p, 1, axis=0), axis=1) > _DUPLICATE
    p = p[keep] if keep.any() else p[:1]
    if len(p) > 3:
        a, b = np.roll(p, 1, axis=0), np.roll(p, -1, axis=0)
        d, q = b - a, p - a
        chord = np.linalg.norm(d, axis=1)
        off = np.abs(q[:, 0] * d[:, 1] - q[:, 1] * d[:, 0]) / np.maximum(chord, _DUPLICATE)
        between = (q * d).sum(axis=1) > 0
        straight = (off <= _STRAIGHT) & between & (chord > _DUPLICATE)
        if np.count_nonzero(~straight) >= 3:
            p = p[~straight]
    return p


def _turns(p: np.ndarray) -> np.ndarray:
    """Signed turning angle at every vertex of a closed ring (ccw positive)."""
    a = p - np.roll(p, 1, axis=0)
    b = np.roll(p, -1, axis=0) - p
    return np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(axis=1))


def fit_circle(p: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares (Kasa) circle through points."""
    a = np.column_stack([2.0 * p, np.ones(len(p))])
    sol, *_ = np.linalg.lstsq(a, (p * p).sum(axis=1), rcond=None)
    center = sol[:2]
    return center, float(math.sqrt(max(sol[2] + center @ center, 0.0)))


def _as_circle(p: np.ndarray, turns: np.ndarray, tol: float) -> Circle | None:
    if len(p) < MIN_CIRCLE_POINTS or np.max(np.abs(turns)) > MAX_ARC_TURN:
        return None
    if not (np.all(turns > MIN_ARC_TURN) or np.all(turns < -MIN_ARC_TURN)):
        return None
    center, r = fit_circle(p)
    if np.max(np.abs(np.linalg.norm(p - center, axis=1) - r)) > tol:
        return None
    # only the vertices are checked against the circle: a flat whose ends lie on it (a D-shaft) is one
    # long chord
    if np.max(np.linalg.norm(p - np.roll(p, 1, axis=0), axis=1)) > 2.0 * r * math.sin(0.5 * MAX_CIRCLE_CHORD):
        return None
    return Circle((float(center[0]), float(center[1])), r)


def _line_fits(c: np.ndarray, i: int, j: int, tol: float) -> bool:
    a, b = c[i], c[j]
    d = b - a
    length = math.hypot(d[0], d[1])
    if length <= _DUPLICATE:
        return False
    q = c[i + 1 : j] - a
    off = np.abs(q[:, 0] * d[1] - q[:, 1] * d[0]) / length
    along = (q @ d) / (length * length)
    return bool(np.all(off <= tol) and np.all((along > 0) & (along < 1)))


def _arc_fits(c: np.ndarray, t: np.ndarray, i: int, j: int, tol: float) -> bool:
    if j - i < MIN_ARC_SEGMENTS:
        return False
    inner = t[i + 1 : j]
    if np.max(np.abs(inner)) > MAX_ARC_TURN:
        return False
    if not (np.all(inner > MIN_ARC_TURN) or np.all(inner < -MIN_ARC_TURN)):
        return False
    if abs(float(inner.sum())) >= 2.0 * math.pi - 1e-3:
        return False
    fit = circle_through(c[i], c[(i + j) // 2], c[j])
    if fit is None or fit[1] > MAX_ARC_RADIUS:
        return False
    center, r = fit
    run = c[i : j + 1]
    if np.max(np.abs(np.linalg.norm(run - center, axis=1) - r)) > tol:
        return False
    # every chord short and alike: a long chord is a straight edge whose ends happen to lie on the circle
    edges = np.linalg.norm(np.diff(run, axis=0), axis=1)
    longest = float(edges.max())
    return longest <= 2.0 * r * math.sin(0.5 * MAX_ARC_TURN) and longest <= MAX_EDGE_RATIO * float(
        np.median(edges)
    )


def _longest(fits, i: int, last: int, first: int = 1) -> int:
    """Largest j in [i + first, last] with fits(i, j), else i; doubling then bisection (fits is
    nearly monotone in j)."""
    if i + first > last or not fits(i, i + first):
        return i
    good, step = i + first, 1
    while good + step <= last and fits(i, good + step):
        good += step
        step *= 2
    bad = min(good + step, last + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(i, mid):
            good = mid
        else:
            bad = mid
    return good


def _segment(p: np.ndarray, t: np.ndarray, start: int, tol: float) -> list[Curve]:
    n = len(p)
    order = (np.arange(n + 1) + start) % n
    c, tt = p[order], t[order]
    curves: list[Curve] = []
    i = 0
    while i < n:
        last = n - 1 if i == 0 else n
        jl = max(_longest(lambda a, b: _line_fits(c, a, b, tol), i, n), i + 1)
        ja = _longest(lambda a, b: _arc_fits(c, tt, a, b, tol), i, last, MIN_ARC_SEGMENTS)
        if ja > jl:
            curves.append(Arc(_pt(c[i]), _pt(_arc_mid(c[i], c[(i + ja) // 2], c[ja])), _pt(c[ja])))
            i = ja
        else:
            curves.append(Line(_pt(c[i]), _pt(c[jl])))
            i = jl
    return curves


def _arc_mid(s: np.ndarray, m: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The point halfway along the arc from s through m to e (a well-placed ``Arc.mid``)."""
    fit = circle_through(s, m, e)
    if fit is None:
        return m
    center, r = fit
    chord = e - s
    side = np.sign(chord[0] * (m - s)[1] - chord[1] * (m - s)[0])
    normal = side * np.array([-chord[1], chord[0]]) / max(math.hypot(chord[0], chord[1]), _DUPLICATE)
    return center + r * normal  # the arc's point farthest from the chord, on m's side


def _pt(v: np.ndarray) -> tuple[float, float]:
    return (float(v[0]), float(v[1]))


def _start_index(t: np.ndarray) -> int:
    sharp = np.abs(t)
    if sharp.max() > MAX_ARC_TURN:
        return int(np.argmax(sharp))
    return int(np.argmax(np.abs(t - np.roll(t, 1))))  # where the curvature changes most


def fit_ring(points: np.ndarray, tol: float = FIT_TOLERANCE) -> Loop:
    """A closed ring of 2D points (closing duplicate optional) -> one loop of lines / arcs, or a circle."""
    p = _clean_ring(points)
    if len(p) < 3:
        raise ValueError(f"a ring needs at least 3 distinct points, got {len(p)}")
    t = _turns(p)
    circle = _as_circle(p, t, tol)
    if circle is not None:
        return Loop((circle,))
    start = _start_index(t)
    curves = _segment(p, t, start, tol)
    if abs(t[start]) <= MAX_ARC_TURN and len(curves) > 1:  # start was no corner: retry at a real break
        n = len(p)
        end = np.asarray(curves[0].end)
        first_end = next(k for k in range(1, n) if np.array_equal(p[(start + k) % n], end))
        again = _segment(p, t, (start + first_end) % n, tol) if first_end else curves
        curves = again if len(again) < len(curves) else curves
    loop = Loop(tuple(curves))
    if _simple(loop):
        return loop
    return Loop(tuple(Line(_pt(p[k]), _pt(p[(k + 1) % len(p)])) for k in range(len(p))))


def _simple(loop: Loop) -> bool:
    """The loop tessellates to a simple polygon (the fast part of ``validate``)."""
    try:
        ring = tessellate_loop(loop)
    except TessellationError:
        return False
    return len(ring) >= 3 and bool(Polygon(ring).is_valid)


# --- polygons -> profiles ---------------------------------------------------------------------------


def polygons_of(geom) -> list[Polygon]:
    """The non-empty polygons of any shapely geometry (collections flattened)."""
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if hasattr(geom, "geoms"):
        return [p for sub in geom.geoms for p in polygons_of(sub)]
    return []


def fit_polygon(poly: Polygon, tol: float = FIT_TOLERANCE, min_area: float = MIN_AREA) -> Profile:
    """One shapely polygon -> a profile (exterior -> outer loop, interiors -> holes)."""
    holes = tuple(fit_ring(np.asarray(r.coords), tol) for r in poly.interiors if Polygon(r).area >= min_area)
    return Profile(fit_ring(np.asarray(poly.exterior.coords), tol), holes)


def fit_section(geom, tol: float = FIT_TOLERANCE, min_area: float = MIN_AREA) -> list[Profile]:
    """A shapely (Multi)Polygon section -> profiles; polygons under ``min_area`` are dropped."""
    out = []
    for poly in polygons_of(geom):
        if poly.is_empty or poly.area < min_area:
            continue
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
            out.extend(fit_section(poly, tol, min_area))
            continue
        out.append(fit_polygon(poly, tol, min_area))
    return out


# --- the token grid ---------------------------------------------------------------------------------


def _grid(quantize: bool):
    if not quantize:
        return lambda p: (float(p[0]), float(p[1])), float
    return (lambda p: (quantize_value(p[0]), quantize_value(p[1]))), quantize_value


def _snap_loop(loop: Loop, quantize: bool) -> Loop | None:
    q, qv = _grid(quantize)
    if loop.is_circle:
        c = loop.curves[0]
        r = qv(c.radius)
        return Loop((Circle(q(c.center), r),)) if r > 0 else None
    curves: list[Curve] = []
    for c in loop.curves:
        s, e = q(c.start), q(c.end)
        if s == e:
            continue
        if isinstance(c, Arc):
            m = q(c.mid)
            if _offset(s, m, e) >= (0.5 * STEP if quantize else _STRAIGHT):
                curves.append(Arc(s, m, e))
                continue
        curves.append(Line(s, e))
    # a dropped zero-length curve leaves its neighbours meeting at the same grid point: still closed
    return Loop(tuple(curves)) if len(curves) >= 2 else None


def _offset(s: tuple[float, float], m: tuple[float, float], e: tuple[float, float]) -> float:
    """Distance of m from the chord s-e (0 when s == e)."""
    dx, dy = e[0] - s[0], e[1] - s[1]
    length = math.hypot(dx, dy)
    return abs((m[0] - s[0]) * dy - (m[1] - s[1]) * dx) / length if length else 0.0


def _lines_loop(loop: Loop, quantize: bool) -> Loop | None:
    q, _ = _grid(quantize)
    pts = [q(c.start) for c in loop.curves if not isinstance(c, Circle)]
    pts = [p for k, p in enumerate(pts) if p != pts[k - 1]]
    if len(pts) < 3:
        return None
    return Loop(tuple(Line(pts[k], pts[(k + 1) % len(pts)]) for k in range(len(pts))))


def snap_profile(profile: Profile, quantize: bool = True) -> Profile | None:
    """The profile on the token grid (``STEP``; unchanged numbers when ``quantize`` is false), checked
    to validate: a loop that breaks falls back to straight lines, then holes are dropped; None when
    even the outer loop cannot be kept."""
    first = _snap_loop(profile.outer, quantize)
    holes = [_snap_loop(h, quantize) for h in profile.holes]
    if first is not None and all(holes):
        whole = Profile(first, tuple(holes))
        if is_valid_profile(whole):
            return whole
    outer = None
    for cand in (first, _lines_loop(profile.outer, quantize)):
        if cand is not None and is_valid_profile(Profile(cand)):
            outer = cand
            break
    if outer is None:
        return None
    kept = []
    for h in profile.holes:
        for cand in (_snap_loop(h, quantize), _lines_loop(h, quantize)):
            if cand is not None and is_valid_profile(Profile(outer, (cand,))):
                kept.append(cand)
                break
    whole = Profile(outer, tuple(kept))
    return whole if is_valid_profile(whole) else Profile(outer)


__all__ = ["FIT_TOLERANCE", "MIN_AREA", "fit_polygon", "fit_ring", "fit_section", "snap_profile"]
