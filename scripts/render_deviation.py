"""The README's deviation-map picture: a demo part's input coloured by its signed distance to its
reconstruction, rendered headless with Workbench, with the legend and the readout drawn below.

    .venv/bin/python -m backend reconstruct examples/bracket.stl --out-dir out/deviation
    .venv/bin/python scripts/render_deviation.py examples/bracket.stl out/deviation/bracket.json docs/deviation.png

Uses the add-on's own ``build.build_program`` and ``deviation.make_deviation`` (bpy from PyPI).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402
import trimesh  # noqa: E402
from mathutils import Vector  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from blender_addon import build, deviation  # noqa: E402

WIDTH, HEIGHT, LEGEND, LEGEND_WIDTH = 1200, 900, 150, 900


def render(input_path: Path, program_path: Path, out: Path) -> dict:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.unit_settings.system, scene.unit_settings.scale_length = "METRIC", 0.001  # the part is in mm
    mesh = trimesh.load(input_path, force="mesh")
    data = bpy.data.meshes.new(input_path.stem)
    data.from_pydata(mesh.vertices.tolist(), [], mesh.faces.tolist())
    source = bpy.data.objects.new(f"{input_path.stem} (input)", data)
    scene.collection.objects.link(source)
    coll = build.build_program(
        json.loads(program_path.read_text()), name=f"{input_path.stem} CAD", scene=scene
    )
    coll.hide_render = True
    bpy.context.view_layer.update()
    dev = deviation.make_deviation(source, build.result_object(coll))
    centre, size = Vector(mesh.bounds.mean(axis=0)), float(mesh.extents.max())
    cam = bpy.data.cameras.new("camera")
    cam.type, cam.ortho_scale = "ORTHO", size * 1.1
    cam_obj = bpy.data.objects.new("camera", cam)
    scene.collection.objects.link(cam_obj)
    cam_obj.location = centre + Vector((1.0, -1.2, 0.8)).normalized() * size * 3
    cam_obj.rotation_euler = (centre - cam_obj.location).to_track_quat("-Z", "Y").to_euler()
    scene.camera = cam_obj
    scene.render.engine = "BLENDER_WORKBENCH"
    shading = scene.display.shading
    shading.light, shading.show_cavity = "STUDIO", True
    types = {i.identifier for i in shading.bl_rna.properties["color_type"].enum_items}
    shading.color_type = "VERTEX" if "VERTEX" in types else "ATTRIBUTE"
    scene.render.resolution_x, scene.render.resolution_y = WIDTH, HEIGHT
    scene.render.film_transparent = True
    scene.view_settings.view_transform = "Standard"  # colours as the legend draws them
    with tempfile.TemporaryDirectory() as tmp:
        scene.render.filepath = str(Path(tmp) / "map.png")
        bpy.ops.render.render(write_still=True)
        rgba = Image.open(scene.render.filepath).convert("RGBA")
    left, top, right, bottom = rgba.getchannel("A").getbbox()  # crop to the part, with a margin
    m = 30
    rgba = rgba.crop((max(0, left - m), max(0, top - m), min(WIDTH, right + m), min(HEIGHT, bottom + m)))
    image = Image.new("RGB", (max(rgba.width, LEGEND_WIDTH), rgba.height), "white")
    image.paste(rgba, ((image.width - rgba.width) // 2, 0), rgba)
    info = deviation.info(dev)
    compose(image, info, input_path.stem).save(out)
    return info


def compose(image: Image.Image, info: dict, name: str) -> Image.Image:
    """The render with the legend below: the colour ramp, its ends and centre in mm, and the readout."""
    canvas = Image.new("RGB", (image.width, image.height + LEGEND), "white")
    canvas.paste(image, (0, 0))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=20)
    x0, x1, y0 = 80, image.width - 80, image.height + 20
    for x in range(x0, x1):
        r, g, b, _ = deviation.ramp_color((x - x0) / (x1 - x0 - 1))
        draw.line([(x, y0), (x, y0 + 28)], fill=tuple(int(255 * c ** (1 / 2.2)) for c in (r, g, b)))
    limit = info["limit"]
    for x, text in ((x0, f"-{limit:g} mm"), ((x0 + x1) // 2, "0"), (x1, f"+{limit:g} mm")):
        w = draw.textlength(text, font=font)
        draw.text((x - w / 2, y0 + 34), text, fill="black", font=font)
    draw.text((x0, y0 + 64), "inside the reconstruction (missing)", fill=(40, 60, 160), font=font)
    right = "outside (excess)"
    draw.text((x1 - draw.textlength(right, font=font), y0 + 64), right, fill=(170, 30, 30), font=font)
    readout = (
        f"{name}, input vs reconstruction:   max {info['max']:.3f} mm   mean {info['mean']:.3f} mm"
        f"   95 % {info['p95']:.3f} mm"
    )
    draw.text((x0, y0 + 96), readout, fill="black", font=font)
    return canvas


if __name__ == "__main__":
    stats = render(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    print(json.dumps({k: stats[k] for k in ("max", "mean", "p95", "limit", "count", "seconds")}))
