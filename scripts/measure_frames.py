"""How well the pipeline finds a perturbed part's own axes (the README's frame numbers).

For each part of a set, the input is perturbed as ``evaluate --perturb`` perturbs it, prepared as the
pipeline prepares it (``intake.prepare``), and the found frame is mapped back onto the clean part. The clean
part's faces that are perpendicular to an axis of its own frame (within the tolerance) should stay so in the
found frame: the share of the clean area that no longer is, per tolerance, is the frame's loss (0 for a
frame right up to the tolerance, whichever axis is which). Printed: the mean loss over the parts and how
many parts lose more than 0.5 % of their area; ``--verbose`` adds each such part and the angle between its
frame and the clean one (the smallest over axis permutations; a round part's turn about its axis counts).

``--no-refine`` turns the whole-surface refinement of scans' and clouds' axes off (the code before it);
``--no-pile`` leaves a scan's or point cloud's frame as its normals give it (no ``orient.piled_up``: the code
before it);
``--point-normals`` takes a scan's normals from point neighbourhoods (24 points), as before, instead of
averaging its face normals along the surface (``geometry.mesh_normals``); ``--rings N`` averages over a
fixed number of rings instead of the mesh's own count; ``--scan-edge F`` remeshes the scans at edges of F
of the part's size instead of 1/50 (a finer scan).

    .venv/bin/python scripts/measure_frames.py ../shared/realparts/fusion360 --perturb turned-scan
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import backend.geometry.perturb as perturb  # noqa: E402
import backend.intake.prepare as prepare_module  # noqa: E402
from backend.evaluate import perturbed_input  # noqa: E402
from backend.intake.budget import fit_work_budget  # noqa: E402
from backend.intake.check import check_input_mesh  # noqa: E402


def perpendicular_share(mesh: trimesh.Trimesh, rotation: np.ndarray, tolerance_deg: float) -> float:
    """Share of the mesh's area whose normal (turned by ``rotation``) is within the tolerance of
    perpendicular to a world axis."""
    normals = np.asarray(mesh.face_normals) @ rotation.T
    off = np.abs(normals).min(axis=1)
    area = np.asarray(mesh.area_faces)
    return float(area[off < np.sin(np.radians(tolerance_deg))].sum() / area.sum())


def frame_angle(rotation: np.ndarray) -> float:
    """Degrees between the frame and the world axes, the smallest over signed axis permutations."""
    best = 180.0
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            p = np.zeros((3, 3))
            p[range(3), perm] = signs
            if np.linalg.det(p) < 0:
                continue
            c = (np.trace(p @ rotation) - 1.0) / 2.0
            best = min(best, float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("meshes", help="folder of clean meshes (.stl)")
    parser.add_argument(
        "--perturb", default="turned-scan", help="as evaluate --perturb (default turned-scan)"
    )
    parser.add_argument("--tolerance", type=float, nargs="+", default=[0.25, 1.0], help="degrees")
    parser.add_argument("--no-refine", action="store_true", help="without the whole-surface refinement")
    parser.add_argument("--no-pile", action="store_true", help="a scan's or cloud's frame not piled up")
    parser.add_argument(
        "--point-normals", action="store_true", help="a scan's normals from point neighbourhoods"
    )
    parser.add_argument("--rings", type=int, help="a fixed number of smoothing rings")
    parser.add_argument("--scan-edge", type=float, help="scan remeshing edge, share of the size")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.no_refine:
        plain = prepare_module.find_rotation
        prepare_module.find_rotation = lambda *a, refine=False, pile=False, **k: plain(*a, **k)
    if args.no_pile:
        unpiled = prepare_module.find_rotation
        prepare_module.find_rotation = lambda *a, pile=False, **k: unpiled(*a, **k)
    if args.point_normals:
        prepare_module.is_connected_surface = lambda mesh: False
    if args.rings is not None:
        smooth = prepare_module.smoothed_face_normals
        prepare_module.smoothed_face_normals = lambda mesh: smooth(mesh, args.rings)
    if args.scan_edge is not None:
        perturb.SCAN_EDGE_FRACTION = args.scan_edge
    losses: dict[float, list[float]] = {t: [] for t in args.tolerance}
    seconds: list[float] = []
    for path in sorted(Path(args.meshes).glob("*.stl")):
        clean = trimesh.load(path, force="mesh")
        given, matrix = perturbed_input(clean, path.stem, args.perturb)  # the seed evaluate gives the part
        checked = check_input_mesh(given)
        if isinstance(checked, trimesh.Trimesh):
            checked, _ = fit_work_budget(checked)
        start = time.perf_counter()
        rotation = prepare_module.prepare(checked).orientation.rotation
        seconds.append(time.perf_counter() - start)
        if matrix is not None:
            rotation = rotation @ matrix[:3, :3]  # part = R @ input = R @ M @ clean
        for t in args.tolerance:
            loss = 100.0 * (
                perpendicular_share(clean, np.eye(3), t) - perpendicular_share(clean, rotation, t)
            )
            losses[t].append(loss)
            if args.verbose and loss > 0.5:
                print(
                    f"  {path.stem[:32]:32s} within {t}°: {loss:5.1f} % off, frame {frame_angle(rotation):.2f}°"
                )
    for t, values in losses.items():
        v = np.array(values)
        print(
            f"{args.perturb} within {t}°: mean {v.mean():.1f} % of the area off; "
            f"parts off (> 0.5 %): {(v > 0.5).sum()} of {len(v)}"
        )
    print(f"prepare (frame, normalise, observe): median {np.median(seconds):.3f} s a part")


if __name__ == "__main__":
    main()
