"""Blender half of the demo (run by ``backend.cli.demo`` in a child process, because bpy brings its own
libraries): builds each reconstructed program with the add-on's builder next to its input mesh,
saves ``OUT/demo.blend`` and renders ``OUT/demo.png`` with Workbench.

Usage: ``python -m backend.cli.demo_blend OUT INPUT.stl...`` (programs are read from ``OUT/demo/``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
import trimesh
from mathutils import Matrix, Vector

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from blender_addon.build import build_program  # noqa: E402  (the add-on folder is on sys.path now)

GAP = 0.25  # space between parts, as a share of the largest part


def _input_object(path: Path, offset: Vector) -> bpy.types.Object:
    mesh = trimesh.load(path, force="mesh")
    data = bpy.data.meshes.new(path.stem)
    data.from_pydata(mesh.vertices.tolist(), [], mesh.faces.tolist())
    obj = bpy.data.objects.new(f"{path.stem} (input)", data)
    obj.matrix_world = Matrix.Translation(offset)
    bpy.context.scene.collection.objects.link(obj)
    obj.color = (0.55, 0.62, 0.75, 1.0)
    return obj


def main(out: Path, inputs: list[Path]) -> int:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    sizes = [trimesh.load(p, force="mesh").extents.max() for p in inputs]
    step = max(sizes) * (1 + GAP)
    for i, path in enumerate(inputs):  # one row: input, result, input, result, ...
        program = json.loads((out / "demo" / f"{path.stem}.json").read_text())
        centre = Vector(trimesh.load(path, force="mesh").bounds.mean(axis=0))
        _input_object(path, Vector((2 * i * step, 0, 0)) - centre)
        right = Matrix.Translation(Vector(((2 * i + 1) * step, 0, 0)) - centre)
        coll = build_program(program, name=path.stem, matrix_world=right, scene=scene)
        print(f"    built {coll.name}: {len(coll.all_objects)} objects")
    _camera_and_light(scene, step, len(inputs))
    out.mkdir(parents=True, exist_ok=True)
    blend, png = out / "demo.blend", out / "demo.png"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend.resolve()))
    scene.render.filepath = str(png.resolve())
    bpy.ops.render.render(write_still=True)
    print(f"  wrote {blend} and {png}")
    return 0


def _camera_and_light(scene: bpy.types.Scene, step: float, parts: int) -> None:
    cam = bpy.data.cameras.new("demo camera")
    cam.type = "ORTHO"
    cam.ortho_scale = step * 2 * parts * 1.1
    obj = bpy.data.objects.new("demo camera", cam)
    scene.collection.objects.link(obj)
    target = Vector(((2 * parts - 1) * step / 2, 0, 0))
    obj.location = target + Vector((0.25, -1.0, 0.7)) * step * 4
    obj.rotation_euler = (target - obj.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = obj
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light = "STUDIO"
    scene.display.shading.color_type = "OBJECT"
    scene.display.shading.show_cavity = True
    scene.render.resolution_x, scene.render.resolution_y = 320 * 2 * parts, 600


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]))
