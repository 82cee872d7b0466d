"""The mesh intake on scans: seconds (median of --repeats) a scanned mesh takes to be made ready for fitting
(its wide holes covered, its floating specks left out, the work budget), for each part's scan, scan from
above and scan with floaters (``evaluate --perturb``'s, the same seeds).

    python scripts/benchmark_scan_intake.py MESH [MESH ...] [--repeats 5]
                                            [--perturb scan scan-from-above scan-with-floaters]

Prints one line a part and perturbation: its triangles, the median seconds and the note. Quote medians:
this machine is shared. Run from an older checkout's ``scripts/`` folder it times that checkout's intake
(the script puts its own repository first on the path; a checkout before ``intake/meshes.py`` is timed
through its budget and hole filling, what its validate stage did to meshes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import trimesh

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.geometry.perturb import PERTURBATIONS  # noqa: E402
from backend.intake.check import check_input_mesh  # noqa: E402


def intake() -> Callable[[trimesh.Trimesh], str]:
    """This checkout's mesh intake, returning its note."""
    try:
        from backend.intake.meshes import mesh_for_fitting
    except ImportError:  # before intake/meshes.py: the budget, then the clean meshes' hole filling
        from backend.intake.budget import fit_work_budget
        from backend.intake.repair import fill_holes

        def old(mesh: trimesh.Trimesh) -> str:
            reduced, note = fit_work_budget(mesh)
            filled = fill_holes(reduced)
            return f"{note}; {filled.holes} holes filled" if filled.holes else note

        return old
    return lambda mesh: mesh_for_fitting(mesh)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("meshes", nargs="+", help="closed mesh files (the parts that are scanned)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--perturb",
        nargs="+",
        default=["scan", "scan-from-above", "scan-with-floaters"],
        choices=PERTURBATIONS,
    )
    args = parser.parse_args()
    run = intake()
    for path in args.meshes:
        part = trimesh.load(path, force="mesh")
        name = Path(path).stem
        for perturb in args.perturb:
            scanned = check_input_mesh(PERTURBATIONS[perturb](part, zlib.crc32(name.encode()))[0])
            seconds, note = [], ""
            for _ in range(args.repeats):
                given = scanned.copy()  # cold: nothing trimesh remembered from the last run
                start = time.perf_counter()
                note = run(given)
                seconds.append(time.perf_counter() - start)
            print(
                f"{name} {perturb}: {len(scanned.faces):,} triangles, {statistics.median(seconds):.2f} s"
                f" (median of {args.repeats}); {note or 'nothing done'}"
            )


if __name__ == "__main__":
    main()
