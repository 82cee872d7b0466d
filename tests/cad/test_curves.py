"""The schema's curve operations: reversing, mapping points, circle through three points, loop area."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backend.cad.curves import CurveError, arc_center, circle_through, loop_area, oriented, segment_area
from backend.cad.program import (
    Arc,
    Circle,
    Line,
    Profile,
    map_curve,
    map_loop,
    map_profile,
    reverse_curve,
    reverse_loop,
)
from tests.cad.programs import circle, rect, slot

# stadium: two lines and two half circles of radius 0.5, centre distance 1, counter-clockwise
SLOT = slot(1.0, 0.5)


def test_reverse_curve_and_loop() -> None:
    assert reverse_curve(Line((0, 0), (1, 2))) == Line((1, 2), (0, 0))
    assert reverse_curve(Arc((1, 0), (0, 1), (-1, 0))) == Arc((-1, 0), (0, 1), (1, 0))
    assert reverse_curve(Circle((0, 0), 1.0)) == Circle((0, 0), 1.0)
    back = reverse_loop(SLOT)
    assert [c.start for c in back.curves] == [(0, -0.5), (0, 0.5), (1, 0.5), (1, -0.5)]
    assert all(a.end == b.start for a, b in zip(back.curves, back.curves[1:] + back.curves[:1]))
    assert reverse_loop(back) == SLOT


def test_map_points_and_radius() -> None:
    def shift(p):
        return (p[0] + 1.0, p[1] * 2.0)

    assert map_curve(Line((0, 0), (1, 1)), shift) == Line((1.0, 0.0), (2.0, 2.0))
    assert map_curve(Arc((0, 0), (1, 1), (2, 0)), shift) == Arc((1.0, 0.0), (2.0, 2.0), (3.0, 0.0))
    assert map_curve(Circle((1, 1), 0.5), shift) == Circle((2.0, 2.0), 0.5)
    assert map_curve(Circle((1, 1), 0.5), shift, lambda r: 3 * r) == Circle((2.0, 2.0), 1.5)
    assert map_loop(SLOT, lambda p: p) == SLOT
    profile = Profile(rect(0, 0, 2, 2), (circle(1, 1, 0.5),))
    moved = map_profile(profile, lambda p: (p[0] - 1, p[1] - 1), lambda r: r / 2)
    assert moved == Profile(rect(-1, -1, 1, 1), (circle(0, 0, 0.25),))


def test_circle_through_and_arc_center() -> None:
    center, r = circle_through((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0))
    np.testing.assert_allclose(center, (0.0, 0.0), atol=1e-12)
    assert r == pytest.approx(1.0)
    assert circle_through((0, 0), (1, 1), (2, 2)) is None
    assert circle_through((0, 0), (0, 0), (1, 0)) is None
    with pytest.raises(CurveError, match="degenerate arc"):
        arc_center(Arc((0, 0), (1, 1), (2, 2)))


def test_loop_area_is_exact_and_signed() -> None:
    exact = 1.0 + math.pi * 0.25
    assert loop_area(SLOT) == pytest.approx(exact)
    assert loop_area(reverse_loop(SLOT)) == pytest.approx(-exact)
    assert loop_area(rect(0, 0, 2, 3)) == pytest.approx(6.0)
    assert loop_area(circle(0, 0, 2.0)) == pytest.approx(4 * math.pi)
    half = Arc((1, 0), (0, 1), (-1, 0))  # counter-clockwise upper half circle
    assert segment_area(half) == pytest.approx(math.pi / 2)
    assert segment_area(reverse_curve(half)) == pytest.approx(-math.pi / 2)
    assert segment_area(Arc((0, 0), (1, 0), (2, 0))) == 0.0  # degenerate: no segment


def test_oriented() -> None:
    assert oriented(SLOT, ccw=True) == SLOT
    assert oriented(SLOT, ccw=False) == reverse_loop(SLOT)
    assert oriented(reverse_loop(SLOT), ccw=True) == SLOT
    assert oriented(circle(0, 0, 1), ccw=False) == circle(0, 0, 1)
