"""Point clouds: normals estimated from neighbourhoods, and noise estimated from local plane fits."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

NORMAL_NEIGHBOURS = 16  # points in the neighbourhood whose smallest principal axis is the normal
# λ0/λ1 (smallest over middle principal variance of a neighbourhood) at which its normal counts half
# (``scripts/measure_frames.py --uniform-weights`` measures the frames found without the weights)
FLAT_RATIO = 0.02


def _neighbourhoods(points: np.ndarray, k: int) -> np.ndarray:
    """(n, k, 3) neighbourhoods centred on their mean."""
    k = max(3, min(k, len(points)))
    _, idx = cKDTree(points).query(points, k=k)
    nb = points[idx]
    return nb - nb.mean(axis=1, keepdims=True)


def estimate_normals(points: np.ndarray, k: int = NORMAL_NEIGHBOURS) -> np.ndarray:
    """Unit normals (n, 3) of ``points`` (n, 3): the least-variance direction of each k-neighbourhood.

    Signs are made to point away from the cloud's centroid (a heuristic that holds for the outer
    surface; the frame finder and the encoder's features only need directions up to sign to be stable).
    """
    return normals_with_flatness(points, k)[0]


def normals_with_flatness(points: np.ndarray, k: int = NORMAL_NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """(``estimate_normals``, how far each normal can be trusted): 1 / (1 + λ0/λ1 / ``FLAT_RATIO``) of its
    neighbourhood's two smallest principal variances: near 1 on a flat face, about 1/2 where the
    neighbourhood bends as much as ``FLAT_RATIO`` says, near 0 across an edge or a corner (there the
    least-variance direction is no face's normal)."""
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        raise ValueError(f"need at least 3 points to estimate normals, got {len(p)}")
    nb = _neighbourhoods(p, k)
    cov = np.einsum("nki,nkj->nij", nb, nb)
    values, vecs = np.linalg.eigh(cov)
    normals = vecs[:, :, 0]
    outward = np.einsum("ij,ij->i", normals, p - p.mean(axis=0)) < 0
    normals[outward] *= -1
    ratio = np.maximum(values[:, 0], 0.0) / np.maximum(values[:, 1], 1e-300)
    return normals, 1.0 / (1.0 + ratio / FLAT_RATIO)


def estimate_noise(points: np.ndarray, k: int = NORMAL_NEIGHBOURS, max_points: int = 4096) -> float:
    """Median RMS distance of points to their neighbourhood's best-fit plane (same units as the points).

    Near zero for points sampled from a clean piecewise-flat surface; about the noise's sigma for a scan.
    """
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    sample = (
        p if len(p) <= max_points else p[np.random.default_rng(0).choice(len(p), max_points, replace=False)]
    )
    k = max(3, min(k, len(p)))
    _, idx = cKDTree(p).query(sample, k=k)
    nb = p[idx]
    nb = nb - nb.mean(axis=1, keepdims=True)
    smallest = np.linalg.eigvalsh(np.einsum("nki,nkj->nij", nb, nb))[:, 0]
    return float(np.median(np.sqrt(np.maximum(smallest, 0.0) / k)))
