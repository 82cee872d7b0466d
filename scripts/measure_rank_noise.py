"""The ranking Chamfer distance's own noise: the same rebuilt candidate measured with different surface
samples. Prints the relative standard deviation per part and its median (``verify.rank.RANK_NOISE``).

    python scripts/measure_rank_noise.py [--meshes ../shared/realparts/fusion360] [--every 6] [--seeds 12]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import trimesh

from backend.geometry.solid import program_to_mesh
from backend.intake.prepare import prepare
from backend.sections.candidates import slicer_for
from backend.verify.candidates import frame_section_programs
from backend.verify.target import ChamferTarget


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--meshes", type=Path, default=Path("../shared/realparts/fusion360"))
    ap.add_argument("--every", type=int, default=6, help="measure every k-th part (sorted by name)")
    ap.add_argument("--seeds", type=int, default=12, help="surface-sample seeds per candidate")
    args = ap.parse_args()
    relative = []
    for path in sorted(args.meshes.glob("*.stl"))[:: args.every]:
        prep = prepare(trimesh.load(path, force="mesh"))
        target = ChamferTarget(prep.geometry)
        programs = frame_section_programs(prep, slicer_for(prep.geometry))
        if not programs:
            continue
        mesh = min((program_to_mesh(p) for p in programs[:6]), key=target)  # the best of the first few
        values = []
        for s in range(args.seeds):
            target.seed = 100 + s
            values.append(target(mesh))
        v = np.array(values)
        relative.append(float(v.std() / v.mean()))
        print(f"{path.stem}: ranking CD x1000 {v.mean() * 1e3:.4f}, relative std {relative[-1] * 100:.2f} %")
    print(f"median relative std over {len(relative)} parts: {statistics.median(relative) * 100:.2f} %")


if __name__ == "__main__":
    main()
