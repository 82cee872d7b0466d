"""Mesh files and arrays -> checked ``trimesh.Trimesh`` (STL, OBJ, PLY, GLB/GLTF, OFF), and point clouds
(PLY/OBJ/OFF with vertices and no faces, XYZ text) -> checked ``trimesh.PointCloud``.

Every way a mesh can be unusable raises ``MeshError`` with a message fit for the user:
missing file, unknown or unreadable format, no faces, non-finite vertices, face indices
out of range, zero surface area. Inputs are never modified: arrays are copied.

Files are checked before they are parsed (``readers.precheck``: STL/PLY/OFF headers, OBJ face
lines; ``gltf``: the scene graph), so a file declaring more than ``max_triangles`` triangles is
refused before any array is built. GLB/GLTF and OBJ files with relative indices have their own
readers; everything else goes through trimesh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from backend.geometry.convert import corner_pieces, proper_faces
from backend.geometry.errors import MeshError  # defined once; importers use it from here too

SUPPORTED_FORMATS = ("stl", "obj", "ply", "glb", "gltf", "off", "xyz")
MESH_FORMATS = ("stl", "obj", "ply", "glb", "gltf", "off")  # what save_mesh writes
MIN_POINTS = 64  # a point cloud needs at least this many distinct points
MAX_POINTS = 2_000_000
MAX_TRIANGLES = 2_000_000  # files declaring more are refused before parsing (decimate them first)
_FAR_FROM_ORIGIN = 1e-6  # vertex spread below this fraction of the coordinates' size: precision lost


def points_from_array(vertices: object, what: str = "the point cloud") -> trimesh.PointCloud:
    """A checked point cloud from (n, 3) points (copied; exact duplicates dropped)."""
    try:
        v = np.array(vertices, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise MeshError(f"points must be a numeric array: {exc}") from None
    if v.ndim != 2 or v.shape[1] != 3:
        raise MeshError(f"points must have shape (n, 3), got {v.shape}")
    if not np.isfinite(v).all():
        raise MeshError(f"{what} has non-finite (NaN or infinite) coordinates")
    if len(v) > MAX_POINTS:
        raise MeshError(f"too many points: {len(v):,} (the limit is {MAX_POINTS:,}); subsample them first")
    v = np.unique(v, axis=0)
    if len(v) < MIN_POINTS:
        raise MeshError(
            f"empty mesh: {what} has no faces and only {len(v)} distinct points;"
            f" a point cloud needs at least {MIN_POINTS}"
        )
    return trimesh.PointCloud(v)


def require_faces(n_faces: int, what: str) -> None:
    """The one check that refuses a mesh without faces (relax it here to accept point clouds)."""
    if n_faces == 0:
        raise MeshError(f"empty mesh: {what} has no faces")


def _precision_hint(v: np.ndarray) -> str:
    reach, spread = float(np.abs(v).max()), float(np.ptp(v, axis=0).max())
    if reach == 0 or spread > _FAR_FROM_ORIGIN * reach:
        return ""
    step = float(np.spacing(np.float32(reach)))
    return (
        f"; its vertices lie within {spread:.3g} of each other about {reach:.3g} from the origin, where"
        f" 32-bit floats (STL, GLB, the server's wire format) step by {step:.3g}: move the part near"
        " the origin before exporting it"
    )


def mesh_from_arrays(vertices: object, faces: object) -> trimesh.Trimesh:
    """A checked mesh from (n, 3) vertices and (m, 3) triangle indices (copies; vertices merged: ``_merged``)."""
    try:
        v = np.array(vertices, dtype=np.float64, copy=True)
        f = np.array(faces, copy=True)
    except (TypeError, ValueError) as exc:
        raise MeshError(f"vertices and faces must be numeric arrays: {exc}") from None
    if v.ndim != 2 or v.shape[1] != 3:
        raise MeshError(f"vertices must have shape (n, 3), got {v.shape}")
    if f.size == 0:
        require_faces(0, "the mesh")
    if f.ndim != 2 or f.shape[1] != 3:
        raise MeshError(f"faces must have shape (m, 3) (triangles), got {f.shape}")
    if not np.issubdtype(f.dtype, np.integer):
        if not np.issubdtype(f.dtype, np.floating) or not np.all(np.isfinite(f)) or np.any(f != np.round(f)):
            raise MeshError("face indices must be integers")
        f = f.astype(np.int64)
    f = f.astype(np.int64)
    if len(v) == 0:
        raise MeshError("empty mesh: no vertices")
    if not np.all(np.isfinite(v)):
        bad = int(np.count_nonzero(~np.all(np.isfinite(v), axis=1)))
        raise MeshError(f"{bad} vertices have non-finite coordinates (NaN or inf)")
    lo, hi = int(f.min()), int(f.max())
    if lo < 0 or hi >= len(v):
        raise MeshError(f"face indices out of range: found {lo}..{hi} for {len(v)} vertices")
    mesh = _merged(v, f)
    if len(mesh.faces) == 0 or not mesh.area > 0:
        raise MeshError("degenerate mesh: all faces have zero area" + _precision_hint(v))
    return mesh


MAX_PIECES = 256  # closed pieces kept apart at most (more: one surface, as a triangle soup is)


def _closed(mesh: trimesh.Trimesh) -> bool:
    """Whether ``mesh`` is closed, a face with a corner twice (collapsed by the merge) left out."""
    f = np.asarray(mesh.faces)
    return trimesh.Trimesh(mesh.vertices, f[proper_faces(f)], process=False).is_watertight


def _merged(v: np.ndarray, f: np.ndarray) -> trimesh.Trimesh:
    """The mesh with its coinciding vertices merged; closed pieces the indices keep apart (each closed on its
    own: primitives placed into or onto each other, as a modeller leaves them) merged each on its own, so
    that where they overlap or touch, their faces are not sewn into one non-manifold surface
    (``intake.shells`` unites them). A triangle soup (an STL file) or an open piece: all merged as one."""
    pieces = corner_pieces(len(v), f)
    if 2 <= pieces.max() + 1 <= MAX_PIECES:
        order = np.argsort(pieces, kind="stable")
        bounds = np.searchsorted(pieces[order], np.arange(pieces.max() + 2))
        parts = []
        for k in range(pieces.max() + 1):
            own = f[order[bounds[k] : bounds[k + 1]]]
            used, inverse = np.unique(own, return_inverse=True)  # the piece's own vertices
            parts.append(trimesh.Trimesh(vertices=v[used], faces=inverse.reshape(-1, 3), process=True))
        if all(_closed(part) for part in parts):
            return trimesh.util.concatenate(parts)
    return trimesh.Trimesh(vertices=v, faces=f, process=True)


def load_mesh(path: str | Path, max_triangles: int = MAX_TRIANGLES) -> trimesh.Trimesh | trimesh.PointCloud:
    """Load a mesh file (scenes are merged into one mesh) and check it like ``mesh_from_arrays``; a file
    with vertices and no faces (or an XYZ file) is a point cloud, checked like ``points_from_array``.

    Files declaring more than ``max_triangles`` triangles are refused before they are parsed.
    """
    from backend.geometry.gltf import read_gltf
    from backend.geometry.readers import obj_has_relative_indices, precheck, read_obj

    p = Path(path)
    if not p.is_file():
        raise MeshError(f"mesh file not found: {p}")
    ext = p.suffix.lower().lstrip(".")
    if ext not in SUPPORTED_FORMATS:
        raise MeshError(
            f"unsupported mesh format {p.suffix!r} for {p.name}; use one of {', '.join(SUPPORTED_FORMATS)}"
        )
    if p.stat().st_size == 0:
        raise MeshError(f"mesh file is empty: {p}")
    if ext == "xyz":
        return points_from_array(_read_xyz(p), p.name)
    precheck(p, ext, max_triangles)
    if ext in ("glb", "gltf"):
        vertices, faces = read_gltf(p, max_triangles)
    elif ext == "obj" and obj_has_relative_indices(p):
        vertices, faces = read_obj(p)
    else:
        vertices, faces = _trimesh_arrays(p, ext)
    if len(faces) == 0 and len(vertices) > 0:
        return points_from_array(vertices, p.name)
    require_faces(len(faces), p.name)
    if len(faces) > max_triangles:
        raise MeshError(f"too many triangles: {p.name} holds {len(faces):,} (the limit is {max_triangles:,})")
    try:
        return mesh_from_arrays(vertices, faces)
    except MeshError as exc:
        raise MeshError(f"{p.name}: {exc}") from None


def _trimesh_arrays(p: Path, ext: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        loaded = trimesh.load(str(p), file_type=ext, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many kinds of errors on bad files
        raise MeshError(f"cannot read {p.name} as {ext.upper()}: {type(exc).__name__}: {exc}") from None
    if isinstance(loaded, trimesh.Scene):  # force="mesh" on an empty scene
        loaded = loaded.to_geometry() if loaded.geometry else trimesh.Trimesh()
    if isinstance(loaded, trimesh.Trimesh) and len(loaded.vertices) == 0:
        # force="mesh" turns a file of vertices without faces (a PLY or OBJ point cloud) into an empty
        # mesh: read it again as what it is
        try:
            loaded = trimesh.load(str(p), file_type=ext, process=False)
        except Exception as exc:  # trimesh raises many kinds of errors on bad files
            raise MeshError(f"cannot read {p.name} as {ext.upper()}: {type(exc).__name__}: {exc}") from None
    if isinstance(loaded, trimesh.PointCloud):  # vertices without faces
        return loaded.vertices, np.zeros((0, 3), dtype=np.int64)
    if isinstance(loaded, trimesh.Scene):  # read again without force: a scene with neither mesh nor points
        loaded = trimesh.Trimesh()
    if not isinstance(loaded, trimesh.Trimesh):
        raise MeshError(f"{p.name} holds no triangle mesh (got {type(loaded).__name__})")
    return loaded.vertices, loaded.faces


def _read_xyz(p: Path) -> np.ndarray:
    """Points of an XYZ text file: one point per line, the first three numbers (more columns ignored)."""
    rows = []
    try:
        with p.open("r", encoding="utf-8", errors="strict") as f:
            for k, line in enumerate(f, 1):
                parts = line.replace(",", " ").split()
                if not parts or parts[0].startswith("#"):
                    continue
                if len(parts) < 3:
                    raise MeshError(f"{p.name} line {k}: expected x y z, got {line.strip()[:60]!r}")
                rows.append([float(x) for x in parts[:3]])
                if len(rows) > MAX_POINTS:
                    raise MeshError(f"too many points in {p.name} (the limit is {MAX_POINTS:,})")
    except (UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, MeshError):
            raise
        raise MeshError(f"cannot read {p.name} as XYZ text: {exc}") from None
    return np.asarray(rows, dtype=np.float64).reshape(-1, 3)


def save_mesh(mesh: trimesh.Trimesh, path: str | Path) -> Path:
    """Write ``mesh`` in the format named by the file extension; returns the path."""
    p = Path(path)
    ext = p.suffix.lower().lstrip(".")
    if ext not in MESH_FORMATS:
        raise MeshError(f"unsupported mesh format {p.suffix!r}; use one of {', '.join(MESH_FORMATS)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(str(p), file_type=ext)
    return p
