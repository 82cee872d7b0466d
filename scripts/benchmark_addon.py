"""The Blender add-on with the real local server: Reconstruct → objects in the scene, and build time.

python scripts/benchmark_addon.py [--runs 3] [--builds 11] [--checkpoint PATH] [--candidates 4]

Headless ``bpy``: the add-on is enabled through ``addon_utils`` with its preferences pointing at this
interpreter and the checkpoint (default: the shipped ``backend/checkpoints/default``; without one, a
tiny random model is made and the numbers say so). The backend is started once by the add-on's
Start Backend operator (its start-up time is printed apart). For each ``examples/*.stl``: the time from
calling the Reconstruct operator to the result collection existing (``poll_once`` in a loop, standing in
for the add-on's timer), median over ``--runs``. Then the time to build the 10-feature program of
``tests/blender_addon/golden_programs.py`` (``build_program``, and ``build_program`` plus evaluating the
result's mesh), median over ``--builds``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "blender_addon"))

import bpy  # noqa: E402
import trimesh  # noqa: E402
from golden_programs import ten_features  # noqa: E402

from backend.model.checkpoint import CONFIG_FILE, DEFAULT_CHECKPOINT  # noqa: E402
from blender_addon import build, poll_once  # noqa: E402
from blender_addon.preferences import ADDON_ID  # noqa: E402
from blender_addon.state import STATE  # noqa: E402

POLL_S = 0.01


def drain(timeout: float, until=lambda: not STATE.busy) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        poll_once()
        if until():
            return
        time.sleep(POLL_S)
    raise TimeoutError(f"timed out; stage {STATE.stage!r}, error {STATE.last_error!r}")


def tiny_checkpoint(folder: Path) -> Path:
    import torch

    from backend.cad.tokens import CadTokenizer
    from backend.model.cad_model import CadModel, ModelConfig
    from backend.model.checkpoint import save_pretrained

    tok = CadTokenizer()
    torch.manual_seed(0)
    cfg = ModelConfig(
        vocab_size=len(tok), hidden_size=32, n_layers=1, n_heads=2, n_kv_heads=2, intermediate_size=64,
        n_points=256, n_prefix_tokens=8, max_tokens=48, encoder_width=16, encoder_centroids=32,
        encoder_k1=8, encoder_k2=8,
    )  # fmt: skip
    return save_pretrained(CadModel(cfg), tok, folder, meta={"name": "tiny-benchmark"})


def add_stl(path: Path) -> bpy.types.Object:
    mesh = trimesh.load(path, force="mesh")
    data = bpy.data.meshes.new(path.stem)
    data.from_pydata(mesh.vertices.tolist(), [], mesh.faces.tolist())
    obj = bpy.data.objects.new(path.stem, data)
    bpy.context.scene.collection.objects.link(obj)
    return obj


def select(obj: bpy.types.Object) -> None:
    for other in bpy.context.scene.objects:
        other.select_set(other is obj)
    bpy.context.view_layer.objects.active = obj


def remove_collection(name: str) -> None:
    coll = bpy.data.collections.get(name)
    if coll is None:
        return
    for obj in list(coll.objects):
        bpy.data.objects.remove(obj)
    bpy.data.collections.remove(coll)


def evaluate(obj: bpy.types.Object) -> int:
    ev = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    n = len(ev.to_mesh().polygons)
    ev.to_mesh_clear()
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="reconstructions per example mesh")
    ap.add_argument("--builds", type=int, default=11, help="builds of the 10-feature program")
    ap.add_argument("--checkpoint", default=None, help="model folder (default: the shipped one, else tiny)")
    ap.add_argument("--candidates", type=int, default=4, help="the panel's Candidates")
    args = ap.parse_args()
    import addon_utils  # Blender's; importable once bpy is

    tmp = Path(tempfile.mkdtemp(prefix="mesh2cad-bench-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")  # no user backend.json; the server's cwd is ROOT
    os.environ["XDG_STATE_HOME"] = str(tmp / "state")
    config = tmp / "config" / "mesh2cad" / "backend.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"repo": str(ROOT), "written_by": "benchmark_addon"}))
    if args.checkpoint:
        checkpoint, label = args.checkpoint, args.checkpoint
    elif (DEFAULT_CHECKPOINT / CONFIG_FILE).is_file():
        checkpoint, label = "", f"shipped ({DEFAULT_CHECKPOINT})"
    else:
        checkpoint = str(tiny_checkpoint(tmp / "tiny-model"))
        label = "TINY RANDOM model (no shipped checkpoint yet): section candidates only"

    bpy.ops.wm.read_factory_settings(use_empty=True)
    addon_utils.enable(ADDON_ID, default_set=True, handle_error=None)
    prefs = bpy.context.preferences.addons[ADDON_ID].preferences
    prefs.python, prefs.checkpoint, prefs.startup_timeout, prefs.request_timeout = (
        sys.executable,
        checkpoint,
        600.0,
        60.0,
    )
    print(f"checkpoint: {label}; candidates {args.candidates}; cpus {os.cpu_count()}")
    try:
        t0 = time.perf_counter()
        bpy.ops.mesh2cad.start_backend()
        drain(600.0)
        if not STATE.backend_alive():
            print(f"backend did not start: {STATE.last_error} ({STATE.last_hint})")
            return 1
        print(f"backend start (Start Backend → healthy): {time.perf_counter() - t0:.2f} s")
        bpy.context.scene.mesh2cad.candidates = args.candidates

        for stl in sorted((ROOT / "examples").glob("*.stl")):
            obj = add_stl(stl)
            name = f"{obj.name} CAD"
            times, cds = [], []
            for _ in range(args.runs):
                remove_collection(name)
                select(obj)
                t = time.perf_counter()
                if bpy.ops.mesh2cad.reconstruct() != {"FINISHED"}:
                    print(f"{stl.name}: reconstruct refused: {STATE.last_error}")
                    return 1
                drain(600.0, until=lambda name=name: name in bpy.data.collections or not STATE.busy)
                if name not in bpy.data.collections:
                    print(f"{stl.name}: no result: {STATE.last_error} ({STATE.last_hint})")
                    return 1
                times.append(time.perf_counter() - t)
                cds.append(STATE.last_result.get("cd"))
                drain(60.0)  # let the task end before the next press
            print(
                f"{stl.name}: Reconstruct → objects in scene: median {statistics.median(times):.2f} s"
                f" (runs {', '.join(f'{x:.2f}' for x in times)}); server CD {cds[-1]:.2e},"
                f" backend total {STATE.last_result.get('seconds', float('nan')):.2f} s,"
                f" {STATE.last_result.get('features')} features"
            )
    finally:
        addon_utils.disable(ADDON_ID, default_set=True)  # stops the backend it started

    program = ten_features()
    assert len(program["features"]) == 10
    only, full = [], []
    for i in range(args.builds):
        t = time.perf_counter()
        coll = build.build_program(program, name=f"Ten {i}")
        only.append(time.perf_counter() - t)
        evaluate(build.result_object(coll))
        full.append(time.perf_counter() - t)
        remove_collection(coll.name)
    print(
        f"10-feature program: build_program median {1000 * statistics.median(only):.1f} ms;"
        f" build + evaluated mesh median {1000 * statistics.median(full):.1f} ms (n={args.builds})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
