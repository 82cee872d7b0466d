"""The part's own frame: which directions its flat faces face, so sections and sketches are axis-aligned.

``find_rotation`` returns a proper rotation ``R`` (3x3) that turns the input's coordinates into the
part's frame (``part = R @ input``). The part's axes are the dominant directions of area-weighted
surface normals (flat faces), made orthogonal: the direction covering the most area first, then the
best one perpendicular to it, then their cross product. Parts with few flat faces fall back to
principal axes of the points. The axes are ordered and signed to stay as close to the input's own
axes as possible, and an input whose flat faces are as well explained by the world axes keeps the
identity: an aligned input gives exactly the result it gave before orientation existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

ALIGN_DEG = 8.0  # a normal within this angle of an axis counts as facing it (tolerates scan noise)
REFINE_DEG = 4.0  # second pass of the direction refinement
MIN_PLANAR_SHARE = 0.08  # area share the first direction must cover to count as a flat-face direction
MIN_SECOND_SHARE = 0.01  # ... and the second (side faces of a plate are small)
FRAME_TIE = 0.02  # frames whose flat-area shares differ by less are told apart by box volume
KEEP_IDENTITY_MARGIN = 0.01  # keep the world axes when they explain the flat area within this share
MAX_NORMALS = 8_000  # normals used (drawn by weight), bounds the work on huge meshes
N_CANDIDATES = 192  # directions tried for each axis


@dataclass(frozen=True)
class Orientation:
    rotation: np.ndarray  # (3, 3) proper rotation, part = rotation @ input
    planar_share: float  # area share facing one of the three axes
    method: str  # "identity" | "planar" | "planar+pca" | "pca"
    identity_share: float = 0.0  # area share the input's own axes explain

    @property
    def is_identity(self) -> bool:
        return self.method == "identity"


def _sample(normals: np.ndarray, weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    w = weights / weights.sum()
    if len(normals) <= n:
        return normals, w
    idx = rng.choice(len(normals), size=n, p=w)
    return normals[idx], np.full(n, 1.0 / n)


def axis_share(normals: np.ndarray, weights: np.ndarray, axes: np.ndarray, deg: float = ALIGN_DEG) -> float:
    """Share of the weight whose normal is within ``deg`` of one of ``axes`` (rows, unit vectors)."""
    c = np.cos(np.radians(deg))
    hit = (np.abs(normals @ np.asarray(axes).T) >= c).any(axis=1)
    return float(weights[hit].sum() / weights.sum())


def _covered(normals: np.ndarray, dirs: np.ndarray, deg: float = ALIGN_DEG) -> np.ndarray:
    """(len(dirs), len(normals)) booleans: normal within ``deg`` of the direction (either sign)."""
    return np.abs(dirs @ normals.T) >= np.cos(np.radians(deg))


def _refined(normals: np.ndarray, w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``d`` moved to the weighted mean of the normals near it (sign-aligned), twice, tighter."""
    for deg in (ALIGN_DEG, REFINE_DEG):
        dots = normals @ d
        near = np.abs(dots) >= np.cos(np.radians(deg))
        if not near.any():
            break
        m = (normals[near] * (np.sign(dots[near]) * w[near])[:, None]).sum(axis=0)
        d = m / np.linalg.norm(m)
    return d


def _top_directions(normals: np.ndarray, w: np.ndarray, candidates: np.ndarray, k: int) -> list[np.ndarray]:
    """Up to ``k`` distinct candidate directions covering the most weight, refined."""
    scores = _covered(normals, candidates) @ w
    out: list[np.ndarray] = []
    for i in np.argsort(-scores):
        d = candidates[i]
        if all(abs(d @ o) < np.cos(np.radians(2 * ALIGN_DEG)) for o in out):
            out.append(d)
        if len(out) == k:
            break
    return [_refined(normals, w, d) for d in out]


def _second_directions(
    normals: np.ndarray, w: np.ndarray, candidates: np.ndarray, d1: np.ndarray, k: int
) -> list[tuple[np.ndarray, float]]:
    """Up to ``k`` distinct directions perpendicular to ``d1`` that, with ``d1 x d2``, cover the most
    weight, with that coverage."""
    perp = candidates - np.outer(candidates @ d1, d1)
    norms = np.linalg.norm(perp, axis=1)
    perp = perp[norms > 0.5] / norms[norms > 0.5, None]  # candidates far from d1
    if not len(perp):
        return []
    scores = (_covered(normals, perp) | _covered(normals, np.cross(d1, perp))) @ w
    out: list[tuple[np.ndarray, float]] = []
    for i in np.argsort(-scores):
        d = perp[i]
        # d and d1 x d describe the same frame: distinct means apart from both
        if all(
            abs(d @ o) < np.cos(np.radians(ALIGN_DEG))
            and abs(d @ np.cross(d1, o)) < np.cos(np.radians(ALIGN_DEG))
            for o, _ in out
        ):
            out.append((d, float(scores[i])))
        if len(out) == k:
            break
    result = []
    for d, score in out:
        d = _refined(normals, w, d)
        d = d - (d @ d1) * d1
        result.append((d / np.linalg.norm(d), score))
    return result


def _box_volume(points: np.ndarray, axes: np.ndarray) -> float:
    q = points @ axes.T
    return float(np.prod(q.max(axis=0) - q.min(axis=0)))


def _principal_axes(points: np.ndarray) -> np.ndarray:
    p = points - points.mean(axis=0)
    _, vecs = np.linalg.eigh(p.T @ p)
    return vecs[:, ::-1].T  # rows, largest variance first


def _closest_to_world(axes: np.ndarray) -> np.ndarray:
    """Rows of ``axes`` permuted and signed to be closest to the world axes, with determinant +1."""
    best = max(permutations(range(3)), key=lambda p: sum(abs(axes[p[i], i]) for i in range(3)))
    r = axes[list(best)].copy()
    r *= np.where(np.diag(r) < 0, -1.0, 1.0)[:, None]
    if np.linalg.det(r) < 0:  # flip the row least aligned with its world axis
        k = int(np.argmin(np.abs(np.diag(r))))
        r[k] *= -1
    return r


def find_rotation(points: np.ndarray, normals: np.ndarray, weights: np.ndarray | None = None) -> Orientation:
    """The rotation into the part's frame from surface normals (area ``weights``) and points."""
    normals = np.asarray(normals, dtype=np.float64)
    weights = np.ones(len(normals)) if weights is None else np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(normals).all(axis=1) & (weights > 0)
    normals, weights = normals[ok], weights[ok]
    norms = np.linalg.norm(normals, axis=1)
    normals, weights = normals[norms > 0] / norms[norms > 0, None], weights[norms > 0]
    if len(normals) == 0:
        return Orientation(np.eye(3), 0.0, "identity")
    rng = np.random.default_rng(0)
    n, w = _sample(normals, weights, MAX_NORMALS, rng)
    cand = n[rng.choice(len(n), size=min(N_CANDIDATES, len(n)), p=w / w.sum())]
    identity_share = axis_share(n, w, np.eye(3))

    pts = np.asarray(points, dtype=np.float64)
    frames = []  # (share, method, axes)
    for d1 in _top_directions(n, w, cand, 3):
        seconds = [(d2, sc) for d2, sc in _second_directions(n, w, cand, d1, 4) if sc >= MIN_SECOND_SHARE]
        if not seconds:  # one flat direction (e.g. a disc): in-plane by PCA
            p = pts - np.outer(pts @ d1, d1)
            d2 = _principal_axes(p)[0]
            d2 = d2 - (d2 @ d1) * d1
            seconds, method = [(d2 / np.linalg.norm(d2), 0.0)], "planar+pca"
        else:
            method = "planar"
        for d2, _ in seconds:
            axes = np.stack([d1, d2, np.cross(d1, d2)])
            frames.append((axis_share(n, w, axes), method, axes))
    best = max((f[0] for f in frames), default=0.0)
    if best < MIN_PLANAR_SHARE:
        axes, method = _principal_axes(pts), "pca"
    else:  # frames explaining about as much flat area: the tightest box is the designer's frame
        tied = [f for f in frames if f[0] >= best - FRAME_TIE]
        _, method, axes = min(tied, key=lambda f: _box_volume(pts, f[2]))
    rotation = _closest_to_world(axes)
    share = axis_share(n, w, rotation)
    if identity_share >= share - KEEP_IDENTITY_MARGIN:
        return Orientation(np.eye(3), identity_share, "identity", identity_share)
    return Orientation(rotation, share, method, identity_share)
