"""Helpers for the add-on tests: measure evaluated meshes, add and select input objects, drain messages."""

from __future__ import annotations

import time

import bmesh
import bpy


def evaluated(obj):
    """(volume, bbox min, bbox max, non-manifold edge count) of an object's evaluated mesh, in world space."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    ev = obj.evaluated_get(depsgraph)
    mesh = ev.to_mesh()
    try:
        bm = bmesh.new()
        bm.from_mesh(mesh)
        bm.transform(ev.matrix_world)
        volume = bm.calc_volume(signed=True)
        open_edges = sum(1 for e in bm.edges if not e.is_manifold)
        pts = [v.co for v in bm.verts]
        lo = tuple(min(p[i] for p in pts) for i in range(3)) if pts else (0.0,) * 3
        hi = tuple(max(p[i] for p in pts) for i in range(3)) if pts else (0.0,) * 3
        bm.free()
    finally:
        ev.to_mesh_clear()
    return volume, lo, hi, open_edges


def add_mesh_object(name: str, verts, faces, matrix=None):
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    if matrix is not None:
        obj.matrix_world = matrix
    return obj


def add_cube(name: str = "Part", size: float = 1.0, matrix=None):
    s = size / 2
    verts = [(x, y, z) for x in (-s, s) for y in (-s, s) for z in (-s, s)]
    faces = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return add_mesh_object(name, verts, faces, matrix)


def select(*objs) -> None:
    """Select exactly ``objs``; the first is active."""
    for obj in bpy.context.scene.objects:
        obj.select_set(obj in objs)
    bpy.context.view_layer.objects.active = objs[0] if objs else None


def drain(timeout: float = 30.0, until=None) -> None:
    """Stand in for the add-on's timer (timers never fire in headless bpy): poll until ``until()`` holds
    (default: the add-on is no longer busy)."""
    from blender_addon import poll_once
    from blender_addon.state import STATE

    done = until or (lambda: not STATE.busy)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        poll_once()
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out; stage {STATE.stage!r}, error {STATE.last_error!r}")
