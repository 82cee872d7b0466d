"""Point clouds: normals estimated from neighbourhoods, each point's offset from its neighbours' plane, and
the cloud's typical reach (its samples' spacing, for bounds in units of it)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

NORMAL_NEIGHBOURS = 16  # points in the neighbourhood whose smallest principal axis is the normal


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
    p = np.asarray(points, dtype=np.float64)
    if len(p) < 3:
        raise ValueError(f"need at least 3 points to estimate normals, got {len(p)}")
    nb = _neighbourhoods(p, k)
    cov = np.einsum("nki,nkj->nij", nb, nb)
    _, vecs = np.linalg.eigh(cov)
    normals = vecs[:, :, 0]
    outward = np.einsum("ij,ij->i", normals, p - p.mean(axis=0)) < 0
    normals[outward] *= -1
    return normals


def plane_offsets(points: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Each point's distance (n,) to the least-squares plane of its neighbours (indices (n, k) into
    ``points``, the point itself not among them): about the noise on a surface, large just off it."""
    nbr = points[neighbours]
    mean = nbr.mean(axis=1)
    centred = nbr - mean[:, None]
    _, vectors = np.linalg.eigh(np.einsum("nki,nkj->nij", centred, centred))
    return np.abs(np.einsum("nd,nd->n", points - mean, vectors[:, :, 0]))  # the least-spread direction


REACH_NEIGHBOURS = 8  # a cloud's typical reach: the median distance of a sample to this neighbour
REACH_PROBES = 20_000  # samples whose neighbour distance sets it (all of a smaller cloud)


def typical_reach(points: np.ndarray, tree: cKDTree | None = None) -> float:
    """R: the median distance of a sample of ``points`` (n, 3) to its ``REACH_NEIGHBOURS``-th nearest
    neighbour, over at most ``REACH_PROBES`` samples drawn the same way each time (``tree``: a ready
    ``cKDTree`` of ``points``); about 1.6 times the samples' spacing on a surface."""
    p = np.asarray(points, dtype=np.float64)
    tree = cKDTree(p) if tree is None else tree
    probe = p if len(p) <= REACH_PROBES else p[np.random.default_rng(0).choice(len(p), REACH_PROBES, False)]
    return float(np.median(tree.query(probe, k=REACH_NEIGHBOURS + 1, workers=-1)[0][:, -1]))
