"""How close the robust route's section rings come to the true sections of two point clouds (8,192 points
of a part, no noise), with the ring snapped once or twice and a point cloud's upright walls taken from
the section's thin slab or from one ``slices.TALL_SLAB`` times taller:

- a plate 1 x 0.6 x 0.2 with a round hole of radius 0.12: the largest distance of the hole ring's
  vertices from the circle fitted to them, over five section levels, and the curves its profile is
  fitted with at the first level (1: a circle);
- a tube, outer radius 0.125, inner 0.1, length 1: its sections' mean area as a share of the true one.

    python scripts/measure_section_rings.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: backend and tests

import backend.sections.slices as slices  # noqa: E402
from backend.cad.program import Extent, ExtentKind, Profile, Program  # noqa: E402
from backend.geometry.normalize import normalizing_frame  # noqa: E402
from backend.geometry.perturb import points  # noqa: E402
from backend.geometry.solid import program_to_mesh  # noqa: E402
from backend.sections.candidates import HEIGHT_JITTER, RELATIVE_HEIGHTS  # noqa: E402
from backend.sections.fit import fit_circle, polygons_of  # noqa: E402
from tests.cad.programs import circle, feat, rect  # noqa: E402  (the parts of tests/sections/test_slices.py)


def _cloud(program: Program):
    clean = program_to_mesh(program)
    frame = normalizing_frame(clean)
    return frame, trimesh.PointCloud(frame.apply(points(clean, 0).vertices))


def _plate(frame, cloud) -> tuple[float, int]:
    slicer = slices.RobustSlicer(cloud)
    lo, hi = slicer.bounds[:, 2]
    worst, first = 0.0, None
    for rel in RELATIVE_HEIGHTS:
        geom = slicer.polygons(2, lo + (rel + HEIGHT_JITTER) * (hi - lo))
        ring = np.asarray(polygons_of(geom)[0].interiors[0].coords)[:-1]
        centre, r = fit_circle(ring)
        worst = max(worst, float(np.max(np.abs(np.linalg.norm(ring - centre, axis=1) - r))))
        if first is None:
            first = len(slicer.profiles(geom, quantize=False)[0].holes[0].curves)
    return worst, first


def _tube(frame, cloud) -> float:
    slicer = slices.RobustSlicer(cloud)
    wall = math.pi * (0.125**2 - 0.1**2) / frame.scale**2
    levels = [frame.apply([[0.0, 0.0, z]])[0, 2] for z in (0.3, 0.5, 0.7)]
    return float(np.mean([slicer.polygons(2, level).area for level in levels])) / wall


def main() -> None:
    plate = _cloud(Program((feat(Profile(rect(-0.5, -0.3, 0.5, 0.3), (circle(0.1, 0.0, 0.12),))),)))
    tube_profile = Profile(circle(0.0, 0.0, 0.125), (circle(0.0, 0.0, 0.1),))
    tube = _cloud(Program((feat(tube_profile, extent=Extent(ExtentKind.ONE_SIDE, 1.0)),)))
    twice, tall = slices._snap_ring_twice, slices.TALL_SLAB

    def once(ring, samples, tree, pitch, reach):
        return slices._snap_ring(ring, samples, tree, pitch, reach)

    print("snap   slab   plate hole ring: max off circle, curves | tube section area / true")
    for label, snap in (("once", once), ("twice", twice)):
        for slab in (1.0, tall):
            slices._snap_ring_twice, slices.TALL_SLAB = snap, slab
            worst, curves = _plate(*plate)
            print(f"{label:6} x{slab:<5.0f} {worst:.4f}, {curves} | {_tube(*tube):.1%}")
    slices._snap_ring_twice, slices.TALL_SLAB = twice, tall


if __name__ == "__main__":
    main()
