"""How well a scan's or a point cloud's robust solid (``sections.cloud.occupancy_of``) covers the part.

For each part of a set (every ``--step``-th, sorted by name), the input is perturbed as ``evaluate --perturb``
perturbs it (the same seed), prepared as the pipeline prepares it, and its robust solid is compared with
the clean part in the same frame: the share of random points in the clean part's box on which the two agree
as inside, over those either calls inside (volume overlap, IoU). Printed per part and as the mean, with
the solid's median time (``occupancy_of`` alone). ``--scan-voxels`` / ``--cloud-voxels`` set the grid's
voxels a sealing radius (``SCAN_VOXELS_PER_RADIUS``, ``VOXELS_PER_RADIUS``) to compare grids. Turned
perturbations are skipped (the clean part would have to be turned into the found frame).

    .venv/bin/python scripts/measure_solids.py ../shared/realparts/fusion360 --perturb scan --step 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import backend.sections.cloud as cloud  # noqa: E402
from backend.evaluate import perturbed_input  # noqa: E402
from backend.intake.check import check_input_mesh  # noqa: E402
from backend.intake.prepare import prepare  # noqa: E402

QUERIES = 40_000  # random points in the clean part's box
CHUNK = 20_000  # points per containment query (memory)


def _contains(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    return np.concatenate([mesh.contains(points[k : k + CHUNK]) for k in range(0, len(points), CHUNK)])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("meshes", help="folder of clean meshes (.stl)")
    parser.add_argument("--perturb", default="scan", choices=["scan", "points", "open"])
    parser.add_argument("--step", type=int, default=1, help="every step-th part")
    parser.add_argument("--scan-voxels", type=float, help="SCAN_VOXELS_PER_RADIUS")
    parser.add_argument("--cloud-voxels", type=float, help="VOXELS_PER_RADIUS")
    args = parser.parse_args()
    if args.scan_voxels is not None:
        cloud.SCAN_VOXELS_PER_RADIUS = args.scan_voxels
    if args.cloud_voxels is not None:
        cloud.VOXELS_PER_RADIUS = args.cloud_voxels
    overlaps, seconds = [], []
    for path in sorted(Path(args.meshes).glob("*.stl"))[:: args.step]:
        clean = trimesh.load(path, force="mesh")
        given, _ = perturbed_input(clean, path.stem, args.perturb)  # the seed evaluate gives the part
        prep = prepare(check_input_mesh(given))
        part = prep.frame.apply_to_mesh(clean)
        lo, hi = part.bounds
        queries = lo + np.random.default_rng(0).random((QUERIES, 3)) * (hi - lo)
        truth = _contains(part, queries)
        surface = cloud.surface_of(prep.geometry)
        start = time.perf_counter()
        solid = cloud.occupancy_of(surface)
        seconds.append(time.perf_counter() - start)
        inside = solid.inside(queries)
        overlaps.append(np.count_nonzero(inside & truth) / max(np.count_nonzero(inside | truth), 1))
        print(f"  {path.stem[:32]:32s} {overlaps[-1]:.3f}", flush=True)
    print(
        f"{args.perturb}: {len(overlaps)} parts, solid overlaps the part {np.mean(overlaps):.3f} (mean), "
        f"the solid {np.median(seconds):.3f} s median"
    )


if __name__ == "__main__":
    main()
