"""build_program: golden programs → evaluated solids with the analytic volume and bounding box; live edits."""

from __future__ import annotations

import json
import math

import bmesh
import bpy
import pytest
from addon_helpers import evaluated
from golden_programs import GOLDEN, plate_hole_fillet, plate_pocket, ten_features
from mathutils import Matrix, Vector

from blender_addon import build, nodes
from blender_addon.sketch import ProgramError

VOLUME_RTOL = 0.01


def _bbox_close(lo, hi, expected, size: float) -> bool:
    tol = 2e-3 * size
    return all(abs(a - b) <= tol for a, b in zip((*lo, *hi), (*expected[0], *expected[1])))


def _modifier_input(obj, name: str):
    ids = nodes.input_identifiers(obj.modifiers[build.EXTRUDE_MODIFIER].node_group)
    return obj.modifiers[build.EXTRUDE_MODIFIER], ids[name]


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_golden_volume_and_bbox(case):
    program, volume, bbox = GOLDEN[case]()
    coll = build.build_program(program, name=case)
    result = build.result_object(coll)
    got, lo, hi, open_edges = evaluated(result)
    assert got == pytest.approx(volume, rel=VOLUME_RTOL)
    size = max(b - a for a, b in zip(*bbox))
    assert _bbox_close(lo, hi, bbox, size), (lo, hi, bbox)
    assert open_edges == 0


def test_ten_features_volume():
    coll = build.build_program(ten_features())
    # plate - 4 through holes - 3 pockets + boss clipped by the intersect box at z = 2.2
    expected = 10 * 4 * 1 - 4 * math.pi * 0.16 - 3 * 2 * 1.3 * 0.4 + math.pi * 0.25 * 1.2
    volume, lo, hi, _ = evaluated(build.result_object(coll))
    assert volume == pytest.approx(expected, rel=VOLUME_RTOL)
    assert hi[2] == pytest.approx(2.2, abs=1e-4)


def test_layout_properties_and_modifiers():
    program, _, _ = plate_pocket()
    coll = build.build_program(program, name="Pocket")
    result = build.result_object(coll)
    feats = sorted((o for o in coll.objects if build.FEATURE_KEY in o), key=lambda o: o[build.INDEX_KEY])
    assert [json.loads(o[build.FEATURE_KEY]) for o in feats] == program["features"]
    assert json.loads(result[build.PROGRAM_KEY]) == program == json.loads(coll[build.PROGRAM_KEY])
    assert result is feats[0] and result.display_type != "WIRE" and not result.hide_render
    cutter = feats[1]
    assert cutter.type == "MESH" and cutter.display_type == "WIRE" and cutter.hide_render
    booleans = [m for m in result.modifiers if m.type == "BOOLEAN"]
    assert [(m.operation, m.object) for m in booleans] == [("DIFFERENCE", cutter)]
    solvers = [e.identifier for e in bpy.types.BooleanModifier.bl_rna.properties["solver"].enum_items]
    assert booleans[0].solver == build.boolean_solver() and booleans[0].solver in solvers
    # one shared node group; the cutter's extent: two_sides [-0.2, 0.1]
    assert {o.modifiers[build.EXTRUDE_MODIFIER].node_group for o in feats} == {nodes.extrude_group()}
    mod, d1 = _modifier_input(cutter, nodes.INPUT_D1)
    _, d2 = _modifier_input(cutter, nodes.INPUT_D2)
    assert (mod[d1], mod[d2]) == pytest.approx((0.1, 0.2))
    # the sketch mesh holds loops as edges only, on the plane z = 0.5 (in world space)
    assert len(cutter.data.polygons) == 0 and len(cutter.data.edges) == len(cutter.data.vertices) == 4
    bpy.context.view_layer.update()
    assert {round((cutter.matrix_world @ v.co).z, 6) for v in cutter.data.vertices} == {0.5}


def test_node_group_is_versioned_and_shared():
    build.build_program(plate_pocket()[0])
    build.build_program(plate_hole_fillet()[0])
    groups = [g for g in bpy.data.node_groups if g.name.startswith(nodes.GROUP_NAME)]
    assert len(groups) == 1 and groups[0][nodes.VERSION_KEY] == nodes.GROUP_VERSION
    groups[0][nodes.VERSION_KEY] = nodes.GROUP_VERSION - 1  # a stale group is rebuilt in place
    groups[0].nodes.clear()
    assert nodes.extrude_group() is groups[0] and len(groups[0].nodes) > 10
    assert groups[0][nodes.VERSION_KEY] == nodes.GROUP_VERSION
    assert set(nodes.input_identifiers(groups[0])) >= {nodes.INPUT_D1, nodes.INPUT_D2, nodes.INPUT_SYMMETRIC}


def test_edit_distance_changes_volume():
    program, volume, _ = plate_hole_fillet()
    result = build.result_object(build.build_program(program))
    mod, d1 = _modifier_input(result, nodes.INPUT_D1)
    mod[d1] = 0.5  # 0.25 → 0.5: twice the volume
    result.update_tag()
    assert evaluated(result)[0] == pytest.approx(2 * volume, rel=VOLUME_RTOL)


def test_edit_cutter_depth_and_symmetric_flag():
    program, volume, _ = plate_pocket()
    coll = build.build_program(program)
    result = build.result_object(coll)
    cutter = next(o for o in coll.objects if o.get(build.INDEX_KEY) == 1)
    mod, d2 = _modifier_input(cutter, nodes.INPUT_D2)
    mod[d2] = 0.3  # pocket 0.1 deeper over 1 x 1
    cutter.update_tag()
    assert evaluated(result)[0] == pytest.approx(volume - 0.1, rel=1e-4)
    _, sym = _modifier_input(cutter, nodes.INPUT_SYMMETRIC)
    mod[sym] = True  # [-0.1, 0.1] around z = 0.5: 0.1 deep
    cutter.update_tag()
    assert evaluated(result)[0] == pytest.approx(2.0 - 0.1, rel=1e-4)


def test_move_sketch_vertex_in_edit_mode():
    program, volume, _ = plate_pocket()
    result = build.result_object(build.build_program(program))
    bpy.context.view_layer.objects.active = result
    result.select_set(True)
    bpy.ops.object.mode_set(mode="EDIT")
    bm = bmesh.from_edit_mesh(result.data)
    corner = next(v for v in bm.verts if (v.co - Vector((2, 2, 0))).length < 1e-9)
    corner.co.x = 3.0  # the outer quad gains a 1 x 2 triangle
    bmesh.update_edit_mesh(result.data)
    got, lo, hi, _ = evaluated(result)
    assert hi[0] == pytest.approx(3.0, abs=1e-5)
    assert got == pytest.approx(
        volume + 0.5 * 1 * 2 * 0.5, rel=1e-4
    )  # pocket still cut (booleans shown in edit mode)
    bpy.ops.object.mode_set(mode="OBJECT")
    assert evaluated(result)[0] == pytest.approx(volume + 0.5, rel=1e-4)


def test_world_matrix_overlays_input_frame():
    program, volume, bbox = plate_pocket()
    matrix = Matrix.Translation((5, -1, 2)) @ Matrix.Rotation(math.pi / 2, 4, "Z") @ Matrix.Scale(2, 4)
    coll = build.build_program(program, matrix_world=matrix)
    got, lo, hi, _ = evaluated(build.result_object(coll))
    assert got == pytest.approx(8 * volume, rel=VOLUME_RTOL)
    corners = [matrix @ Vector((x, y, z)) for x in (0, 2) for y in (0, 2) for z in (0, 0.5)]
    assert lo == pytest.approx(tuple(min(c[i] for c in corners) for i in range(3)), abs=1e-4)
    assert hi == pytest.approx(tuple(max(c[i] for c in corners) for i in range(3)), abs=1e-4)


def test_non_uniform_scale_is_kept():
    program, volume, _ = plate_pocket()
    matrix = Matrix.Diagonal((1.0, 2.0, 3.0, 1.0))
    got, lo, hi, _ = evaluated(build.result_object(build.build_program(program, matrix_world=matrix)))
    assert got == pytest.approx(6 * volume, rel=VOLUME_RTOL)
    assert hi == pytest.approx((2.0, 4.0, 1.5), abs=1e-4)


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"format": "cadprog/0", "features": []}, "format"),
        ({"format": "cadprog/1", "features": [{"operation": "melt"}]}, "operation"),
        ("not a dict", "object"),
    ],
)
def test_bad_program_raises_readable_error_and_leaves_nothing(bad, words):
    before = (len(bpy.data.objects), len(bpy.data.collections), len(bpy.data.meshes))
    with pytest.raises(ProgramError, match=words):
        build.build_program(bad)
    assert (len(bpy.data.objects), len(bpy.data.collections), len(bpy.data.meshes)) == before


def test_program_without_material_is_refused():
    program, _, _ = plate_pocket()
    program["features"] = program["features"][1:]  # only the cut
    with pytest.raises(build.BuildError, match="adds material"):
        build.build_program(program)
    assert len(bpy.data.collections) == 0
