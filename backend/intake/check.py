"""Input validation: a checked copy of the user's mesh, or an ``InputMeshError`` that says why not."""

from __future__ import annotations

import numpy as np
import trimesh

from backend.geometry.mesh_io import MeshError, mesh_from_arrays

MAX_TRIANGLES = 2_000_000  # larger inputs are refused (decimate them first)
FLAT_TOLERANCE = 1e-6  # smallest bounding-box extent relative to the largest: below it the mesh is flat


class InputMeshError(ValueError):
    """The input mesh cannot be reconstructed; the message says why and what to do."""


def check_input_mesh(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """A checked copy of ``mesh`` (the input is never modified); raises ``InputMeshError``."""
    if not isinstance(mesh, trimesh.Trimesh):
        raise InputMeshError(f"expected a triangle mesh (trimesh.Trimesh), got {type(mesh).__name__}")
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
    extents = checked.extents
    largest = float(np.max(extents))
    flat = [ax for ax, e in zip("XYZ", extents) if e <= FLAT_TOLERANCE * largest]
    if flat:
        raise InputMeshError(
            f"flat mesh: its bounding box has no thickness along {', '.join(flat)}"
            f" (extents {', '.join(f'{e:.4g}' for e in extents)}); a sketch-and-extrude part needs volume"
        )
    return checked
