"""Add-on: STEP / CadQuery export through the backend, and the deviation map (signed distances,
statistics, legend, show / hide, units) in headless Blender."""

from __future__ import annotations

import json
import math
import os
import sys
from array import array
from pathlib import Path

import bpy
import pytest
from addon_helpers import add_cube, drain, select
from golden_programs import plate_pocket
from mathutils import Matrix

import blender_addon
from blender_addon import build, deviation, deviation_ui
from blender_addon.cad_export import LAST_EXPORT
from blender_addon.state import STATE

FAKE_BACKEND = Path(__file__).with_name("fake_backend.py")


@pytest.fixture
def addon():
    blender_addon.register()
    yield
    blender_addon.unregister()


@pytest.fixture
def backend_json(tmp_path):
    """backend.json names a 'python' that runs fake_backend.py (whose /v1/export is the real one)."""
    python = tmp_path / "python"
    python.write_text(
        f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(FAKE_BACKEND)!r}, run_name='__main__')\n"
    )
    python.chmod(0o755)
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "mesh2cad" / "backend.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"python": str(python), "written_by": "test"}))
    return tmp_path


def _reconstruction(program: dict, source: bpy.types.Object | None = None) -> bpy.types.Collection:
    coll = build.build_program(program, name="Part CAD", matrix_world=Matrix.Identity(4))
    if source is not None:
        coll[build.SOURCE_KEY] = source.name
    return coll


def test_export_step_and_cadquery_through_the_backend(addon, backend_json, tmp_path):
    pytest.importorskip("OCP")
    coll = _reconstruction(plate_pocket()[0])
    select(build.result_object(coll))
    step, script = tmp_path / "part.step", tmp_path / "part.py"
    assert bpy.ops.mesh2cad.export_step(filepath=str(step)) == {"FINISHED"}
    drain(120.0)
    assert not STATE.last_error, STATE.last_error
    text = step.read_text()
    assert text.startswith("ISO-10303-21;") and "MANIFOLD_SOLID_BREP" in text and "PRODUCT('part'" in text
    assert LAST_EXPORT["path"] == str(step)
    assert bpy.ops.mesh2cad.export_cadquery(filepath=str(script)) == {"FINISHED"}
    drain(120.0)
    assert (
        "import cadquery as cq" in script.read_text() and "part = part.cut(feature_2)" in script.read_text()
    )
    blender_addon.unregister()  # stops the backend it started
    blender_addon.register()


def test_export_without_a_reconstruction_reports(addon, tmp_path):
    assert bpy.ops.mesh2cad.export_step(filepath=str(tmp_path / "x.step")) == {"CANCELLED"}
    assert STATE.last_error == "no reconstruction to export"
    assert not (tmp_path / "x.step").exists()


def _box(name: str, half: tuple[float, float, float], at=(0.0, 0.0, 0.0)):
    bpy.ops.mesh.primitive_cube_add(size=2.0, location=at)
    obj = bpy.context.active_object
    obj.name = name
    obj.scale = half
    return obj


def test_signed_distances_of_a_box_in_a_box():
    """Scan: a 2.2 x 2 x 2 box over a 2 x 2 x 2 reference: the x = +-1.1 faces lie 0.1 outside, the
    others on the surface; the corners of x = +-1.1 are 0.1 away as well."""
    ref = _box("Ref", (1.0, 1.0, 1.0))
    scan = _box("Scan", (1.1, 1.0, 1.0))
    bpy.context.view_layer.update()
    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = deviation.world_mesh(ref, depsgraph)
    tree = deviation.surface_tree(mesh)
    scan_mesh = deviation.world_mesh(scan, depsgraph)
    d = deviation.signed_distances(scan_mesh, tree)
    assert all(abs(v - 0.1) < 1e-5 for v in d)  # every vertex of the scan box lies on x = +-1.1
    inner = _box("Inner", (0.9, 0.5, 0.5))
    bpy.context.view_layer.update()
    inner_mesh = deviation.world_mesh(inner, bpy.context.evaluated_depsgraph_get())
    assert all(abs(v + 0.1) < 1e-5 for v in deviation.signed_distances(inner_mesh, tree))  # inside: negative


def test_statistics_and_ramp():
    stats = deviation.statistics(array("f", [-3.0, 1.0, 2.0, float("nan")] + [0.0] * 17))
    assert stats["count"] == 20 and stats["max"] == 3.0 and stats["min_signed"] == -3.0
    assert math.isclose(stats["mean"], 6.0 / 20) and stats["p95"] == 2.0
    assert (
        deviation.nice_range(0.13) == 0.2
        and deviation.nice_range(0.5) == 0.5
        and deviation.nice_range(7) == 10
    )
    assert all(math.isclose(a, b) for a, b in zip(deviation.ramp_color(0.5), deviation.RAMP[2][1]))
    assert (
        deviation.ramp_color(-1) == deviation.RAMP[0][1] and deviation.ramp_color(2) == deviation.RAMP[-1][1]
    )


def test_deviation_map_operator_on_a_reconstruction(addon):
    """The input: the 2 x 2 x 0.5 plate_pocket solid scaled by 1.01 about its centre: the outer corners
    move (0.01, 0.01, 0.0025) outwards, so the map's max is their distance 0.01436; the readout and legend exist,
    the toggle swaps the map and the input, and the input object is never changed."""
    program, _, _ = plate_pocket()
    coll = _reconstruction(program)
    baked_mesh = deviation.world_mesh(build.result_object(coll), bpy.context.evaluated_depsgraph_get())
    scan = bpy.data.objects.new("Scan", baked_mesh)
    bpy.context.scene.collection.objects.link(scan)
    scan.matrix_world = (
        Matrix.Translation((1, 1, 0.25)) @ Matrix.Scale(1.01, 4) @ Matrix.Translation((-1, -1, -0.25))
    )
    coll[build.SOURCE_KEY] = scan.name
    before = [tuple(v.co) for v in scan.data.vertices]
    select(build.result_object(coll))
    assert deviation_ui.input_and_result(bpy.context) == (scan, build.result_object(coll))
    assert bpy.ops.mesh2cad.deviation_map(role="INPUT") == {"FINISHED"}
    dev = deviation.find_deviation("Scan")
    stats = deviation.info(dev)
    corner = math.sqrt(0.01**2 + 0.01**2 + 0.0025**2)
    assert math.isclose(stats["max"], corner, rel_tol=1e-3) and math.isclose(
        stats["max_signed"], corner, rel_tol=1e-3
    )
    assert 0.0 < stats["mean"] <= stats["p95"] <= stats["max"]
    assert stats["limit"] == 0.02 and stats["reference"] == build.result_object(coll).name
    assert dev.data.attributes[deviation.DISTANCE_ATTR].domain == "POINT"
    assert dev.data.color_attributes.active_color.name == deviation.COLOR_ATTR
    assert deviation.ramp_node(dev) is not None
    assert scan.hide_get() and deviation.is_visible(dev)
    assert deviation_ui.current_map(bpy.context) == dev
    assert bpy.ops.mesh2cad.deviation_toggle() == {"FINISHED"}
    assert not scan.hide_get() and not deviation.is_visible(dev)
    assert [
        tuple(v.co) for v in scan.data.vertices
    ] == before and "mesh2cad_distance" not in scan.data.attributes
    bpy.context.scene.unit_settings.system = "METRIC"
    bpy.context.scene.unit_settings.scale_length = 0.001
    assert deviation_ui.length_text(bpy.context, 2.0) == "2 mm"
    assert bpy.ops.mesh2cad.deviation_map(role="RESULT") == {"FINISHED"}
    assert deviation.find_deviation(build.result_object(coll).name) is not None
    assert bpy.ops.mesh2cad.deviation_remove() == {"FINISHED"}


def test_deviation_needs_a_pair(addon):
    add_cube("Lonely")
    select(bpy.data.objects["Lonely"])
    assert bpy.ops.mesh2cad.deviation_map() == {"CANCELLED"}


def test_densify_adds_vertices_on_the_same_surface():
    cube = _box("Sparse", (1.0, 1.0, 1.0))
    bpy.context.view_layer.update()
    mesh = deviation.world_mesh(cube, bpy.context.evaluated_depsgraph_get())
    deviation.densify(mesh, 20)  # edges <= diagonal (3.46) / 20
    assert len(mesh.vertices) > 500
    assert all(max(abs(c) for c in v.co) > 1 - 1e-6 for v in mesh.vertices)  # still on the cube's faces
    longest = max(
        (mesh.vertices[a].co - mesh.vertices[b].co).length for a, b in (e.vertices for e in mesh.edges)
    )
    assert longest <= 2 * math.sqrt(3) / 20 + 1e-6
