"""Area-uniform surface samples with face normals, deterministic per seed."""

from __future__ import annotations

import numpy as np
import trimesh


def sample_surface(
    mesh: trimesh.Trimesh, n: int, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points drawn uniformly by area and their face normals, both (n, 3) float32.

    Uses its own ``numpy.random.Generator`` (never the global RNG), so equal seeds give equal samples.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    v = np.asarray(mesh.vertices, dtype=np.float64)
    f = np.asarray(mesh.faces, dtype=np.int64)
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    if len(f) == 0:
        raise ValueError("cannot sample an empty mesh")
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    double_area = np.linalg.norm(cross, axis=1)
    total = double_area.sum()
    if not total > 0:
        raise ValueError("cannot sample a mesh with zero surface area")
    cdf = np.cumsum(double_area)
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    idx = np.minimum(idx, len(f) - 1)
    r1, r2 = rng.random(n), rng.random(n)
    s1 = np.sqrt(r1)
    a, b, c = 1.0 - s1, s1 * (1.0 - r2), s1 * r2
    t = tri[idx]
    points = a[:, None] * t[:, 0] + b[:, None] * t[:, 1] + c[:, None] * t[:, 2]
    normals = cross[idx] / double_area[idx, None]
    return points.astype(np.float32), normals.astype(np.float32)
