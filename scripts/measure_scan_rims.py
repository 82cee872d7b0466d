"""How far the scans' own faults are from the scan intake's bounds: the README's margins.

Every part of the given sets is scanned and scanned turned as ``evaluate --perturb scan`` and
``--perturb turned-scan`` do it (the same seeds). Printed: the widest rim the scan's lost triangles leave, in
median edge lengths (``intake/scan_holes.py`` covers rims wider than ``WIDE_EDGES``), the farthest a small
piece of the scan lies from the part, as a share of the part's size (``intake/floaters.py`` leaves out those
farther than ``GAP``), and how many scans the mesh intake covers a hole in or leaves a piece out of (then the
mesh fitted is not the one the budget alone gives).

    .venv/bin/python scripts/measure_scan_rims.py ../shared/realparts/{fusion360,mendel90,prusa_mk3s,voron0}
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.geometry.perturb import PERTURBATIONS  # noqa: E402
from backend.intake.budget import fit_work_budget  # noqa: E402
from backend.intake.check import check_input_mesh  # noqa: E402
from backend.intake.floaters import GAP, SMALL_SHARE  # noqa: E402
from backend.intake.meshes import mesh_for_fitting  # noqa: E402
from backend.intake.repair import boundary_loops  # noqa: E402
from backend.intake.scan_holes import WIDE_EDGES, _diameter  # noqa: E402


def widest_rim(mesh: trimesh.Trimesh) -> float:
    """The largest rim diameter of ``mesh``, in its median edge lengths (0 when it is closed)."""
    edge = float(np.median(mesh.edges_unique_length))
    return max(
        (_diameter(np.asarray(mesh.vertices)[loop]) / edge for loop in boundary_loops(mesh)), default=0.0
    )


def farthest_small_piece(mesh: trimesh.Trimesh) -> float:
    """How far the small pieces (under ``SMALL_SHARE`` of the area) lie from the rest at most, as a share of
    the part's largest extent (vertex to vertex; 0 when there is none)."""
    pieces = trimesh.graph.connected_components(
        mesh.face_adjacency, nodes=np.arange(len(mesh.faces)), min_len=1
    )
    area = np.asarray(mesh.area_faces)
    share = np.array([area[p].sum() for p in pieces]) / area.sum()
    faces, vertices = np.asarray(mesh.faces), np.asarray(mesh.vertices)
    part = np.unique(
        faces[np.concatenate([p for p, s in zip(pieces, share, strict=True) if s >= SMALL_SHARE])]
    )
    tree, size = cKDTree(vertices[part]), float(np.max(np.ptp(vertices[part], axis=0)))
    small = [p for p, s in zip(pieces, share, strict=True) if s < SMALL_SHARE]
    return max((float(tree.query(vertices[np.unique(faces[p])])[0].min()) / size for p in small), default=0.0)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path, help="folders of STL parts")
    args = parser.parse_args()
    rims, gaps, touched, scans = [], [], 0, 0
    for folder in args.sets:
        for path in sorted(folder.glob("*.stl")):
            part = trimesh.load(path, force="mesh")
            for perturb in ("scan", "turned-scan"):
                scanned = check_input_mesh(PERTURBATIONS[perturb](part, zlib.crc32(path.stem.encode()))[0])
                rims.append(widest_rim(scanned))
                gaps.append(farthest_small_piece(scanned))
                fitted, budget_only = mesh_for_fitting(scanned)[0], fit_work_budget(scanned)[0]
                same = np.array_equal(fitted.vertices, budget_only.vertices) and np.array_equal(
                    fitted.faces, budget_only.faces
                )
                touched += not same
                scans += 1
    print(f"{scans} scans and turned scans of {scans // 2} parts")
    print(f"widest rim of lost triangles: {max(rims):.1f} median edges (covered beyond {WIDE_EDGES:g})")
    print(f"farthest small piece: {max(gaps):.2%} of the part's size (left out beyond {GAP:.0%})")
    print(f"scans whose fitted mesh the intake changed (a hole covered, a piece left out): {touched}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
