"""Sections of inputs that are not clean closed meshes: scans (open, noisy, remeshed) and point clouds.

``RobustSlicer`` offers what the candidates need, like the exact mesh route in ``candidates``:
``bounds`` (per axis, robust to noise), ``polygons(axis, level)`` (shapely section in sketch
coordinates), ``steps(axis)`` (heights of flat faces) and ``profiles(geom)`` (fitted, clean profiles).

A section is the layer of the input's closed solid (``cloud.Occupancy``) at the level: its topology
(outer rings, holes, even-odd nesting) comes from the solid, its boundary from the surface near the
level (the mesh's own section segments, or the points of a thin slab), each ring vertex moved onto the
samples beside it. Rings are then fitted with lines, arcs and circles at a tolerance that scales with
the estimated noise (``noisy_fit``).
"""

from __future__ import annotations

import weakref
from functools import cached_property

import numpy as np
import shapely
import trimesh
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Polygon

from backend.cad.program import Profile
from backend.sections.cloud import Occupancy, Surface, occupancy_of, surface_of
from backend.sections.fit import FIT_TOLERANCE, MIN_AREA, snap_profile
from backend.sections.noisy_fit import fit_noisy_section

SKETCH_COLUMNS = {0: (1, 2), 1: (2, 0), 2: (0, 1)}
_SLICER_CACHE = 4
_SLICERS: dict[int, tuple[weakref.ref, RobustSlicer]] = {}
NOISE_TOLERANCE = 3.0  # fitting tolerance in estimated noise sigmas (at least ``FIT_TOLERANCE``)
FLAT_NORMAL = 0.95  # |normal . axis| above which a sample lies on a flat face across the axis
STEP_MIN_AREA = 0.01  # total flat area of a step (normalised units²), as ``candidates.MIN_STEP_AREA``
STEP_BIN = 0.001  # histogram bin of flat sample heights (normalised units)
END_MARGIN = 0.005  # steps this close to the input's ends are its top / bottom (plus a few sigmas)
REFINE_REACH = 2.0  # ring vertices look for surface samples this many voxels away along their normal
CORNER_VOXELS = 1.5  # arcs of a smaller radius (in voxels) between two lines are rounded corners
SPECK_VOXELS = 2.0  # rings enclosing less than this many voxels squared are dropped (holes filled)
REFINE_NEIGHBOURS = 10  # samples looked at per ring vertex
MIN_SUPPORT = 0.3  # rings with fewer vertices beside a sample keep their voxel outline


def robust_slicer(target: trimesh.Trimesh | trimesh.PointCloud) -> RobustSlicer:
    """The ``RobustSlicer`` of a target, shared by callers holding the same object (its surface samples
    and solid are built once)."""
    for key in list(_SLICERS):
        if _SLICERS[key][0]() is None:
            del _SLICERS[key]
    entry = _SLICERS.get(id(target))
    if entry is not None and entry[0]() is target:
        return entry[1]
    slicer = RobustSlicer(target)
    if len(_SLICERS) >= _SLICER_CACHE:
        del _SLICERS[next(iter(_SLICERS))]
    _SLICERS[id(target)] = (weakref.ref(target), slicer)
    return slicer


def robust_occupancy(target: trimesh.Trimesh | trimesh.PointCloud, lo, hi, res: int) -> np.ndarray:
    """(res, res, res) bool like ``metrics.occupancy``: voxel centres over [lo, hi] inside the closed solid
    of a scan or a point cloud (``cloud.Occupancy``), for ranking candidates against such inputs."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    centres = lo + (np.indices((res, res, res)).reshape(3, -1).T + 0.5) * ((hi - lo) / res)
    return robust_slicer(target).occupancy.inside(centres).reshape(res, res, res)


class RobustSlicer:
    """Sections, steps and fitted profiles of a scan-like mesh or a point cloud (normalised frame)."""

    def __init__(self, target: trimesh.Trimesh | trimesh.PointCloud) -> None:
        self.surface: Surface = surface_of(target)
        self.tol = max(FIT_TOLERANCE, NOISE_TOLERANCE * self.surface.noise)
        self._clusters: dict[int, list[tuple[float, float]]] = {}

    @cached_property
    def occupancy(self) -> Occupancy:
        return occupancy_of(self.surface)

    @cached_property
    def _triangles(self) -> np.ndarray:
        mesh = self.surface.mesh
        assert mesh is not None
        return np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]

    @cached_property
    def bounds(self) -> np.ndarray:
        """(2, 3) [min, max] per axis: the end faces' heights where the ends are flat, else the samples'."""
        pts = self.surface.points
        out = np.stack([pts.min(axis=0), pts.max(axis=0)])
        slack = END_MARGIN + 4.0 * self.surface.noise
        for axis in range(3):
            for height, _ in self.flat_clusters(axis):
                if height < out[0, axis] + slack:
                    out[0, axis] = max(out[0, axis], height)
                if height > out[1, axis] - slack:
                    out[1, axis] = min(out[1, axis], height)
        return out

    # --- flat faces -------------------------------------------------------------------------------

    def flat_clusters(self, axis: int) -> list[tuple[float, float]]:
        """(height, area) of the dense layers of samples on flat faces across ``axis``, largest first."""
        if axis not in self._clusters:
            self._clusters[axis] = _flat_clusters(self.surface, axis)
        return self._clusters[axis]

    def steps(self, axis: int, max_steps: int) -> list[float]:
        """Heights of the largest flat faces strictly inside the extent (see ``candidates.step_heights``)."""
        lo, hi = self.bounds[:, axis]
        margin = END_MARGIN + 4.0 * self.surface.noise
        inside = [h for h, area in self.flat_clusters(axis) if lo + margin < h < hi - margin]
        return inside[:max_steps]

    # --- sections ---------------------------------------------------------------------------------

    def polygons(self, axis: int, level: float):
        """The section at ``level`` as shapely geometry in sketch coordinates, or None."""
        occ = self.occupancy
        image = occ.section(axis, level)
        if image is None or not image.any():
            return None
        u, v = SKETCH_COLUMNS[axis]
        origin = np.array([occ.origin[u], occ.origin[v]])
        outline = _pixel_polygons(image, origin, occ.pitch)
        if outline is None:
            return None
        samples = self._samples(axis, level)
        if len(samples) >= 3:
            outline = _refine(outline, samples, occ.pitch)
        if outline is not None:  # rings smaller than a few voxels are artefacts of the voxel layer
            outline = _without_specks(outline, (SPECK_VOXELS * occ.pitch) ** 2)
        if outline is None or outline.is_empty or outline.area < MIN_AREA:
            return None
        return outline

    def _samples(self, axis: int, level: float) -> np.ndarray:
        """2D surface samples at the level: the mesh's section segments, else a slab of points."""
        cols = list(SKETCH_COLUMNS[axis])
        step = 0.5 * self.occupancy.pitch
        if self.surface.mesh is not None:
            segs = _plane_segments(self._triangles, axis, level)
            return _along(segs[:, :, cols], step) if len(segs) else np.zeros((0, 2))
        pts, normals = self.surface.shape_points, self.surface.normals
        half = 0.5 * self.surface.seal
        keep = (np.abs(pts[:, axis] - level) <= half) & (np.abs(normals[:, axis]) < FLAT_NORMAL)
        return pts[keep][:, cols]

    # --- profiles ---------------------------------------------------------------------------------

    def profiles(self, geom, quantize: bool = True) -> tuple[Profile, ...]:
        """Fitted, valid profiles of a section (on the token grid when ``quantize``)."""
        fitted = fit_noisy_section(geom, self.tol, CORNER_VOXELS * self.occupancy.pitch)
        snapped = (snap_profile(p, quantize) for p in fitted)
        return tuple(p for p in snapped if p is not None)


# --- helpers ----------------------------------------------------------------------------------------


def _flat_clusters(surface: Surface, axis: int) -> list[tuple[float, float]]:
    """Peaks of the area histogram of flat samples' heights: (mean height, area), largest area first."""
    flat = np.abs(surface.normals[:, axis]) > FLAT_NORMAL
    if not flat.any():
        return []
    heights = np.sort(surface.shape_points[flat, axis])
    per_point = surface.area / len(surface.shape_points)
    width = max(STEP_BIN, 2.0 * surface.noise)
    # consecutive heights closer than the width are one layer
    breaks = np.flatnonzero(np.diff(heights) > width) + 1
    out = []
    for group in np.split(heights, breaks):
        area = per_point * len(group)
        if area >= STEP_MIN_AREA and np.ptp(group) <= 10.0 * width:
            out.append((float(np.median(group)), area))
    return sorted(out, key=lambda ha: -ha[1])


def _pixel_polygons(image: np.ndarray, origin: np.ndarray, pitch: float):
    """The union of the image's true pixels as shapely geometry (pixel (i, j) centred at origin + p (i, j))."""
    padded = np.pad(image, 1)
    # boundary edges between a pixel and its +u / +v neighbour, in pixel-corner coordinates
    iu, ju = np.nonzero(padded[1:, :] != padded[:-1, :])
    iv, jv = np.nonzero(padded[:, 1:] != padded[:, :-1])
    su = np.stack([np.stack([iu + 1, ju], -1), np.stack([iu + 1, ju + 1], -1)], 1)
    sv = np.stack([np.stack([iv, jv + 1], -1), np.stack([iv + 1, jv + 1], -1)], 1)
    segs = np.concatenate([su, sv]).astype(np.float64)
    if len(segs) == 0:
        return None
    segs = origin + (segs - 1.5) * pitch  # padded corner c sits at origin + (c - 1 - 0.5) * pitch
    geom = shapely.build_area(shapely.multilinestrings(segs))
    if geom.is_empty or geom.area < MIN_AREA:
        return None
    return geom


def _plane_segments(tri: np.ndarray, axis: int, level: float) -> np.ndarray:
    """(n, 2, 3) segments where the triangles cross the plane at ``level`` along ``axis``."""
    h = tri[:, :, axis] - level
    above = h > 0
    count = above.sum(axis=1)
    crossing = (count == 1) | (count == 2)
    t, h, above = tri[crossing], h[crossing], above[crossing]
    a, b = [0, 1, 2], [1, 2, 0]
    cut = above[:, a] != above[:, b]  # (n, 3): the two edges that cross
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(cut, h[:, a] / (h[:, a] - h[:, b]), 0.0)
    pts = t[:, a] + w[:, :, None] * (t[:, b] - t[:, a])  # (n, 3 edges, 3)
    return pts[cut].reshape(-1, 2, 3)


def _along(segments: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` (or closer) along 2D segments, ends included."""
    a, b = segments[:, 0], segments[:, 1]
    n = np.maximum(np.ceil(np.linalg.norm(b - a, axis=1) / step).astype(np.int64), 1)
    seg = np.repeat(np.arange(len(a)), n + 1)
    t = (np.arange(len(seg)) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)) / np.repeat(n, n + 1)
    return a[seg] + t[:, None] * (b - a)[seg]


def _refine(geom, samples: np.ndarray, pitch: float):
    """Every ring of the outline moved onto the surface samples beside it (see the module docstring)."""
    tree = cKDTree(samples)
    polys = []
    for poly in _polygons(geom):
        shell = _refine_ring(np.asarray(poly.exterior.coords)[:-1], samples, tree, pitch)
        holes = [_refine_ring(np.asarray(r.coords)[:-1], samples, tree, pitch) for r in poly.interiors]
        candidate = Polygon(shell, [h for h in holes if len(h) >= 3])
        if not candidate.is_valid:
            candidate = shapely.make_valid(candidate)
        polys.extend(p for p in _polygons(candidate) if p.area >= MIN_AREA)
    if not polys:
        return None
    if len(polys) == 1:
        return polys[0]
    merged = MultiPolygon(polys)
    return merged if merged.is_valid else shapely.union_all(polys)


def _refine_ring(ring: np.ndarray, samples: np.ndarray, tree: cKDTree, pitch: float) -> np.ndarray:
    """Resample the pixel outline at half a voxel, smooth it, and move each vertex along its normal onto
    the median offset of the samples beside it; vertices without samples are dropped."""
    pts = _resample_closed(ring, 0.5 * pitch)
    if len(pts) < 8:
        return ring
    k = 3
    smooth = sum(np.roll(pts, s, axis=0) for s in range(-k, k + 1)) / (2 * k + 1)
    tangent = np.roll(smooth, -2, axis=0) - np.roll(smooth, 2, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    normal = np.column_stack([tangent[:, 1], -tangent[:, 0]])
    reach = REFINE_REACH * pitch
    dist, idx = tree.query(smooth, k=REFINE_NEIGHBOURS, distance_upper_bound=reach)
    found = np.isfinite(dist)
    d = np.vstack([samples, np.zeros((1, 2))])[idx] - smooth[:, None, :]
    along = np.einsum("nkd,nd->nk", d, tangent)
    off = np.einsum("nkd,nd->nk", d, normal)
    valid = found & (np.abs(along) <= 0.75 * pitch)
    ok = valid.any(axis=1)
    if ok.mean() < MIN_SUPPORT:
        return smooth
    # the samples of the nearest wall: offsets within a voxel of the one nearest the outline
    nearest = np.take_along_axis(off, np.argmin(np.where(valid, np.abs(off), np.inf), axis=1)[:, None], 1)
    valid &= np.abs(off - nearest) <= pitch
    shift = np.nanmedian(np.where(valid, off, np.nan)[ok], axis=1)
    return smooth[ok] + shift[:, None] * normal[ok]


def _resample_closed(ring: np.ndarray, step: float) -> np.ndarray:
    closed = np.vstack([ring, ring[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(np.ceil(s[-1] / step)), 3)
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.column_stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])])


def _without_specks(geom, min_area: float):
    polys = []
    for p in _polygons(geom):
        if p.area >= min_area:
            holes = [r for r in p.interiors if Polygon(r).area >= min_area]
            polys.append(Polygon(p.exterior, holes) if len(holes) < len(p.interiors) else p)
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _polygons(geom) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []
