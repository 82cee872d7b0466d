"""The part's own frame: which directions its flat faces face, so sections and sketches are axis-aligned.

``find_rotation`` returns a proper rotation ``R`` (3x3) that turns the input's coordinates into the
part's frame (``part = R @ input``). The part's axes are the dominant directions of area-weighted
surface normals (flat faces), made orthogonal: the direction covering the most area first, then the
best one perpendicular to it, then their cross product. Parts with few flat faces fall back to
principal axes of the points. For noisy normals (a scan's, a point cloud's) the chosen axes are then
turned so that the normals of the whole surface are as perpendicular to them as possible
(``perpendicular_refined``: every face of a sketch-and-extrude part, a cap or a side wall, is
perpendicular to one axis at least, so the round walls and the many small faces of a scan fix the axes
too, not only the few large flat faces); for such normals the points' principal axes compete with the
flat-face frames (a sheet thinner than the normals' neighbourhoods has poor normals, and there the
tightest box tells its faces), and the turn is kept only where it does not thicken the part along its
thinnest axis. Such a frame is last turned to pile the surface samples up across its axes
(``piled_up``: flat faces across an axis put their samples at one coordinate), which needs no normals at
all: a point cloud's estimated ones fail on walls as thin as the samples' spacing.
The axes are ordered and signed to stay as close to the
input's own axes as possible, and an input whose flat faces are as well explained by the world axes
keeps the identity: an aligned clean mesh gives exactly the result it gave before orientation existed
(an aligned scan's or cloud's noisy normals can tie a turned frame, which is then kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np
from scipy.optimize import minimize

ALIGN_DEG = 8.0  # a normal within this angle of an axis counts as facing it (tolerates scan noise)
REFINE_DEG = 4.0  # second pass of the direction refinement
MIN_PLANAR_SHARE = 0.08  # area share the first direction must cover to count as a flat-face direction
MIN_SECOND_SHARE = 0.01  # ... and the second (side faces of a plate are small)
FRAME_TIE = 0.02  # frames whose flat-area shares differ by less are told apart by box volume
KEEP_IDENTITY_MARGIN = 0.01  # keep the world axes when they explain the flat area within this share
MAX_NORMALS = 8_000  # normals used (drawn by weight), bounds the work on huge meshes
N_CANDIDATES = 192  # directions tried for each axis
# windows (degrees from perpendicular) of the normals that turn the axes, widest first: a wide window
# pulls a frame a few degrees off onto the faces, the narrow ones leave out drafts and curved surfaces
PERPENDICULAR_DEGS = (10.0, 5.0, 2.5)
PERPENDICULAR_STEPS = 4  # Gauss-Newton steps per window
# damping of each Gauss-Newton step, as a share of the mean curvature: a turn that no normal constrains
# (a sheet without side walls, about its normal) stays 0
PERPENDICULAR_DAMPING = 1e-3
# the turn onto the whole surface is kept only where it thickens the part along its thinnest axis by less
# than this share: a sheet's estimated normals are poor (its neighbourhoods span both faces), and tilting its
# normal by a degree thickens it many times, while a turn about its normal or of a chunky part's axes
# barely changes that extent (the box as a whole may grow: an outline is not always tightest in its design axes)
REFINE_THICKENING = 0.1
# A scan's or a point cloud's frame is last turned to pile its samples up on the fewest planes across each axis
# (``piled_up``): the samples' coordinates along each axis, smoothed by a Gaussian this wide (share of the
# part's largest extent: about a section's fitting tolerance), collide most where its flat faces lie
# across the axes. It needs no normals, so it holds where a cloud's estimated ones fail (thin walls).
PILE_WIDTH = 0.0025
# coarse to fine: (width as a multiple of PILE_WIDTH, first step in degrees) of each search; the wider
# kernels first, so the search is not caught by the piles of smaller faces on the way
PILE_SEARCHES = ((4.0, 2.0), (2.0, 0.7), (1.0, 0.25))
PILE_MAX_DEG = 6.0  # the turn stays within this angle of the frame the normals gave
PILE_POINTS = 8192  # samples piled up at most (drawn at random from a larger cloud: the search's cost)
PILE_GAIN = 0.02  # ... and is taken only where it piles the samples up by this share more (a smaller gain is
# within the sampling's own noise)


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


def _turn(axes: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The rows of ``axes`` turned by the rotation vector ``delta`` (Rodrigues), kept orthonormal."""
    angle = float(np.linalg.norm(delta))
    if angle == 0.0:
        return axes
    k = delta / angle
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    rot = np.eye(3) + np.sin(angle) * kx + (1.0 - np.cos(angle)) * (kx @ kx)
    u, _, vt = np.linalg.svd(axes @ rot.T)
    return u @ vt


def perpendicular_refined(axes: np.ndarray, normals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``axes`` (rows, orthonormal) turned to make the normals within each ``PERPENDICULAR_DEGS`` window of
    perpendicular to an axis as perpendicular to it as they can be (weighted least squares of the cosines,
    Gauss-Newton over small turns; a normal near one axis is perpendicular to the other two and counts for
    both). A turn that no normal constrains (a sheet without side walls, about its normal) is damped to 0;
    no step turns the axes by more than the window's angle."""
    axes = np.asarray(axes, dtype=np.float64)
    for deg in PERPENDICULAR_DEGS:
        window = np.sin(np.radians(deg))
        for _ in range(PERPENDICULAR_STEPS):
            cos = normals @ axes.T  # (n, 3)
            h, g = np.zeros((3, 3)), np.zeros(3)
            for k in range(3):
                use = np.abs(cos[:, k]) < window
                jac = np.cross(axes[k], normals[use])  # d(n . a_k) / d(turn) for a_k -> a_k + turn x a_k
                wk = weights[use]
                h += jac.T @ (jac * wk[:, None])
                g += jac.T @ (wk * cos[use, k])
            if not np.trace(h) > 0:
                break
            delta = -np.linalg.solve(h + PERPENDICULAR_DAMPING * np.trace(h) / 3 * np.eye(3), g)
            size = float(np.linalg.norm(delta))
            if size > np.radians(deg):  # a poorly conditioned window: no leap past the faces it saw
                delta *= np.radians(deg) / size
            axes = _turn(axes, delta)
            if np.linalg.norm(delta) < 1e-9:
                break
    return axes


def _extents(points: np.ndarray, axes: np.ndarray) -> np.ndarray:
    q = points @ axes.T
    return q.max(axis=0) - q.min(axis=0)


def _box_volume(points: np.ndarray, axes: np.ndarray) -> float:
    return float(np.prod(_extents(points, axes)))


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


def piling(coords: np.ndarray, width: float) -> float:
    """How much the rows of ``coords`` (n, 3) pile up along each column: the chance that two samples lie
    within about ``width`` of each other along an axis (a Gaussian kernel on a histogram of a quarter
    ``width`` bins, each sample shared between its two nearest), summed over the axes. Samples on a flat
    face across an axis all collide there."""
    bins_per_width = 4
    radius = 3 * bins_per_width
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / bins_per_width) ** 2)
    total = 0.0
    for x in np.asarray(coords, dtype=np.float64).T:
        at = (x - x.min()) * (bins_per_width / width)
        index = at.astype(np.int64)
        upper = at - index  # each sample shared between its two nearest bins: the score moves smoothly
        size = int(index.max()) + 2
        counts = np.bincount(index, 1.0 - upper, size) + np.bincount(index + 1, upper, size)
        total += float(counts @ np.convolve(counts, kernel)[radius:-radius])
    return total / len(coords) ** 2


def piled_up(points: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``axes`` (rows) turned by at most ``PILE_MAX_DEG`` to pile the points up most across them
    (``piling``; a simplex search over turns at each of ``PILE_SEARCHES``, from the wide kernel to
    ``PILE_WIDTH`` of the largest extent; at most ``PILE_POINTS`` of them); ``axes`` themselves when no
    turn piles them up by ``PILE_GAIN`` more at ``PILE_WIDTH``."""
    pts = np.asarray(points, dtype=np.float64)
    axes = np.asarray(axes, dtype=np.float64)
    if len(pts) < 2:
        return axes
    if len(pts) > PILE_POINTS:
        pts = pts[np.random.default_rng(0).choice(len(pts), PILE_POINTS, replace=False)]
    pts = pts - pts.mean(axis=0)
    width = PILE_WIDTH * float(_extents(pts, axes).max())
    if not width > 0:
        return axes
    limit = np.radians(PILE_MAX_DEG)
    best = np.zeros(3)
    for factor, step in PILE_SEARCHES:

        def loss(turn: np.ndarray, w: float = factor * width) -> float:
            return -piling(pts @ _turn(axes, turn).T, w) if np.linalg.norm(turn) <= limit else 0.0

        simplex = best + np.vstack([np.zeros(3), np.radians(step) * np.eye(3)])
        found = minimize(
            loss,
            best,
            method="Nelder-Mead",
            options={"initial_simplex": simplex, "xatol": np.radians(0.01), "fatol": 1e-7, "maxfev": 300},
        )
        if found.fun < loss(best):
            best = found.x
    gained = piling(pts @ _turn(axes, best).T, width) > (1.0 + PILE_GAIN) * piling(pts @ axes.T, width)
    return _turn(axes, best) if gained else axes


def find_rotation(
    points: np.ndarray,
    normals: np.ndarray,
    weights: np.ndarray | None = None,
    refine: bool = False,
    pile: bool = False,
) -> Orientation:
    """The rotation into the part's frame from surface normals (area ``weights``) and points. ``refine``
    (noisy or estimated normals: a scan's, a point cloud's): the chosen axes are turned onto the whole
    surface (``perpendicular_refined``) unless that thickens the part along its thinnest axis by more than
    ``REFINE_THICKENING``, and the points' principal axes compete with the flat-face frames (estimated
    normals can all be poor: a thin sheet's). A clean mesh's exact face normals give its flat faces'
    directions exactly, and there a tessellated round wall's facets would only pull the axes off them.
    ``pile`` (with ``refine``: the pipeline's scans and point clouds): a frame other than the world axes is
    last turned to pile the points up across its axes (``piled_up``)."""
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
    pca = _principal_axes(pts)
    if refine:  # estimated normals may all be poor (a sheet thinner than their neighbourhoods): the points'
        frames.append((axis_share(n, w, pca), "pca", pca))  # own axes compete too, by flat area and then box
    best = max((f[0] for f in frames), default=0.0)
    if best < MIN_PLANAR_SHARE:
        axes, method = pca, "pca"
    else:  # frames explaining about as much flat area: the tightest box is the designer's frame
        tied = [f for f in frames if f[0] >= best - FRAME_TIE]
        _, method, axes = min(tied, key=lambda f: _box_volume(pts, f[2]))
    if refine:
        turned = perpendicular_refined(axes, n, w)
        extents = _extents(pts, axes)
        thin = int(np.argmin(extents))  # each row is turned: the same axis after
        if _extents(pts, turned)[thin] <= (1.0 + REFINE_THICKENING) * extents[thin]:
            axes = turned
    rotation = _closest_to_world(axes)
    share = axis_share(n, w, rotation)
    if identity_share >= share - KEEP_IDENTITY_MARGIN:
        return Orientation(np.eye(3), identity_share, "identity", identity_share)
    if pile:  # a turn of a few degrees: the identity test above stands
        rotation = _closest_to_world(piled_up(pts, rotation))
        share = axis_share(n, w, rotation)
    return Orientation(rotation, share, method, identity_share)
