"""Meshes on the wire: packed base64 arrays and uploaded files <-> checked ``trimesh.Trimesh`` (or a
``trimesh.PointCloud``: ``face_count`` 0 with a vertex buffer, or a PLY/OBJ/XYZ file without faces).

Everything that can be checked cheaply at submission is checked here (counts, base64,
finiteness, face indices, emptiness, zero area, size, and the pipeline's own input check,
``check_input_mesh``: triangles, flatness) and raises ``MeshError`` with a message that names the problem.
"""

from __future__ import annotations

import base64
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np
import trimesh

from backend.geometry.mesh_io import MeshError, load_mesh, mesh_from_arrays, points_from_array
from backend.intake.check import InputMeshError, check_input_mesh
from backend.server.schema import (
    MAX_COORDINATE,
    MAX_VERTICES,
    UPLOAD_FORMATS,
    MeshData,
    MeshPayload,
)


def _decode(text: str, field: str, count: int, count_field: str, dtype: str, what: str) -> np.ndarray:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise MeshError(f"mesh.{field} is not valid base64: {exc}") from None
    if len(raw) % 12:
        raise MeshError(f"mesh.{field} holds {len(raw)} bytes, not a whole number of {what} (12 bytes each)")
    if len(raw) != 12 * count:
        raise MeshError(
            f"mesh.{count_field} is {count} but mesh.{field} holds {len(raw) // 12} {what} ({len(raw)} bytes)"
        )
    return np.frombuffer(raw, dtype=dtype).reshape(-1, 3)


def decode_mesh(payload: MeshPayload) -> trimesh.Trimesh | trimesh.PointCloud:
    """The checked mesh of a submission (a point cloud when ``face_count`` is 0); raises ``MeshError``."""
    v = _decode(
        payload.vertices, "vertices", payload.vertex_count, "vertex_count", "<f4", "float32 xyz triples"
    )
    f = _decode(payload.faces, "faces", payload.face_count, "face_count", "<i4", "int32 index triples")
    if len(v) == 0:
        raise MeshError("empty mesh: no vertices")
    if np.all(np.isfinite(v)) and np.abs(v).max() > MAX_COORDINATE:
        raise MeshError(
            f"coordinates too large: up to {np.abs(v).max():.3g} in magnitude (the limit is {MAX_COORDINATE:g});"
            " rescale the mesh"
        )
    if len(f) == 0:  # a point cloud: vertices only
        return check_mesh(points_from_array(v, "the point cloud"))
    return check_mesh(mesh_from_arrays(v, f))


def check_mesh(mesh: trimesh.Trimesh | trimesh.PointCloud) -> trimesh.Trimesh | trimesh.PointCloud:
    """The server's vertex limit, then the pipeline's input check (``check_input_mesh``: size, flatness);
    returns the checked mesh."""
    if len(mesh.vertices) > MAX_VERTICES:
        raise MeshError(f"too many vertices: {len(mesh.vertices):,} (the limit is {MAX_VERTICES:,})")
    try:
        return check_input_mesh(mesh)
    except InputMeshError as exc:
        raise MeshError(str(exc)) from None


def encode_mesh(mesh: trimesh.Trimesh) -> MeshData:
    """Packed little-endian float32 vertices and int32 faces."""
    v = np.ascontiguousarray(mesh.vertices, dtype="<f4")
    f = np.ascontiguousarray(mesh.faces, dtype="<i4")
    return MeshData(
        vertices=base64.b64encode(v.tobytes()).decode("ascii"),
        faces=base64.b64encode(f.tobytes()).decode("ascii"),
        vertex_count=len(v),
        face_count=len(f),
    )


def encode_arrays(vertices: np.ndarray, faces: np.ndarray) -> dict[str, object]:
    """A ``MeshPayload`` dict for arrays (what a client sends)."""
    v = np.ascontiguousarray(vertices, dtype="<f4")
    f = np.ascontiguousarray(faces, dtype="<i4")
    return {
        "vertices": base64.b64encode(v.tobytes()).decode("ascii"),
        "faces": base64.b64encode(f.tobytes()).decode("ascii"),
        "vertex_count": len(v),
        "face_count": len(f),
    }


def load_upload(stream: BinaryIO, filename: str) -> trimesh.Trimesh:
    """The checked mesh of an uploaded file; the format comes from the file name's extension."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename or "").name)[-100:] or "upload"
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in UPLOAD_FORMATS:
        raise MeshError(
            f"unsupported upload {filename!r}: the file name must end in one of "
            + ", ".join(f".{e}" for e in UPLOAD_FORMATS)
        )
    with tempfile.TemporaryDirectory(prefix="mesh2cad-upload-") as tmp:
        path = Path(tmp) / name
        with path.open("wb") as out:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
        try:
            return check_mesh(load_mesh(path))
        except MeshError as exc:
            raise MeshError(str(exc).replace(str(path), name)) from None
