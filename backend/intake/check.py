"""Input validation: a checked copy of the user's mesh, or an ``InputMeshError`` that says why not."""

from __future__ import annotations

import numpy as np
import trimesh

from backend.geometry.mesh_io import MAX_TRIANGLES, MeshError, mesh_from_arrays, points_from_array

FLAT_TOLERANCE = 1e-6  # smallest bounding-box extent relative to the largest: below it the mesh is flat


class InputMeshError(ValueError):
    """The input mesh cannot be reconstructed; the message says why and what to do."""


Geometry = trimesh.Trimesh | trimesh.PointCloud


def check_input_mesh(mesh: Geometry) -> Geometry:
    """A checked copy of ``mesh`` (the input is never modified); raises ``InputMeshError``.

    A triangle mesh stays one; a ``trimesh.PointCloud``, or a mesh with vertices and no faces, becomes a
    checked point cloud (at least ``mesh_io.MIN_POINTS`` distinct finite points)."""
    if isinstance(mesh, trimesh.PointCloud) or (
        isinstance(mesh, trimesh.Trimesh) and len(mesh.faces) == 0 and len(mesh.vertices) > 0
    ):
        try:
            cloud = points_from_array(mesh.vertices)
        except MeshError as exc:
            raise InputMeshError(f"invalid point cloud: {exc}") from None
        _check_thickness(cloud.extents, "point cloud")
        return cloud
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputMeshError(
            f"expected a triangle mesh or point cloud (trimesh.Trimesh / PointCloud), got {type(mesh).__name__}"
        )
    n_faces = len(mesh.faces)
    if n_faces == 0 or len(mesh.vertices) == 0:
        raise InputMeshError("empty mesh: it has no triangles")
    if n_faces > MAX_TRIANGLES:
        raise InputMeshError(
            f"mesh too large: {n_faces:,} triangles; the limit is MAX_TRIANGLES = {MAX_TRIANGLES:,}"
            " (decimate it first)"
        )
    try:
        checked = mesh_from_arrays(mesh.vertices, mesh.faces)
    except MeshError as exc:
        raise InputMeshError(f"invalid mesh: {exc}") from None
    _check_thickness(checked.extents, "mesh")
    return checked


def _check_thickness(extents: np.ndarray, what: str) -> None:
    largest = float(np.max(extents))
    flat = [ax for ax, e in zip("XYZ", extents) if e <= FLAT_TOLERANCE * largest]
    if flat:
        raise InputMeshError(
            f"flat {what}: its bounding box has no thickness along {', '.join(flat)}"
            f" (extents {', '.join(f'{e:.4g}' for e in extents)}); a sketch-and-extrude part needs volume"
        )
