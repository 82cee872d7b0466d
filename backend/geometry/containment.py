"""Which points lie inside a closed triangle mesh: by the generalised winding number, the same answer in
every process (trimesh's ray test, ``Trimesh.contains``, answered a point on a program's solid one way
or the other from run to run, and the pipeline's choice with it)."""

from __future__ import annotations

import numpy as np
import trimesh

PAIRS_PER_CHUNK = 2_000_000  # point-triangle pairs measured at once (about 50 MB of float64 arrays)


def points_inside(mesh: trimesh.Trimesh, points: np.ndarray) -> np.ndarray:
    """(n,) bool: whether each of ``points`` (n, 3) lies inside ``mesh``, a closed surface wound outwards:
    the solid angles its triangles span seen from the point sum to 4 pi inside, 0 outside (van Oosterom
    and Strackee's formula per triangle); read at half of that. Points on the surface go either way."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces, dtype=np.int64)]
    out = np.zeros(len(p), dtype=bool)
    if len(tri) == 0 or len(p) == 0:
        return out
    step = max(1, PAIRS_PER_CHUNK // len(tri))
    for start in range(0, len(p), step):
        q = p[start : start + step, None, None, :]
        a, b, c = (tri[None, :, k, :] - q[:, :, 0, :] for k in range(3))
        la, lb, lc = (np.linalg.norm(x, axis=2) for x in (a, b, c))
        det = _dot(a, np.cross(b, c))
        denominator = la * lb * lc + _dot(a, b) * lc + _dot(a, c) * lb + _dot(b, c) * la
        winding = np.arctan2(det, denominator).sum(axis=1) / (2.0 * np.pi)
        out[start : start + step] = winding > 0.5
    return out


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Dot products of (points, faces, 3) arrays, pair by pair."""
    return np.einsum("pfi,pfi->pf", x, y)
