"""Noisy rings -> clean loops: lines where the ring is straight, true arcs and circles, sharp corners."""

import math

import numpy as np
import pytest
from shapely.geometry import Polygon

from backend.cad.program import Arc, Circle, Line
from backend.cad.tessellate import tessellate_loop
from backend.sections.noisy_fit import fit_noisy_ring, fit_noisy_section, ring_noise

SIGMA = 0.002


def _noisy(ring: np.ndarray, seed: int = 0, spacing: float = 0.005) -> np.ndarray:
    """The closed polyline resampled every ``spacing`` and moved by Gaussian noise along its normal."""
    closed = np.vstack([ring, ring[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    t = np.arange(0.0, s[-1], spacing)
    p = np.column_stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])])
    tangent = np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)
    normal = np.column_stack([tangent[:, 1], -tangent[:, 0]])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    return p + np.random.default_rng(seed).normal(scale=SIGMA, size=(len(p), 1)) * normal


def _area(loop) -> float:
    return Polygon(tessellate_loop(loop)).area


def test_square_has_four_lines_and_sharp_corners():
    square = np.array([[0.0, 0.0], [0.6, 0.0], [0.6, 0.4], [0.0, 0.4]])
    loop = fit_noisy_ring(_noisy(square), 3 * SIGMA)
    assert len(loop.curves) == 4 and all(isinstance(c, Line) for c in loop.curves)
    corners = np.array([c.start for c in loop.curves])
    for corner in square:
        assert np.min(np.linalg.norm(corners - corner, axis=1)) < 0.004
    assert _area(loop) == pytest.approx(0.24, rel=0.02)


def test_circle():
    t = np.linspace(0, 2 * math.pi, 400, endpoint=False)
    ring = np.column_stack([0.1 + 0.2 * np.cos(t), -0.05 + 0.2 * np.sin(t)])
    loop = fit_noisy_ring(_noisy(ring, 1), 3 * SIGMA)
    assert loop.is_circle
    circle = loop.curves[0]
    assert isinstance(circle, Circle)
    assert circle.radius == pytest.approx(0.2, abs=0.002)
    assert circle.center == pytest.approx((0.1, -0.05), abs=0.002)


def test_slot_is_two_lines_and_two_arcs():
    r, length = 0.1, 0.5
    t = np.linspace(-math.pi / 2, math.pi / 2, 100)
    right = np.column_stack([length + r * np.cos(t), r * np.sin(t)])
    left = np.column_stack([-r * np.cos(t), -r * np.sin(t)])
    loop = fit_noisy_ring(_noisy(np.vstack([right, left]), 2), 3 * SIGMA)
    kinds = sorted(type(c).__name__ for c in loop.curves)
    assert kinds == ["Arc", "Arc", "Line", "Line"]
    exact = 2 * r * length + math.pi * r * r
    assert _area(loop) == pytest.approx(exact, rel=0.02)


def test_thin_strip_keeps_its_ends():
    """A wall 0.02 thick: its two long sides are parallel, its ends stay (no collapse to a point)."""
    strip = np.array([[0.0, 0.0], [0.8, 0.0], [0.8, 0.02], [0.0, 0.02]])
    loop = fit_noisy_ring(_noisy(strip, 3, 0.004), 0.003, corner=0.01)
    assert _area(loop) == pytest.approx(0.016, rel=0.15)


def test_ring_noise():
    square = np.array([[0.0, 0.0], [0.6, 0.0], [0.6, 0.4], [0.0, 0.4]])
    assert ring_noise(_noisy(square, 4)) == pytest.approx(SIGMA, rel=0.35)


def test_section_keeps_holes():
    outer = np.array([[0.0, 0.0], [0.6, 0.0], [0.6, 0.4], [0.0, 0.4]])
    t = np.linspace(0, 2 * math.pi, 200, endpoint=False)
    hole = np.column_stack([0.3 + 0.1 * np.cos(t), 0.2 + 0.1 * np.sin(t)])
    (profile,) = fit_noisy_section(Polygon(_noisy(outer, 5), [_noisy(hole, 6)]), 3 * SIGMA)
    assert len(profile.holes) == 1 and profile.holes[0].is_circle
    assert not any(isinstance(c, Arc) for c in profile.outer.curves)
