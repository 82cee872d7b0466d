"""What the mesh intake makes of parts wound inwards or both ways, left as overlapping pieces, or given twice.

Every part of the given sets is given to ``intake.shells.outward_solid`` as exported, and as ``evaluate
--perturb inverted``, ``mixed-winding``, ``overlapping-pieces`` and ``double-sided`` give it (same seeds).
Printed per input kind: how many of the meshes the intake's ``shells`` step changed, how many came out
closed and wound outwards (exact volume positive), the largest difference between the fitted mesh's volume
and the part's own (as a share of the part's; the exact parts only: a part that is no closed manifold has no
exact volume), and the median seconds of the step.

    .venv/bin/python scripts/measure_outward.py ../shared/realparts/{fusion360,mendel90,prusa_mk3s,voron0}
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import zlib
from pathlib import Path

import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.geometry.convert import NotManifoldError, trimesh_to_manifold  # noqa: E402
from backend.geometry.perturb import PERTURBATIONS  # noqa: E402
from backend.intake.check import check_input_mesh  # noqa: E402
from backend.intake.shells import outward_solid  # noqa: E402

KINDS = ("as exported", "inverted", "mixed-winding", "overlapping-pieces", "double-sided")


def _volume(mesh: trimesh.Trimesh) -> float | None:
    """The exact enclosed volume of a closed, outward mesh; None for any other."""
    try:
        return float(trimesh_to_manifold(mesh).volume())
    except NotManifoldError:
        return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sets", nargs="+", type=Path, help="folders of STL parts")
    args = parser.parse_args()
    rows = {kind: {"changed": 0, "outward": 0, "n": 0, "error": 0.0, "seconds": []} for kind in KINDS}
    for folder in args.sets:
        for path in sorted(folder.glob("*.stl")):
            part = trimesh.load(path, force="mesh")
            truth = _volume(check_input_mesh(part))
            for kind in KINDS:
                given = (
                    part
                    if kind == "as exported"
                    else PERTURBATIONS[kind](part, zlib.crc32(path.stem.encode()))[0]
                )
                checked = check_input_mesh(given)
                start = time.perf_counter()
                out = outward_solid(checked)
                row = rows[kind]
                row["seconds"].append(time.perf_counter() - start)
                row["n"] += 1
                row["changed"] += out.mesh is not checked
                volume = _volume(out.mesh)
                row["outward"] += volume is not None
                if truth is not None and volume is not None:
                    row["error"] = max(row["error"], abs(volume - truth) / truth)
    for kind, row in rows.items():
        print(
            f"{kind}: {row['n']} meshes, {row['changed']} changed, {row['outward']} closed and outward,"
            f" volume within {row['error']:.2e} of the part's,"
            f" {statistics.median(row['seconds']):.4f} s median"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
