"""A scan's hole that a lost swept face left, covered by that face: the ruled surface between its rim's two end
curves, not the flat face across the rim.

A part scanned standing on a table loses the faces turned downwards. Where such a face was flat, its rim is
flat and ``scan_holes`` covers it with the plane across it. Where it was swept along a line — the lower half
of a shaft or a tube lying on its side, the upper half of a bore across a part — the rim runs as two end
curves (where the lost face met the seen end faces: arcs) joined by two straight sides along the sweep, and
the flat face across it cuts the round off (a shaft on its side read 60 % IoU). Such a rim is recognised
along the direction its own edges mostly run, else along one of its principal directions: its vertices within ``END_BAND`` median edges of its two ends along
the direction are the end curves, the rest must be two runs, each within ``SIDE_STRAIGHT`` edges of a line
along it, and both end curves must bulge from their chords by at least ``MIN_BULGE`` edges (flatter ones are
covered the same by the plane). The cover is for sampling, like the flat one: a grid between the two curves,
resampled by arc length, about one median edge a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

END_BAND = 1.5  # end curves: rim vertices within this many median edges of the rim's ends along the sweep
SIDE_STRAIGHT = 2.0  # each side within this many median edges of a line along the sweep
MIN_BULGE = 3.0  # each end curve this many median edges off its chord at least (flatter: the plane's cover)
SPECK_RUN = 2  # runs of at most this many vertices (noise where a side meets an end band) join a neighbour
MAX_RUNS = 32  # a rim whose labels change more often than this along a direction is no sweep along it
END_VERTICES = 4  # an end curve has at least this many vertices, ...
BULGING = 3  # ... and at least this many of them ``MIN_BULGE`` off its chord (one spike is noise)
HOLE_NEAR = 2.0  # another rim within this many median edges of the cover, inside it, is a hole in it
MAX_VERTICES = 200_000  # the cover's grid coarsened to at most this many vertices


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """(label, first index, length) of the cyclic runs of equal ``labels``, from a run's start."""
    n = len(labels)
    starts = np.flatnonzero(labels != np.roll(labels, 1))
    if len(starts) == 0:
        return [(int(labels[0]), 0, n)]
    return [(int(labels[a]), int(a), int((b - a) % n or n)) for a, b in zip(starts, np.roll(starts, -1))]


def _merged(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """The cyclic runs of ``labels`` with specks (``SPECK_RUN``) relabelled as their longer neighbour."""
    labels = labels.copy()
    for _ in range(len(labels)):
        runs = _runs(labels)
        if len(runs) > MAX_RUNS:
            return runs
        specks = [k for k, r in enumerate(runs) if r[2] <= SPECK_RUN]
        if not specks or len(runs) <= 4:
            return runs
        k = min(specks, key=lambda i: runs[i][2])
        before, after = runs[k - 1], runs[(k + 1) % len(runs)]
        label = before[0] if before[2] >= after[2] else after[0]
        labels[(runs[k][1] + np.arange(runs[k][2])) % len(labels)] = label
    return _runs(labels)


def _bulge(curve: np.ndarray) -> float:
    """The ``BULGING``-th largest distance of ``curve``'s points from the chord between its ends."""
    chord = curve[-1] - curve[0]
    length = float(np.linalg.norm(chord))
    off = curve - curve[0]
    if length > 0:
        off = off - np.outer(off @ (chord / length), chord / length)
    return float(np.sort(np.linalg.norm(off, axis=1))[-BULGING])


def _straight(side: np.ndarray, direction: np.ndarray, edge: float) -> bool:
    """Whether the points ``side`` lie within ``SIDE_STRAIGHT`` edges of one line along ``direction``."""
    across = side - np.outer(side @ direction, direction)
    return bool(np.linalg.norm(across - across.mean(axis=0), axis=1).max() <= SIDE_STRAIGHT * edge)


def _resampled(curve: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly along the polyline ``curve`` by arc length, its ends kept."""
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    at = np.linspace(0.0, s[-1], n)
    return np.stack([np.interp(at, s, curve[:, i]) for i in range(3)], axis=1)


def _end_curves(points: np.ndarray, edge: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The rim's two end curves, both running from the same side to the other, when it runs as a swept
    face's along one of its principal directions (module doc), else None."""
    n = len(points)
    centre = points.mean(axis=0)
    steps = np.roll(points, -1, axis=0) - points
    steps /= np.maximum(np.linalg.norm(steps, axis=1, keepdims=True), 1e-300)
    along = np.linalg.eigh(steps.T @ steps)[1][:, -1]  # the sides' edges run along the sweep: first
    for direction in [along, *np.linalg.svd(points - centre, full_matrices=False)[2]]:
        t = (points - centre) @ direction
        labels = np.where(t < t.min() + END_BAND * edge, 0, np.where(t > t.max() - END_BAND * edge, 2, 1))
        runs = _merged(labels)
        if len(runs) != 4 or sorted(r[0] for r in runs) != [0, 1, 1, 2]:
            continue
        first_end = next(k for k, r in enumerate(runs) if r[0] != 1)
        runs = runs[first_end:] + runs[:first_end]  # end, side, other end, side (neighbours differ)
        if min(runs[0][2], runs[2][2]) < END_VERTICES:
            continue
        if not all(
            _straight(points[(start + np.arange(length)) % n], direction, edge)
            for _, start, length in (runs[1], runs[3])
        ):
            continue
        # each end with the sides' last and first vertices next to it: the curve spans side to side
        ends = [points[(start - 1 + np.arange(length + 2)) % n] for _, start, length in (runs[0], runs[2])]
        if min(_bulge(e) for e in ends) < MIN_BULGE * edge:
            continue
        return ends[0], ends[1][::-1]  # the loop runs the second end back
    return None


@dataclass(frozen=True)
class Swept:
    """A lost swept face's cover: its grid's vertices and triangles, and which of the rims offered as
    holes lie in it (cut out of it)."""

    vertices: np.ndarray
    faces: np.ndarray
    holes: list[int]


def swept_cover(points: np.ndarray, edge: float, inner: Sequence[np.ndarray] = ()) -> Swept | None:
    """The ruled surface between the end curves of the closed rim ``points`` (in order) when it runs as a
    lost swept face's (module doc), else None; ``edge`` is the mesh's median edge length. Of the rims
    ``inner`` (other rims whose boxes lie within this one's), those within ``HOLE_NEAR`` edges of the
    cover and inside it are its holes: the grid's cells inside them are left out (a bore's mouth in the
    lost face stays open). The triangles are wound so that their area vector points as the rim's own
    (Newell's)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 12 or not edge > 0:
        return None
    ends = _end_curves(points, edge)
    if ends is None:
        return None
    a, b = ends
    spacing = max(edge, float(np.median(np.linalg.norm(np.diff(points, axis=0), axis=1))))
    across = max(len(a), len(b), int(np.ceil(max(_length(a), _length(b)) / spacing)) + 1)
    rows = max(2, int(np.ceil(float(np.linalg.norm(a.mean(axis=0) - b.mean(axis=0))) / spacing)) + 1)
    if rows * across > MAX_VERTICES:
        shrink = np.sqrt(MAX_VERTICES / (rows * across))
        across, rows = max(2, int(across * shrink)), max(2, int(rows * shrink))
    a, b = _resampled(a, across), _resampled(b, across)
    s = np.linspace(0.0, 1.0, rows)[:, None, None]
    vertices = ((1.0 - s) * a[None] + s * b[None]).reshape(-1, 3)
    i, j = (g.ravel() for g in np.meshgrid(np.arange(rows - 1), np.arange(across - 1), indexing="ij"))
    corner = i * across + j
    faces = np.concatenate(
        [
            np.stack([corner, corner + 1, corner + across + 1], axis=1),
            np.stack([corner, corner + across + 1, corner + across], axis=1),
        ]
    )
    cells = np.concatenate([np.stack([i, j], axis=1)] * 2) + 0.5  # each triangle's cell, at its middle
    keep, holes = np.ones(len(faces), dtype=bool), []
    if len(inner):
        tree = cKDTree(vertices)
        for h, rim in enumerate(inner):
            gap, nearest = tree.query(np.asarray(rim, dtype=np.float64))
            r, c = np.divmod(nearest, across)
            if gap.max() > HOLE_NEAR * edge or r.min() < 1 or c.min() < 1:
                continue
            if r.max() > rows - 2 or c.max() > across - 2:
                continue
            ring = shapely.Polygon(np.stack([r, c], axis=1)).buffer(0)
            if ring.is_empty:
                continue
            keep &= ~shapely.contains_xy(ring, cells[:, 0], cells[:, 1])
            holes.append(h)
    faces = faces[keep]
    tri = vertices[faces]
    area = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]).sum(axis=0)
    rim_area = np.cross(points, np.roll(points, -1, axis=0)).sum(axis=0)
    if float(area @ rim_area) < 0:
        faces = faces[:, ::-1]
    return Swept(vertices, faces, holes)


def _length(curve: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(curve, axis=0), axis=1).sum())


__all__ = ["Swept", "swept_cover"]
