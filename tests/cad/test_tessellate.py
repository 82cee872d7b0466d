import math

import numpy as np
import pytest

from backend.cad.curves import arc_center
from backend.cad.program import Arc, Circle, Line, Loop
from backend.cad.tessellate import (
    CHORD_TOLERANCE,
    MAX_SEGMENTS_PER_CIRCLE,
    MIN_SEGMENTS_PER_CIRCLE,
    TessellationError,
    segments_per_circle,
    signed_area,
    tessellate_arc,
    tessellate_circle,
    tessellate_loop,
)
from tests.cad.programs import slot


def _max_sagitta(poly: np.ndarray, center, r: float, closed: bool) -> float:
    a = poly if closed else poly[:-1]
    b = np.roll(poly, -1, axis=0) if closed else poly[1:]
    mids = (a + b) / 2
    return float(np.max(r - np.linalg.norm(mids - np.asarray(center), axis=1)))


def test_square_of_lines_gives_start_points():
    p = [(0, 0), (1, 0), (1, 1), (0, 1)]
    loop = Loop(tuple(Line(p[i], p[(i + 1) % 4]) for i in range(4)))
    poly = tessellate_loop(loop)
    assert poly.shape == (4, 2)
    np.testing.assert_allclose(poly, p)
    assert signed_area(poly) == pytest.approx(1.0)
    assert signed_area(poly[::-1]) == pytest.approx(-1.0)


@pytest.mark.parametrize("r", [0.01, 0.1, 0.5, 2.0])
def test_circle_within_chord_tolerance(r):
    poly = tessellate_circle(Circle((0.2, -0.1), r))
    n = len(poly)
    assert MIN_SEGMENTS_PER_CIRCLE <= n <= MAX_SEGMENTS_PER_CIRCLE
    np.testing.assert_allclose(np.linalg.norm(poly - (0.2, -0.1), axis=1), r)
    if n < MAX_SEGMENTS_PER_CIRCLE:
        assert _max_sagitta(poly, (0.2, -0.1), r, closed=True) <= CHORD_TOLERANCE * (1 + 1e-9)
    assert signed_area(poly) > 0


def test_scale_makes_tolerance_relative():
    assert segments_per_circle(5.0, scale=10.0) == segments_per_circle(0.5, scale=1.0)
    assert segments_per_circle(1e-6) == MIN_SEGMENTS_PER_CIRCLE
    assert segments_per_circle(1e6) == MAX_SEGMENTS_PER_CIRCLE


def test_arc_direction_follows_mid_point():
    s, e = (1.0, 0.0), (-1.0, 0.0)
    ccw = tessellate_arc(Arc(s, (0.0, 1.0), e))  # upper half, counter-clockwise
    cw = tessellate_arc(Arc(s, (0.0, -1.0), e))  # lower half, clockwise
    assert np.all(ccw[1:, 1] > 0) and np.all(cw[1:, 1] < 0)
    np.testing.assert_allclose(ccw[0], s)
    # a three-quarter arc has about three times the points of a quarter arc
    big = tessellate_arc(Arc((1.0, 0.0), (-1.0, 0.0), (0.0, -1.0)))
    small = tessellate_arc(Arc((1.0, 0.0), (math.sqrt(0.5), math.sqrt(0.5)), (0.0, 1.0)))
    assert 2.5 < len(big) / len(small) < 3.5
    center, r = arc_center(Arc(s, (0.0, 1.0), e))
    np.testing.assert_allclose(center, (0, 0), atol=1e-12)
    assert r == pytest.approx(1.0)
    full = np.vstack([big, [(0.0, -1.0)]])
    assert _max_sagitta(full, (0, 0), 1.0, closed=False) <= CHORD_TOLERANCE * (1 + 1e-9)


def test_slot_loop_area():
    # stadium: two lines and two half circles of radius 0.5, centre distance 1
    loop = slot(1.0, 0.5)
    poly = tessellate_loop(loop)
    exact = 1.0 + math.pi * 0.25
    assert exact - 2 * math.pi * 0.5 * CHORD_TOLERANCE < signed_area(poly) < exact


@pytest.mark.parametrize(
    "arc",
    [Arc((0, 0), (1, 1), (2, 2)), Arc((0, 0), (0, 0), (1, 0)), Arc((0, 0), (1, 0), (0, 0))],
)
def test_degenerate_arc_raises(arc):
    with pytest.raises(TessellationError, match="degenerate arc"):
        tessellate_arc(arc)


def test_bad_circle_and_empty_loop_raise():
    with pytest.raises(TessellationError, match="radius"):
        tessellate_circle(Circle((0, 0), 0.0))
    with pytest.raises(TessellationError, match="empty loop"):
        tessellate_loop(Loop(()))
