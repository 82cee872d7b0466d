"""Best single section extrusion on the real parts (the evaluation's reference row).

Prints per part the best section IoU (on the token grid, and with continuous numbers), its curve
count and the time for all its candidates, the best IoU once the layered (stacked-section)
candidates join, then a summary (mean / median IoU; per complexity bucket for fusion360 from its
INDEX.tsv). Times are CPU seconds of this process (the wall clock on a shared machine is noisier). The meshes are read in place from ../shared/realparts and never
copied.

    .venv/bin/python scripts/measure_sections.py [--limit N] [--sets fusion360 mendel90]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from backend.geometry.mesh_io import load_mesh
from backend.geometry.normalize import normalize_mesh
from backend.sections.candidates import all_candidates
from backend.verify.reference import NoSectionError, best_program, best_section_program

REALPARTS = Path(__file__).resolve().parents[1].parent / "shared" / "realparts"


@dataclass
class Row:
    name: str
    bucket: str
    iou: float  # token grid
    iou_continuous: float
    curves: int
    seconds: float  # all section candidates + scoring, token grid, CPU time
    iou_layered: float  # best of section + layered candidates, token grid
    seconds_layered: float


def _buckets(folder: Path) -> dict[str, str]:
    index = folder / "INDEX.tsv"
    if not index.is_file():
        return {}
    with index.open() as fh:
        return {row["model"]: row["bucket"] for row in csv.DictReader(fh, delimiter="\t")}


def _best(mesh, quantize: bool) -> tuple[float, int]:
    try:
        program, iou = best_section_program(mesh, quantize=quantize)
    except NoSectionError:
        return 0.0, 0
    return iou, program.curve_count


def measure(folder: Path, limit: int | None) -> list[Row]:
    rows = []
    buckets = _buckets(folder)
    for path in sorted(folder.glob("*.stl"))[:limit]:
        mesh, _ = normalize_mesh(load_mesh(path))
        t0 = time.process_time()
        iou, curves = _best(mesh, quantize=True)
        dt = time.process_time() - t0
        iou_c, _ = _best(mesh, quantize=False)
        t0 = time.process_time()
        layered = best_program(mesh, all_candidates(mesh))
        dt_l = time.process_time() - t0
        iou_l = layered[1] if layered else 0.0
        row = Row(path.stem, buckets.get(path.stem, "-"), iou, iou_c, curves, dt, iou_l, dt_l)
        print(
            f"{folder.name:<10} {row.name:<34} {row.bucket:<12} IoU {100 * iou:6.2f} % "
            f"(continuous {100 * iou_c:6.2f} %)  curves {curves:4d}  {1000 * dt:5.0f} ms  "
            f"| layered {100 * iou_l:6.2f} % {1000 * dt_l:5.0f} ms",
            flush=True,
        )
        rows.append(row)
    return rows


def _summary(name: str, rows: list[Row]) -> str:
    def stats(values: list[float]) -> str:
        return f"{100 * statistics.fmean(values):5.1f} / {100 * statistics.median(values):5.1f} %"

    return (
        f"{name:<14} n={len(rows):<3} IoU mean / median: section {stats([r.iou for r in rows])}  "
        f"continuous {stats([r.iou_continuous for r in rows])}  "
        f"with layered {stats([r.iou_layered for r in rows])}"
    )


def report(name: str, rows: list[Row]) -> None:
    if not rows:
        print(f"{name}: no parts")
        return
    print()
    print(_summary(name, rows))
    for label, times in (("section", [r.seconds for r in rows]), ("all", [r.seconds_layered for r in rows])):
        print(
            f"{'':<14} CPU time per part ({label} candidates + scoring): median "
            f"{1000 * statistics.median(times):.0f} ms, max {1000 * max(times):.0f} ms"
        )
    print(
        f"{'':<14} curves of the best section program: median {statistics.median(r.curves for r in rows):.0f}"
    )
    by_bucket: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        if r.bucket != "-":
            by_bucket[r.bucket].append(r)
    for bucket in sorted(by_bucket):
        print("  " + _summary(bucket, by_bucket[bucket]))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=REALPARTS)
    ap.add_argument("--sets", nargs="+", default=["fusion360", "mendel90"])
    ap.add_argument("--limit", type=int, default=None, help="parts per set")
    args = ap.parse_args()
    for name in args.sets:
        report(name, measure(args.root / name, args.limit))


if __name__ == "__main__":
    main()
