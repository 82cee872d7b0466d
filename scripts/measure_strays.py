"""How far the stray test's bounds stand from a cloud's genuine samples, and how many strays it finds.

    python scripts/measure_strays.py ../shared/realparts/fusion360 [more folders] [--off-surface 2.0 1.5]

For each part (seeded as ``evaluate`` seeds it) the ``stray-points`` cloud is read: its first 8,192 samples
are the ``points`` cloud's, the rest are strays. Prints the largest distance of a genuine sample to its 8th
neighbour and off those neighbours' plane, in units of the cloud's typical reach R (the bounds are 6 R and
2 R: ``intake/strays.py``), the share of strays each off-surface bound finds, and how many genuine samples
``stray_mask`` takes out of the ``points`` and ``turned-points`` clouds (0: those results are untouched).
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.geometry.perturb import PERTURBATIONS  # noqa: E402
from backend.geometry.pointcloud import REACH_NEIGHBOURS, plane_offsets, typical_reach  # noqa: E402
from backend.intake.strays import STRAY_FACTOR, stray_mask  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="folders of mesh files (*.stl)")
    parser.add_argument("--off-surface", type=float, nargs="+", default=[2.0], help="bounds, in R")
    args = parser.parse_args()
    far_max = off_max = 0.0
    found = {b: 0 for b in args.off_surface}
    strays = flagged = clouds = parts = 0
    for folder in args.folders:
        for path in sorted(Path(folder).glob("*.stl")):
            mesh = trimesh.load(path, force="mesh")
            seed = zlib.crc32(path.stem.encode())  # as evaluate seeds the part
            cloud = np.asarray(PERTURBATIONS["stray-points"](mesh, seed)[0].vertices)
            n = len(PERTURBATIONS["points"](mesh, seed)[0].vertices)
            tree = cKDTree(cloud)
            reach = typical_reach(cloud, tree)  # as stray_mask reads it
            distances, neighbours = tree.query(cloud, k=REACH_NEIGHBOURS + 1)
            far = distances[:, -1] / reach
            off = plane_offsets(cloud, neighbours[:, 1:]) / reach
            far_max, off_max = max(far_max, far[:n].max()), max(off_max, off[:n].max())
            strays += len(cloud) - n
            for bound in args.off_surface:
                found[bound] += int(np.count_nonzero((far[n:] > STRAY_FACTOR) | (off[n:] > bound)))
            for kind in ("points", "turned-points"):
                flagged += int(np.count_nonzero(stray_mask(PERTURBATIONS[kind](mesh, seed)[0].vertices)))
                clouds += 1
            parts += 1
    print(
        f"{parts} parts: genuine samples at most {far_max:.2f} R from their 8th neighbour, {off_max:.2f} R off its plane"
    )
    for bound in args.off_surface:
        print(f"strays found with {STRAY_FACTOR:g} R / {bound:g} R: {found[bound] / strays:.1%} of {strays}")
    print(f"genuine samples left out of {clouds} points and turned-points clouds: {flagged}")


if __name__ == "__main__":
    main()
