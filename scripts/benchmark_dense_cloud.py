"""Dense point clouds through the pipeline: seconds (median of --repeats) and IoU against the part, for
clouds of several sizes sampled from one mesh (a scanner gives millions of samples; the evaluation's clouds
have 8,192), optionally with 1 % stray samples around the part (``--perturb stray-points``'s strays).

    python scripts/benchmark_dense_cloud.py MESH [MESH ...] [--sizes 8192 200000 2000000] [--repeats 3]
                                            [--strays]

Prints one line a part and size: the median total seconds, the validate stage (strays and the work
budget), the IoU, and the input note; with several parts, the mean IoU a size. Quote medians: this
machine is shared. Run from an older checkout's ``scripts/`` folder it measures that checkout's pipeline
(the script puts its own repository first on the path).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import trimesh

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.geometry.metrics import evaluate_pair  # noqa: E402
from backend.geometry.perturb import points, stray_points  # noqa: E402
from backend.reconstruct import ReconstructOptions, Reconstructor  # noqa: E402


def cloud(mesh: trimesh.Trimesh, n: int, strays: bool, seed: int = 1) -> trimesh.PointCloud:
    """``n`` surface samples of ``mesh`` (and 1 % as many strays around it when ``strays``)."""
    return stray_points(mesh, seed, n) if strays else points(mesh, seed, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meshes", nargs="+", help="closed mesh files (the parts the clouds are sampled from)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[8192, 200_000, 2_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--strays", action="store_true", help="add 1 %% stray samples around the part")
    args = parser.parse_args()
    reconstructor = Reconstructor()
    ious: dict[int, list[float]] = {n: [] for n in args.sizes}
    for path in args.meshes:
        mesh = trimesh.load(path, force="mesh")
        for n in args.sizes:
            c = cloud(mesh, n, args.strays)
            totals, validates, iou, note = [], [], 0.0, ""
            for _ in range(args.repeats):
                start = time.perf_counter()
                res = reconstructor.reconstruct(c, ReconstructOptions(fixed_budgets=True))
                totals.append(time.perf_counter() - start)
                validates.append(res.timings.get("validate", 0.0))
                iou, note = evaluate_pair(res.mesh, mesh)["iou"], res.scores.get("input_note", "")
            ious[n].append(iou)
            print(
                f"{Path(path).stem}: {len(c.vertices):>9,} samples: {statistics.median(totals):6.2f} s median"
                f" (validate {statistics.median(validates):.2f} s), IoU {iou:.2%}; {note or 'no note'}",
                flush=True,
            )
    if len(args.meshes) > 1:
        for n in args.sizes:
            print(f"{n:>9,} samples: mean IoU {statistics.mean(ious[n]):.2%} over {len(args.meshes)} parts")


if __name__ == "__main__":
    main()
