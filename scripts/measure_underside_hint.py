"""How often a cloud's note suggests 'Scanned on a table': the README's counts.

Every part of the given sets is sampled as ``evaluate --perturb points``, ``points-from-above`` and
``turned-points`` do it (the same seeds) and made ready for fitting without the option
(``intake.clouds.cloud_for_fitting``); printed: per input, how many notes carry the hint
(``OPEN_UNDERSIDE_HINT``), and which parts.

    .venv/bin/python scripts/measure_underside_hint.py ../shared/realparts/{fusion360,mendel90,prusa_mk3s,voron0}
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.evaluate import perturbed_input  # noqa: E402
from backend.geometry.mesh_io import load_mesh  # noqa: E402
from backend.intake.clouds import OPEN_UNDERSIDE_HINT, cloud_for_fitting  # noqa: E402

INPUTS = ("points", "points-from-above", "turned-points")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sets", nargs="+", type=Path, help="folders of meshes (STL)")
    args = p.parse_args()
    hinted: dict[str, list[str]] = {k: [] for k in INPUTS}
    total = 0
    for folder in args.sets:
        for path in sorted(folder.glob("*.stl")):
            mesh = load_mesh(path)
            total += 1
            for kind in INPUTS:
                cloud, _ = perturbed_input(mesh, path.stem, kind)
                note = cloud_for_fitting(cloud, underside_unseen=False)[2]
                if OPEN_UNDERSIDE_HINT in note:
                    hinted[kind].append(f"{folder.name}/{path.stem}")
    for kind in INPUTS:
        print(f"{kind}: the hint on {len(hinted[kind])} of {total}: {', '.join(hinted[kind]) or '-'}")


if __name__ == "__main__":
    main()
