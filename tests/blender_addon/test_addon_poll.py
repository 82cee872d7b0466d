"""poll_once: queued worker messages are applied on the main thread; the input is never modified."""

from __future__ import annotations

import json

import bpy
import pytest
from addon_helpers import add_cube, add_mesh_object, evaluated
from golden_programs import plate_pocket
from mathutils import Matrix

from blender_addon import build, poll_once
from blender_addon.meshdata import decode_mesh, mesh_payload
from blender_addon.poll import SCORES_KEY
from blender_addon.state import STATE, Failed, Finished, JobItem, Progress, ServerReady, TaskDone


def _snapshot(obj) -> tuple:
    return (
        obj.name,
        [tuple(v.co) for v in obj.data.vertices],
        [tuple(p.vertices) for p in obj.data.polygons],
        [tuple(r) for r in obj.matrix_world],
        len(obj.modifiers),
        obj.data.name,
        obj.data.users,
        [c.name for c in obj.users_collection],
        set(obj.keys()),
        obj.hide_get(),
        obj.parent,
        len(obj.children),
    )


def _finished(obj, program: dict, scores: dict | None = None) -> Finished:
    mesh = mesh_payload(obj, bpy.context.evaluated_depsgraph_get())
    item = JobItem(obj.name, mesh, tuple(tuple(r) for r in obj.matrix_world))
    result = {"program": program, "scores": scores or {"cd": 0.002, "iou": 0.95}, "timings": {"total": 2.5}}
    return Finished(item, result, seconds=3.0)


def test_poll_once_applies_a_finished_job_over_the_input():
    matrix = Matrix.Translation((1, 2, 3)) @ Matrix.Scale(0.5, 4)
    part = add_cube("Part", matrix=matrix)
    before = _snapshot(part)
    program, volume, _ = plate_pocket()
    STATE.busy = True
    STATE.messages.put(ServerReady({"status": "ok", "model": "m", "decoders": ["ar", "unmask"]}))
    STATE.messages.put(Progress("Part", 0.4, "decoding"))
    assert poll_once() == 2
    assert (STATE.current, STATE.progress, STATE.stage) == ("Part", 0.4, "decoding")
    assert STATE.decoders() == ["ar", "unmask"]

    STATE.messages.put(_finished(part, program))
    STATE.messages.put(TaskDone())
    assert poll_once() == 2
    assert not STATE.busy and STATE.last_error == ""
    coll = bpy.data.collections["Part CAD"]
    assert STATE.last_result == {
        "source": "Part",
        "collection": "Part CAD",
        "cd": 0.002,
        "iou": 0.95,
        "seconds": 2.5,
        "features": 2,
        "note": "",
    }
    assert json.loads(coll[SCORES_KEY]) == {"cd": 0.002, "iou": 0.95}
    got, lo, hi, _ = evaluated(build.result_object(coll))
    assert got == pytest.approx(volume * 0.125, rel=0.01)  # placed under the input's matrix (scale 0.5)
    assert lo == pytest.approx((1, 2, 3), abs=1e-5) and hi == pytest.approx((2, 3, 3.25), abs=1e-5)
    assert _snapshot(part) == before


def test_poll_once_keeps_the_backends_note_on_the_input():
    part = add_cube("Part")
    program, _, _ = plate_pocket()
    note = "3 holes in the surface filled for fitting and scoring (closed); the input is unchanged"
    STATE.messages.put(_finished(part, program, {"cd": 0.002, "iou": 0.95, "input_note": note}))
    assert poll_once() == 1
    assert STATE.last_result["note"] == note


def test_poll_once_with_unbuildable_program_stores_the_error():
    part = add_cube("Part")
    STATE.messages.put(_finished(part, {"format": "cadprog/1", "features": []}))
    assert poll_once() == 1
    assert "cannot be built" in STATE.last_error and STATE.last_hint
    assert "Part CAD" not in bpy.data.collections


def test_failed_message_sets_last_error_and_task_done_clears_busy():
    STATE.busy = True
    STATE.messages.put(Failed("the backend is not reachable", "press Start Backend"))
    STATE.messages.put(TaskDone(cancelled=True))
    poll_once()
    assert (STATE.last_error, STATE.last_hint) == ("the backend is not reachable", "press Start Backend")
    assert not STATE.busy and STATE.stage == "cancelled"
    assert poll_once() == 0


def test_pieces_joined_into_one_object_reach_the_backend_as_closed_pieces_it_unites():
    """An artist's part: two cubes joined into one object (Ctrl+J), one sunk halfway into the other, their
    side faces flush; the payload keeps them apart by index and the intake unites them into one solid."""
    from backend.geometry.mesh_io import mesh_from_arrays
    from backend.intake.meshes import mesh_for_fitting

    corners = [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    verts = corners + [(x + 1, y, z) for x, y, z in corners]
    part = add_mesh_object("Pieces", verts, quads + [tuple(i + 8 for i in q) for q in quads])
    verts, faces = decode_mesh(mesh_payload(part, bpy.context.evaluated_depsgraph_get()))
    solid, _, note = mesh_for_fitting(mesh_from_arrays(verts, faces))
    assert solid.is_watertight and solid.volume == pytest.approx(12.0)
    assert note == "2 closed pieces united where they overlap or touch; the input is unchanged"

    part = add_cube("Part", size=2.0)
    payload = mesh_payload(part, bpy.context.evaluated_depsgraph_get())
    assert (payload["vertex_count"], payload["face_count"]) == (8, 12)
    verts, faces = decode_mesh(payload)
    assert sorted(verts) == sorted(tuple(v.co) for v in part.data.vertices)
    assert all(0 <= i < 8 for f in faces for i in f)
    empty = bpy.data.objects.new("Empty mesh", bpy.data.meshes.new("e"))
    bpy.context.scene.collection.objects.link(empty)
    with pytest.raises(ValueError, match="no vertices"):
        mesh_payload(empty, bpy.context.evaluated_depsgraph_get())
    cloud_mesh = bpy.data.meshes.new("pts")
    cloud_mesh.from_pydata([(0.1 * i, 0.02 * i * i, 0.3 * (i % 3)) for i in range(80)], [], [])
    cloud = bpy.data.objects.new("Points", cloud_mesh)
    bpy.context.scene.collection.objects.link(cloud)
    payload = mesh_payload(cloud, bpy.context.evaluated_depsgraph_get())  # vertices only: sent as points
    assert (payload["vertex_count"], payload["face_count"]) == (80, 0)
    assert len(decode_mesh(payload)[0]) == 80
