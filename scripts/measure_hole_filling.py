"""How well open CAD meshes are closed (``intake.repair.fill_holes``): the README's closure and time numbers.

Every part of the given sets is opened as ``evaluate --perturb open`` opens it (2 % of its triangles
removed at random), once per seed, and filled. Printed: how many filled meshes are consistently wound,
how many of those from closed parts are closed again (watertight; a non-manifold export was not closed to
begin with), and their volume's error against the part's own, median and largest; then the time to fill a 196,608-triangle box with 2 % of its triangles missing
(median of ``--repeat`` runs).

    .venv/bin/python scripts/measure_hole_filling.py ../shared/realparts/*/
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.geometry.perturb import opened  # noqa: E402
from backend.intake.repair import fill_holes  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path, help="folders of STL parts")
    parser.add_argument("--seeds", type=int, default=2, help="openings per part (seeds 0..N-1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs on the large box")
    args = parser.parse_args()

    closed = wound = total = from_closed = 0
    errors = []
    for folder in args.sets:
        for path in sorted(folder.glob("*.stl")):
            part = trimesh.load(path, force="mesh")
            for seed in range(args.seeds):
                filled = fill_holes(opened(part, seed)).mesh
                total += 1
                wound += filled.is_winding_consistent
                if part.is_watertight:  # a non-manifold export was not closed before it was opened either
                    from_closed += 1
                    closed += filled.is_watertight
                    if filled.is_watertight:
                        errors.append(abs(filled.volume - part.volume) / part.volume)
    print(
        f"{total} opened meshes, {wound} consistently wound; of the {from_closed} from closed parts, {closed} closed"
    )
    print(f"volume error (closed parts): median {np.median(errors):.2e}, largest {max(errors):.4f}")

    box = trimesh.creation.box((3.0, 2.0, 1.0))
    vertices, faces = box.vertices, box.faces
    for _ in range(7):
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    box = opened(trimesh.Trimesh(vertices, faces), 1)
    seconds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = fill_holes(box)
        seconds.append(time.perf_counter() - start)
    print(
        f"{len(faces):,}-triangle box, {result.holes:,} holes: filled in {statistics.median(seconds):.2f} s"
        f" (median of {args.repeat}), {result.open_edges} open edges left"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
