"""The design grid parts are drawn on: sizes drawn on the grid, weighted choices, features on axis planes.

Parts are drawn in a local frame of nominal size 1 on a grid of ``GRID``; ``MIN`` is the smallest
wall or feature.
"""

from __future__ import annotations

import numpy as np

from backend.cad.program import Extent, ExtentKind, Extrude, Operation, Plane, Profile, Sketch

P2 = tuple[float, float]
GRID = 0.005  # raw design grid (the nominal part size is 1)
MIN = 0.03  # smallest wall / feature size in the raw frame (>= 0.02 = 4 steps after normalisation)
_X_DIR = {0: (0.0, 1.0, 0.0), 1: (0.0, 0.0, 1.0), 2: (1.0, 0.0, 0.0)}  # canonical in-plane x per axis


def snap(v: float) -> float:
    return round(round(v / GRID) * GRID, 6)


def dim(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A size drawn uniformly from [lo, hi] (lo when hi < lo), on the design grid."""
    return snap(rng.uniform(lo, max(lo, hi)))


def pick(rng: np.random.Generator, options: dict) -> object:
    """A key of ``options`` drawn with probability proportional to its value."""
    u = rng.random() * sum(options.values())
    for key, w in options.items():
        u -= w
        if u < 0:
            return key
    return key


def axis_plane(axis: int, h: float) -> Plane:
    """Canonical axis plane at height h; in-plane (u, v): Z -> (X, Y), X -> (Y, Z), Y -> (Z, X)."""
    o = [0.0, 0.0, 0.0]
    o[axis] = h
    n = [0.0, 0.0, 0.0]
    n[axis] = 1.0
    return Plane(tuple(o), _X_DIR[axis], tuple(n))


def extrude(
    axis: int, h: float, profiles: list[Profile], op: Operation, kind: ExtentKind, d1: float, d2: float = 0.0
) -> Extrude:
    return Extrude(Sketch(axis_plane(axis, h), tuple(profiles)), Extent(kind, d1, d2), op)
