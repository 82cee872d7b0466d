"""Export benchmark: every program JSON in a folder -> STEP (and CadQuery script); time per part and
the STEP solid's volume / bounding box against the backend's manifold solid.

    .venv/bin/python scripts/benchmark_export.py /tmp/rec_f360 [--cadquery-python PY]

Volume error is reported against ``program_to_mesh`` (arcs as chords within 1e-3 of the part's size,
so curved parts lose up to ~1 % there) and against a 20x finer tessellation (``scale=program_scale/20``),
which shows how close the B-rep (exact arcs) is to the true solid. With ``--cadquery-python`` (an
interpreter that has CadQuery) the scripts are run too and their volumes compared.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from backend.cad.serialize import loads
from backend.export.brep import count_solids, face_types, program_to_shape, shape_bounds, shape_volume
from backend.export.cadquery_script import program_to_cadquery
from backend.export.step import read_step, write_shape
from backend.geometry.solid import program_scale, program_to_mesh

MEASURE = """
import json, runpy, sys
out = {}
for path in sys.argv[1:]:
    try:
        out[path] = runpy.run_path(path, run_name="benchmark")["part"].val().Volume()
    except Exception as exc:
        out[path] = repr(exc)
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder")
    parser.add_argument("--cadquery-python", default=None)
    args = parser.parse_args()
    files = sorted(Path(args.folder).glob("*.json"))
    program_to_shape(loads(files[0].read_text()))  # load OpenCascade once (a few seconds), not timed
    rows, scripts = [], {}
    tmp = Path(tempfile.mkdtemp(prefix="mesh2cad-export-bench-"))
    for f in files:
        program = loads(f.read_text())
        start = time.perf_counter()
        shape = program_to_shape(program)
        step = write_shape(shape, tmp / f"{f.stem}.step", f.stem)
        seconds = time.perf_counter() - start
        back = read_step(step)
        mesh = program_to_mesh(program)
        fine = program_to_mesh(program, scale=program_scale(program) / 20)
        v = shape_volume(back)
        size = float(np.ptp(mesh.bounds, axis=0).max())
        rows.append(
            {
                "part": f.stem,
                "seconds": seconds,
                "solids": count_solids(back),
                "faces": face_types(back),
                "vol_err": abs(v - mesh.volume) / mesh.volume,
                "vol_err_fine": abs(v - fine.volume) / fine.volume,
                "bbox_err": float(np.abs(shape_bounds(back) - mesh.bounds).max()) / size,
                "fine_volume": fine.volume,
            }
        )
        script = tmp / f"{f.stem}.py"
        script.write_text(program_to_cadquery(program, title=f.stem))
        scripts[str(script)] = rows[-1]
    if args.cadquery_python:
        out = subprocess.run(
            [args.cadquery_python, "-c", MEASURE, *scripts],
            capture_output=True,
            text=True,
            cwd=tmp,
            check=True,
        )
        for path, vol in json.loads(out.stdout.strip().splitlines()[-1]).items():
            row = scripts[path]
            row["cq_err_fine"] = (
                abs(vol - row["fine_volume"]) / row["fine_volume"] if isinstance(vol, float) else vol
            )
    for r in rows:
        print(
            f"{r['part']}: {r['seconds']:.3f} s  solids {r['solids']}  vol err {r['vol_err']:.2e}"
            f" (fine {r['vol_err_fine']:.2e})  bbox err {r['bbox_err']:.1e}  {r['faces']}"
            + (f"  cadquery err {r['cq_err_fine']}" if "cq_err_fine" in r else "")
        )
    secs = [r["seconds"] for r in rows]
    print(
        f"\n{len(rows)} parts; export (build + write STEP) median {statistics.median(secs):.3f} s, max {max(secs):.3f} s"
    )
    print(
        f"max volume error vs program_to_mesh {max(r['vol_err'] for r in rows):.2e};"
        f" vs 20x finer tessellation {max(r['vol_err_fine'] for r in rows):.2e}"
    )
    print(
        f"max bbox error {max(r['bbox_err'] for r in rows):.2e} of the size; parts with one solid:"
        f" {sum(r['solids'] == 1 for r in rows)}/{len(rows)};"
        f" parts with cylindrical faces: {sum('cylinder' in r['faces'] for r in rows)}"
    )
    cq = [r["cq_err_fine"] for r in rows if isinstance(r.get("cq_err_fine"), float)]
    if args.cadquery_python:
        print(
            f"CadQuery scripts run: {len(cq)}/{len(rows)}; max volume error vs fine {max(cq, default=0):.2e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
