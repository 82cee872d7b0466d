"""Notches: the inward runs of an outline that sit on one of its straight edges, as a person draws them.

A designer sketches a plate's edge as one line and cuts a notch out of it (a half-round slot, a
rectangular bite); the section fitter sees one outline that walks into the notch and out again. Here
such an outline is split back: a line, the notch's curves, a line on the same straight edge, going on
in the same direction, become one line (the edge), and the notch's curves closed by the edge's chord
become a loop of their own (what the cut takes away). Both forms draw as many curves (the two pieces of
the edge become one line; the chord is the notch loop's own), so ``verify.rank.complexity`` prefers the
split for the feature it gives the notch.

Only notches that lie inside the straightened outline and outside the original region are taken (a
bump out of the edge, a tab, stays drawn), checked on the loops' tessellations.
"""

from __future__ import annotations

import math

from shapely.errors import GEOSException
from shapely.geometry import Polygon

from backend.cad.program import Line, Loop
from backend.cad.tessellate import tessellate_loop

COLLINEAR_TOLERANCE = 2e-3  # normalised units: a line's end this far off the other line's is still on it
AREA_TOLERANCE = 1e-4  # share of the outline's area that the straightened form may differ by
MAX_NOTCHES = 8  # an outline with more (a comb) stays drawn as it is, like a sketch of many islands


def _on_one_edge(a: Line, b: Line, tol: float) -> bool:
    """``b`` continues ``a``'s straight edge in the same direction, after a gap (the notch's mouth)."""
    ax, ay = a.end[0] - a.start[0], a.end[1] - a.start[1]
    length = math.hypot(ax, ay)
    if length <= tol:
        return False
    ux, uy = ax / length, ay / length

    def off(p) -> float:  # distance of p from a's line
        return abs((p[0] - a.start[0]) * uy - (p[1] - a.start[1]) * ux)

    def along(p) -> float:
        return (p[0] - a.start[0]) * ux + (p[1] - a.start[1]) * uy

    return (
        off(b.start) <= tol
        and off(b.end) <= tol
        and along(b.start) > length + tol  # the mouth is open and ahead ...
        and along(b.end) > along(b.start) + tol  # ... and b goes on the same way
    )


def _polygon(loop: Loop) -> Polygon | None:
    try:
        poly = Polygon(tessellate_loop(loop))
    except ValueError:
        return None
    return poly if poly.is_valid and poly.area > 0 else None


def _is_notch(straight: Loop, notch: Loop, original: Polygon) -> bool:
    """``notch`` lies inside ``straight`` and outside ``original``, and the areas add up."""
    outer, cut = _polygon(straight), _polygon(notch)
    if outer is None or cut is None:
        return False
    area = original.area
    try:
        return (
            cut.area > AREA_TOLERANCE * area
            and cut.difference(outer).area <= AREA_TOLERANCE * area  # inside the edge ...
            and cut.intersection(original).area <= AREA_TOLERANCE * area  # ... and not material
            and abs(outer.area - cut.area - area) <= AREA_TOLERANCE * area
        )
    except GEOSException:  # an overlay of exactly coincident edges that GEOS cannot resolve: no notch
        return False


def _split_one(outline: Loop, tol: float) -> tuple[Loop, Loop] | None:
    """The outline with its first notch straightened, and the notch's loop; None without one."""
    curves = outline.curves
    n = len(curves)
    original = _polygon(outline)
    if original is None:
        return None
    for i in range(n):
        a = curves[i]
        if not isinstance(a, Line):
            continue
        for m in range(1, n - 2):  # m notch curves; the straightened outline keeps n - m - 1 >= 2 (a D)
            b = curves[(i + m + 1) % n]
            if not isinstance(b, Line) or not _on_one_edge(a, b, tol):
                continue
            run = [curves[(i + k) % n] for k in range(1, m + 1)]
            notch = Loop((*run, Line(b.start, a.end)))
            rest = [curves[(i + k) % n] for k in range(m + 2, n)]
            straight = Loop((Line(a.start, b.end), *rest))
            if _is_notch(straight, notch, original):
                return straight, notch
            break  # the nearest line on the edge decides; a farther one would swallow it
    return None


def split_notches(outline: Loop, tol: float = COLLINEAR_TOLERANCE) -> tuple[Loop, list[Loop]]:
    """``outline`` with its notches straightened (module docstring), and the notches' loops (empty when
    it has none, or more than ``MAX_NOTCHES``). A circle has none."""
    if outline.is_circle:
        return outline, []
    straight, notches = outline, []
    while (found := _split_one(straight, tol)) is not None:
        if len(notches) == MAX_NOTCHES:
            return outline, []
        straight, notch = found
        notches.append(notch)
    return straight, notches
