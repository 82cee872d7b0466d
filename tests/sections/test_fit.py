"""Fitting 2D sections with lines, arcs and circles."""

import math

import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Polygon

from backend.cad.program import Arc, Circle, Line
from backend.cad.quantize import quantize_value
from backend.sections.fit import fit_polygon, fit_ring, fit_section, snap_profile


def circle_points(cx: float, cy: float, r: float, n: int = 64, clockwise: bool = False) -> np.ndarray:
    t = 2 * math.pi * np.arange(n) / n
    pts = np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])
    return pts[::-1] if clockwise else pts


def arc_points(cx, cy, r, a0, a1, n):
    t = np.linspace(a0, a1, n + 1)
    return np.column_stack([cx + r * np.cos(t), cy + r * np.sin(t)])


def rounded_rect(a: float, b: float, r: float, per_corner: int = 6) -> np.ndarray:
    """Counter-clockwise rounded rectangle [-a, a] x [-b, b] with corner radius r."""
    corners = [(a - r, -b + r, -90), (a - r, b - r, 0), (-a + r, b - r, 90), (-a + r, -b + r, 180)]
    pts = [arc_points(cx, cy, r, math.radians(d), math.radians(d + 90), per_corner) for cx, cy, d in corners]
    return np.concatenate(pts)


def kinds(loop) -> list[str]:
    return [type(c).__name__ for c in loop.curves]


def test_ring_of_points_on_a_circle_is_one_circle():
    loop = fit_ring(circle_points(0.1, -0.2, 0.3, n=60))
    assert loop.is_circle
    c = loop.curves[0]
    assert c.center == pytest.approx((0.1, -0.2), abs=1e-9)
    assert c.radius == pytest.approx(0.3, abs=1e-9)


def test_closing_duplicate_and_clockwise_circle():
    pts = circle_points(0.0, 0.0, 0.05, n=16, clockwise=True)
    assert fit_ring(np.vstack([pts, pts[:1]])).is_circle


def test_rounded_rectangle_is_four_lines_and_four_arcs():
    loop = fit_ring(rounded_rect(0.5, 0.3, 0.1))
    assert sorted(kinds(loop)) == ["Arc"] * 4 + ["Line"] * 4
    for c in loop.curves:
        if isinstance(c, Arc):  # each arc spans one quarter of a radius-0.1 circle
            assert math.dist(c.start, c.end) == pytest.approx(0.1 * math.sqrt(2), abs=1e-9)


def test_square_and_hexagon_stay_lines():
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert kinds(fit_ring(square)) == ["Line"] * 4
    assert kinds(fit_ring(circle_points(0, 0, 0.4, n=6))) == ["Line"] * 6


def test_collinear_points_merge_into_one_line():
    side = np.column_stack([np.linspace(0, 1, 11)[:-1], np.zeros(10)])
    pts = np.vstack([side, [[1.0, 0.5], [0.0, 0.5]]])
    loop = fit_ring(pts)
    assert kinds(loop) == ["Line"] * 4


def test_slot_is_two_arcs_and_two_lines():
    top = arc_points(0.3, 0.0, 0.1, -math.pi / 2, math.pi / 2, 12)
    bottom = arc_points(-0.3, 0.0, 0.1, math.pi / 2, 3 * math.pi / 2, 12)
    loop = fit_ring(np.vstack([top, bottom]))
    assert sorted(kinds(loop)) == ["Arc", "Arc", "Line", "Line"]


def test_long_chord_between_arc_points_is_a_line():
    # a D shape: dense points on a half circle, closed by one long straight edge
    loop = fit_ring(arc_points(0.0, 0.0, 0.3, -math.pi / 2, math.pi / 2, 24))
    assert sorted(kinds(loop)) == ["Arc", "Line"]


def test_a_circle_with_a_shallow_flat_is_an_arc_and_a_line():
    # a D-shaft: the flat's chord turns by less than a corner at its ends and both ends lie on the circle
    half = math.acos(0.8)  # the flat at 0.8 of the radius: a chord of 74 degrees
    loop = fit_ring(arc_points(0.0, 0.0, 0.3, -math.pi / 2 + half, 3 * math.pi / 2 - half, 96))
    assert sorted(kinds(loop)) == ["Arc", "Line"]


def test_a_coarse_uneven_circle_stays_a_circle():
    # a mesh's round hole (OpenSCAD's): one chord of 0.9 radians among ones of 0.4-0.5, every vertex on it
    steps = [0.85] + [0.4] * 6 + [0.45] * 6
    t = np.cumsum([0.0] + steps[:-1]) * (2 * math.pi / sum(steps))
    loop = fit_ring(np.column_stack([0.2 * np.cos(t), 0.2 * np.sin(t)]))
    assert loop.is_circle and loop.curves[0].radius == pytest.approx(0.2, abs=1e-3)


def test_polygon_with_hole_gives_outer_and_hole_loops():
    poly = Polygon(rounded_rect(0.5, 0.3, 0.1), [circle_points(0.1, 0.05, 0.12, clockwise=True)])
    profile = fit_polygon(poly)
    assert len(profile.holes) == 1 and profile.holes[0].is_circle
    snapped = snap_profile(profile)
    assert snapped is not None
    hole = snapped.holes[0].curves[0]
    assert isinstance(hole, Circle) and hole.radius == quantize_value(0.12)
    for c in snapped.outer.curves:  # on the token grid
        for p in (c.start, c.end):
            assert all(v == quantize_value(v) for v in p)


def test_multipolygon_gives_one_profile_each_and_drops_specks():
    a = Polygon(circle_points(-0.3, 0.0, 0.1))
    b = Polygon([(0.1, -0.1), (0.4, -0.1), (0.4, 0.2), (0.1, 0.2)])
    speck = Polygon([(0.0, 0.4), (0.001, 0.4), (0.001, 0.401)])
    profiles = fit_section(MultiPolygon([a, b, speck]))
    assert len(profiles) == 2
    assert sum(p.outer.is_circle for p in profiles) == 1


def test_snap_profile_drops_what_the_grid_cannot_hold():
    outer = Polygon([(0, 0), (0.5, 0), (0.5, 0.5), (0, 0.5)])
    tiny_hole = [(0.2, 0.2), (0.2, 0.2015), (0.2015, 0.2015), (0.2015, 0.2)]
    profile = fit_polygon(Polygon(outer.exterior.coords, [tiny_hole]), min_area=0.0)
    assert len(profile.holes) == 1
    snapped = snap_profile(profile)
    assert snapped is not None and snapped.holes == ()
    assert all(isinstance(c, Line) for c in snapped.outer.curves)
