"""From a raw part to the normalised frame: analytic bounds of the part, translation and scale to a
centred box of largest extent 1 (extents as differences of quantised face heights), canonical form,
and the exact mesh built on the integer step grid."""

from __future__ import annotations

from dataclasses import replace

import manifold3d
import numpy as np
import trimesh

from backend.cad.canonical import canonicalize
from backend.cad.curves import loop_bounds
from backend.cad.program import (
    Extent,
    ExtentKind,
    Extrude,
    Operation,
    Plane,
    Program,
    Sketch,
    dot,
    map_profile,
    normalized,
)
from backend.cad.quantize import STEPS_PER_UNIT, quantize_value
from backend.geometry.convert import manifold_to_trimesh
from backend.geometry.solid import build_manifold, input_scale


def analytic_bounds(program: Program) -> np.ndarray | None:
    """(min xyz, max xyz) of the union of the new/join bodies; None when an intersect may shrink it."""
    if any(f.operation is Operation.INTERSECT for f in program.features):
        return None
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for f in program.features:
        if f.operation is Operation.CUT:
            continue
        pl = f.sketch.plane
        basis = np.array([pl.x_dir, pl.y_dir, pl.normal], dtype=float)  # rows: u, v, w directions
        w0, w1 = f.extent.interval()
        for p in f.sketch.profiles:
            u0, v0, u1, v1 = loop_bounds(p.outer)
            box = np.array([[u0, v0, w0], [u1, v1, w1]])
            corners = np.array(
                [[box[i, 0], box[j, 1], box[k, 2]] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
            )
            world = corners @ basis + np.asarray(pl.origin)
            lo, hi = np.minimum(lo, world.min(0)), np.maximum(hi, world.max(0))
    return np.concatenate([lo, hi])


def _snap_extent(f: Extrude) -> Extrude:
    """Extent distances as differences of quantised face heights (faces shared by features stay shared)."""
    pl, e, q = f.sketch.plane, f.extent, quantize_value
    h = dot(pl.origin, normalized(pl.normal))
    qh = q(h)
    d1 = q(h + e.d1) - qh
    d2 = qh - q(h - e.d2) if e.kind is ExtentKind.TWO_SIDES else 0.0
    return replace(f, extent=Extent(e.kind, d1, d2))


def to_normalised_frame(raw: Program, bounds: np.ndarray | None = None) -> Program:
    """The raw program moved to the normalised frame (bounding box centred to within half a quantisation
    step, largest extent 1), not canonical.

    ``bounds`` (min xyz, max xyz) defaults to the built solid's bounding box. Extent distances become
    differences of quantised face heights, so faces shared by features stay shared after quantisation.
    """
    b = np.asarray(build_manifold(raw).bounding_box() if bounds is None else bounds)
    lo, hi = b[:3], b[3:]
    s = 1.0 / float(np.max(hi - lo))
    t = tuple(quantize_value(float(v)) for v in -(lo + hi) / 2 * s)  # on the grid: on-grid designs stay on it
    return Program(tuple(_snap_extent(f) for f in raw.transformed(s, t).features))


def normalise(raw: Program, bounds: np.ndarray | None = None) -> Program:
    """Canonical program of the raw one in the normalised frame (see ``to_normalised_frame``)."""
    return canonicalize(to_normalised_frame(raw, bounds))


def is_normalised(bounds: np.ndarray) -> bool:
    ext = bounds[1] - bounds[0]
    return abs(float(ext.max()) - 1.0) < 0.01 and float(np.abs(bounds[1] + bounds[0]).max()) < 0.02


def _steps(v: float) -> float:
    return float(round(v * STEPS_PER_UNIT))


def in_steps(program: Program) -> Program:
    """The quantised program scaled by STEPS_PER_UNIT: every number an exact integer."""
    feats = []
    for f in program.features:
        pl = f.sketch.plane
        profiles = tuple(
            map_profile(p, lambda q: (_steps(q[0]), _steps(q[1])), _steps) for p in f.sketch.profiles
        )
        plane = Plane(tuple(map(_steps, pl.origin)), pl.x_dir, pl.normal)
        extent = Extent(f.extent.kind, _steps(f.extent.d1), _steps(f.extent.d2))
        feats.append(Extrude(Sketch(plane, profiles), extent, f.operation))
    return Program(tuple(feats))


def exact_mesh(program: Program) -> tuple[trimesh.Trimesh, manifold3d.Manifold]:
    """Mesh and solid of a normalised program (the builder keeps coinciding faces exact), tessellated as an
    input (``geometry.solid.input_scale``)."""
    solid = build_manifold(program, input_scale(program))
    return manifold_to_trimesh(solid), solid
