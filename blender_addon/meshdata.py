"""Blender mesh → the server's wire form (base64 little-endian float32 xyz / int32 triangles)."""

from __future__ import annotations

import base64
import sys
from array import array
from typing import Any

import bpy


def mesh_payload(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> dict[str, Any]:
    """The evaluated mesh of ``obj`` (modifiers applied) in its local frame, triangulated; an object with
    vertices and no faces (a point cloud, e.g. an imported scan) is sent as points (``face_count`` 0).

    Raises ValueError when the object has no vertices. Reads only; the object is not changed.
    """
    evaluated = obj.evaluated_get(depsgraph)
    mesh = evaluated.to_mesh()
    try:
        mesh.calc_loop_triangles()
        n, m = len(mesh.vertices), len(mesh.loop_triangles)
        if n == 0:
            raise ValueError(f"{obj.name} has no vertices (no faces or points) to reconstruct")
        co = array("f", bytes(4 * 3 * n))
        tris = array("i", bytes(4 * 3 * m))
        mesh.vertices.foreach_get("co", co)
        mesh.loop_triangles.foreach_get("vertices", tris)
    finally:
        evaluated.to_mesh_clear()
    if tris.itemsize != 4 or co.itemsize != 4:
        raise RuntimeError("this platform has no 32-bit int/float arrays")
    if sys.byteorder == "big":
        co.byteswap()
        tris.byteswap()
    return {
        "vertices": base64.b64encode(co.tobytes()).decode("ascii"),
        "faces": base64.b64encode(tris.tobytes()).decode("ascii"),
        "vertex_count": n,
        "face_count": m,
    }


def decode_mesh(data: dict[str, Any]) -> tuple[list[tuple[float, float, float]], list[tuple[int, int, int]]]:
    """The inverse of :func:`mesh_payload` (vertices, triangles); used for the server's result mesh."""
    co = array("f", base64.b64decode(data["vertices"]))
    tris = array("i", base64.b64decode(data["faces"]))
    if sys.byteorder == "big":
        co.byteswap()
        tris.byteswap()
    verts = [tuple(co[k : k + 3]) for k in range(0, len(co), 3)]
    faces = [tuple(tris[k : k + 3]) for k in range(0, len(tris), 3)]
    return verts, faces  # type: ignore[return-value]
