"""``python -m backend demo``: reconstruct the bundled example meshes, then build them in Blender.

Writes into ``OUT/demo/``: per example the program JSON (input frame), rebuilt STL and text form,
and ``sheet.png`` (input | reconstruction, our software renderer); then, through ``bpy`` from PyPI
in a child process, ``OUT/demo.blend`` (editable sketch + extrude objects built by the add-on's
builder) and ``OUT/demo.png`` (Workbench render: inputs on the left, results on the right).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out", help="output folder (default out/)")


def run(args: argparse.Namespace) -> int:
    """The demo into ``--out``."""
    return run_demo(Path(args.out))


def run_demo(out: Path, examples: Path = EXAMPLES) -> int:
    """Reconstruct the examples into ``out/demo/``, then the Blender scene (when bpy is installed)."""
    from backend.cli.reconstruct import write_outputs
    from backend.geometry.mesh_io import load_mesh
    from backend.geometry.render import contact_sheet, render_mesh
    from backend.reconstruct import ReconstructOptions, Reconstructor

    inputs = sorted(examples.glob("*.stl"))
    if not inputs:
        raise FileNotFoundError(f"no example meshes (*.stl) in {examples}")
    demo_dir = out / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    print(f"demo: reconstructing {len(inputs)} example meshes from {examples}")
    t0 = time.perf_counter()
    reconstructor = Reconstructor()
    print(
        f"  model loaded in {time.perf_counter() - t0:.1f} s ({'model + sections' if reconstructor.has_model else 'no checkpoint: section candidates only'})"
    )
    images, labels = [], []
    for path in inputs:
        mesh = load_mesh(path)
        t = time.perf_counter()
        result = reconstructor.reconstruct(mesh, ReconstructOptions())
        seconds = time.perf_counter() - t
        write_outputs(result, demo_dir, path.stem)
        print(
            f"  {path.name}: IoU {result.scores['iou'] * 100:.1f} %, CD x1000 {result.scores['cd'] * 1000:.3f}, "
            f"{result.n_features} features, {result.n_curves} curves, {seconds:.2f} s, from {result.source}"
        )
        images += [render_mesh(mesh, 256), render_mesh(result.mesh, 256, color=(200, 140, 80))]
        labels += [f"input {path.stem}", f"result: IoU {result.scores['iou'] * 100:.1f} %"]
    contact_sheet(images, columns=2, labels=labels).save(demo_dir / "sheet.png")
    print(f"  wrote {demo_dir}/<name>.json|.stl|.txt and {demo_dir / 'sheet.png'}")
    if find_spec("bpy") is None:
        print("  bpy is not installed: skipping the Blender scene (install it with `python install.py`)")
        return 0
    cmd = [sys.executable, "-m", "backend.cli.demo_blend", str(out), *map(str, inputs)]
    print("  building the editable Blender scene (bpy, child process)")
    return subprocess.run(cmd, check=False).returncode
