"""Sections of inputs that are not clean closed meshes: scans (open, noisy, remeshed) and point clouds.

``RobustSlicer`` offers what the candidates need, like the exact mesh route in ``candidates``:
``bounds`` (per axis, robust to noise), ``polygons(axis, level)`` (shapely section in sketch
coordinates), ``steps(axis)`` (heights of flat faces, from the samples' normals), ``dense_steps(axis)``
(with the narrow flat faces the normals miss) and ``profiles(geom)`` (fitted, clean profiles).

A section is the layer of the input's closed solid (``cloud.Occupancy``) at the level: its topology
(outer rings, holes, even-odd nesting) comes from the solid, its boundary from the surface near the
level (the mesh's own section segments, or the points of a thin slab and a point cloud's upright walls
from a slab three times taller), each ring vertex moved onto the samples beside it (twice: the second
time from the first pass's ring, which lies on the surface, with its normals instead of the voxel
steps'). The round holes the solid sealed are cut back in (``sealed_holes``). Rings are then fitted
with lines, arcs and circles at a tolerance that scales with the estimated noise (``noisy_fit``).
"""

from __future__ import annotations

import logging
import weakref
from functools import cached_property

import numpy as np
import shapely
import trimesh
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from backend.cad.program import Profile
from backend.sections.cloud import Occupancy, Surface, occupancy_of, surface_of, unique_cells
from backend.sections.fit import FIT_TOLERANCE, MIN_AREA, polygons_of, snap_profile
from backend.sections.noisy_fit import fit_noisy_section
from backend.sections.sealed_holes import RoundHole, sealed_holes, with_holes

log = logging.getLogger(__name__)

# world coordinates that are the sketch's (u, v) on each axis's canonical plane (cad.canonical's frames)
SKETCH_COLUMNS = {0: (1, 2), 1: (2, 0), 2: (0, 1)}
_SLICER_CACHE = 4
_SLICERS: dict[int, tuple[weakref.ref, RobustSlicer]] = {}
NOISE_TOLERANCE = 1.5  # fitting tolerance floor in surface noise sigmas (at least ``FIT_TOLERANCE``)
FLAT_NORMAL = 0.98  # |normal . axis| above which a sample lies on a flat face across the axis
STEP_MIN_AREA = 0.01  # total flat area of a step (normalised units²), as ``candidates.MIN_STEP_AREA``
FACE_SIGMAS = 5.0  # sections keep this many noise sigmas away from flat faces (and half a slab of points)
FACE_CLEARANCE = 0.002  # and this much more (normalised units)
STEP_SIGMAS = 3.0  # a flat face's samples lie within this many noise sigmas of its height
STEP_BIN = 0.001  # histogram bin of flat sample heights (normalised units)
SHEET_SIGMAS = 2.0  # a sheet's two faces in one layer of flat samples: their medians at least this apart
SHEET_NEAR = 5.0  # a mesh's flat ends closer than this many face bands: measured on its faces
FACED_MIN_SHARE = 0.01  # ... when the triangles facing out of each end hold this share of the surface
END_MARGIN = 0.005  # steps this close to the input's ends are its top / bottom (plus a few sigmas)
CORNER_VOXELS = 1.5  # arcs of a smaller radius (in voxels) between two lines are rounded corners
SPECK_VOXELS = 2.0  # rings enclosing less than this many voxels squared are dropped (holes filled)
DUPLICATE_SECTION = 0.03  # symmetric-difference share under which two noisy sections are one
SAME_FIT = 0.03  # sections closer than this (symmetric difference / union) share their fitted profiles
TALL_SLAB = 3.0  # a point cloud's upright walls (normals within UPRIGHT_NORMAL of across the axis) are taken
UPRIGHT_NORMAL = 0.1  # from a slab this many times taller (within the flat faces around the level)
DENSE_RING = 4.0  # face bands either side of a layer whose samples are the walls through it
DENSE_NORMAL = 0.7  # |normal . axis| of a narrow face's leaning normals
DENSE_SUPPORT = 0.5  # the layer's samples facing the axis that much: at least this share of its excess
DENSE_APART = 4.0  # face bands between a dense layer and a flat face already found: another face
SNAP_NEIGHBOURS = 24  # samples looked at per ring vertex
SNAP_REACH = 2.0  # ring vertices look this many voxels beyond the sealing radius for the surface
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

    duplicate = DUPLICATE_SECTION  # noisy sections of one prism differ by more than exact ones

    def __init__(self, target: trimesh.Trimesh | trimesh.PointCloud) -> None:
        self.surface: Surface = surface_of(target)
        self.tol = max(
            FIT_TOLERANCE, NOISE_TOLERANCE * self.surface.noise
        )  # the fit raises it by its ring's noise
        self._clusters: dict[int, list[tuple[float, float]]] = {}
        self._fitted: list[tuple[object, bool, tuple[Profile, ...]]] = []
        self._sections: dict[tuple[int, float], object] = {}  # candidates and observations share slices
        # the round holes the sealed solid filled, found at each section's (axis, level)
        self.round_holes: dict[tuple[int, float], list[RoundHole]] = {}

    @cached_property
    def occupancy(self) -> Occupancy:
        return occupancy_of(self.surface)

    @cached_property
    def _triangles(self) -> np.ndarray:
        mesh = self.surface.mesh
        assert mesh is not None
        return np.asarray(mesh.vertices, dtype=np.float64)[np.asarray(mesh.faces)]

    @cached_property
    def _triangle_ranges(self) -> list[tuple[np.ndarray, np.ndarray]]:
        tri = self._triangles
        return [(tri[:, :, a].min(axis=1), tri[:, :, a].max(axis=1)) for a in range(3)]

    @cached_property
    def bounds(self) -> np.ndarray:
        """(2, 3) [min, max] per axis: the end faces' heights where the ends are flat, else the samples'."""
        return self._ends[0]

    @cached_property
    def flat_ends(self) -> np.ndarray:
        """(2, 3) bool: whether each of ``bounds`` is a flat face's measured height (else the samples'
        extreme, which noise pushes outwards)."""
        return self._ends[1]

    @cached_property
    def _ends(self) -> tuple[np.ndarray, np.ndarray]:
        pts = self.surface.points
        out = np.stack([pts.min(axis=0), pts.max(axis=0)])
        flat = np.zeros((2, 3), dtype=bool)
        slack = END_MARGIN + 6.0 * self.surface.noise
        for axis in range(3):
            faces = self.flat_clusters(axis)  # largest first: the first near an end is that end
            low = [h for h, _ in faces if h < out[0, axis] + slack]
            high = [h for h, _ in faces if h > out[1, axis] - slack]
            if low and high and low[0] == high[0]:  # a sheet thinner than a face's noise band: one layer
                sheet = self._sheet_faces(axis, low[0], slack)
                if sheet is not None:
                    out[:, axis], flat[:, axis] = sheet, True
                continue  # else the samples' extremes
            out[0, axis], flat[0, axis] = (low[0], True) if low else (out[0, axis], False)
            out[1, axis], flat[1, axis] = (high[0], True) if high else (out[1, axis], False)
            if low and high and high[0] - low[0] < SHEET_NEAR * _face_band(self.surface):
                out[:, axis] = self._faced_ends(axis, out[:, axis])
        return out, flat

    def _faced_ends(self, axis: int, ends: np.ndarray) -> np.ndarray:
        """A thin sheet's two end heights measured on a mesh's own faces: each the area-weighted median
        height of the triangles facing out of that end (normal within ``FLAT_NORMAL`` of the axis, the
        right way) within a face's band of it. The neighbourhood normals the flat samples are picked by
        tilt where the other face's samples crowd the neighbourhood, and those left are the ones the noise
        moved outward (a 0.3-unit plate of a 33-unit part read 14 % thick); the faces' own orientation
        has no such bias. The ends as they were for a point cloud, without such triangles, or on a mesh
        whose faces do not face out (wound inward)."""
        mesh = self.surface.mesh
        if mesh is None:
            return ends
        normals = np.asarray(mesh.face_normals)[:, axis]
        heights = np.asarray(mesh.triangles_center)[:, axis]
        area = np.asarray(mesh.area_faces)
        band = _face_band(self.surface)
        out = ends.copy()
        for k, sign in ((0, -1.0), (1, 1.0)):
            near = (sign * normals > FLAT_NORMAL) & (np.abs(heights - ends[k]) <= band)
            if area[near].sum() < FACED_MIN_SHARE * area.sum():
                return ends
            h, w = heights[near], area[near]
            order = np.argsort(h)
            cum = np.cumsum(w[order])
            out[k] = float(h[order][np.searchsorted(cum, 0.5 * cum[-1])])
        return out if out[1] > out[0] else ends

    def _sheet_faces(self, axis: int, middle: float, reach: float) -> tuple[float, float] | None:
        """Both faces' heights of a sheet whose two faces make one layer of flat samples about ``middle``
        (its thickness within a face's noise band): split at the layer's mean height (between the two
        faces' samples; the layer's median is one face's when that face has more), the median height of
        the samples below, and of those above; None when those are not two noise sigmas apart (one face,
        or two the noise does not tell apart: the split would invent a thickness)."""
        h = _flat_heights(self.surface, axis)
        h = h[np.abs(h - middle) <= reach]
        if len(h) == 0:
            return None
        split = float(np.mean(h))
        below, above = h[h < split], h[h > split]
        if len(below) == 0 or len(above) == 0:
            return None
        lo, hi = float(np.median(below)), float(np.median(above))
        return (lo, hi) if hi - lo >= SHEET_SIGMAS * self.surface.noise else None

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

    def dense_steps(self, axis: int, max_steps: int) -> list[float]:
        """``steps`` with the narrow flat faces it misses: the flat faces strictly inside the extent, and
        the heights where the samples crowd beyond the walls around them (``_dense_layers``) at least
        ``DENSE_APART`` face bands from every one of those, at most ``max_steps``, largest first: a dense
        layer by its excess, a flat face by the larger of its normals' area and the excess of a dense
        layer within ``DENSE_APART`` bands of it (normals that lean undercount a face). Where an axis has
        more flat faces than ``max_steps``, this ranking may also keep other ones than ``steps``."""
        lo, hi = self.bounds[:, axis]
        margin = END_MARGIN + 4.0 * self.surface.noise
        apart = DENSE_APART * _face_band(self.surface)
        dense = [(h, a) for h, a in _dense_layers(self.surface, axis) if lo + margin < h < hi - margin]
        flat = [(h, a) for h, a in self.flat_clusters(axis) if lo + margin < h < hi - margin]
        faces = [(max([a] + [d for g, d in dense if abs(g - h) <= apart]), h) for h, a in flat]
        faces += [(d, g) for g, d in dense if all(abs(g - h) > apart for h, _ in flat)]
        return [h for _, h in sorted(faces, key=lambda f: -f[0])[:max_steps]]

    # --- sections ---------------------------------------------------------------------------------

    def polygons(self, axis: int, level: float):
        """The section at ``level`` as shapely geometry in sketch coordinates, or None."""
        key = (axis, level)
        if key not in self._sections:
            self._sections[key] = self._section(axis, level)
        return self._sections[key]

    def _section(self, axis: int, level: float):
        occ = self.occupancy
        level = self._clear_of_faces(axis, level)
        solid, sealed = occ.section(axis, level), occ.section(axis, level, sealed=True)
        samples = self._samples(axis, level)
        if solid is None or sealed is None or len(samples) < 3:
            return None
        u, v = SKETCH_COLUMNS[axis]
        origin = np.array([occ.origin[u], occ.origin[v]])
        # the solid, and the sealed solid near the surface at this level (thin walls the erosion lost)
        image = solid | (sealed & _near(samples, origin, occ.pitch, occ.radius, sealed.shape))
        if not image.any():
            return None
        outline = _pixel_polygons(image, origin, occ.pitch)
        if outline is None:
            return None
        outline = _refine(outline, samples, occ.pitch, occ.radius + SNAP_REACH * occ.pitch)
        if outline is not None:  # rings smaller than a few voxels are artefacts of the voxel layer
            outline = _without_specks(outline, (SPECK_VOXELS * occ.pitch) ** 2)
        if outline is None or outline.is_empty or outline.area < MIN_AREA:
            return None
        return self._with_sealed_holes(outline, samples, axis, level)

    def _with_sealed_holes(self, outline, samples: np.ndarray, axis: int, level: float):
        """The section with the round holes the seal filled cut out (their walls' samples ring inside the
        material; a point cloud's from its points off flat faces in the slab between the flat faces
        around the level, kept where they reach the level; each circle inside the section), and those
        holes remembered in ``round_holes``; any failure leaves the section as it was."""
        occ = self.occupancy
        holes: list[RoundHole] = []
        try:
            if self.surface.mesh is not None:
                holes = sealed_holes(outline, samples, occ.pitch, occ.radius, self.surface.noise)
            else:
                walls, heights = self._cloud_walls(axis, level)
                found = sealed_holes(outline, walls, occ.pitch, occ.radius, self.surface.noise)
                reach = self._slab_half() + occ.pitch
                holes = [h for h in found if _wall_reaches(h, walls, heights, level, reach, occ.pitch)]
            holes = [h for h in holes if outline.contains(h.polygon)]  # a hole, not a notch in an edge
            cut = with_holes(outline, holes)
        except Exception as exc:  # the section without them is still a section
            log.debug("sealed holes not cut: %s: %s", type(exc).__name__, exc)
            cut = outline
        self.round_holes[(axis, level)] = holes if cut is not outline else []
        return cut

    def _clear_of_faces(self, axis: int, level: float) -> float:
        """The level moved (within its slab) at least a margin away from flat faces across the axis: a
        noisy face's samples spread over a few sigmas, a slab of points over its thickness, a voxel layer
        over a voxel."""
        margin = self._face_margin()
        below, above = self._slab_around(axis, level)
        if above - below < 2.0 * margin:
            return 0.5 * (below + above)
        return float(np.clip(level, below + margin, above - margin))

    def _face_margin(self) -> float:
        margin = max(FACE_SIGMAS * self.surface.noise, self._slab_half(), self.occupancy.pitch)
        return margin + FACE_CLEARANCE

    def _slab_around(self, axis: int, level: float) -> tuple[float, float]:
        """The heights of the flat faces (or the input's ends) next below and above ``level``."""
        lo, hi = self.bounds[:, axis]
        faces = [h for h, _ in self.flat_clusters(axis)] + [lo, hi]
        below = max((h for h in faces if h <= level), default=lo)
        return below, min((h for h in faces if h > level), default=hi)

    def _slab_half(self) -> float:
        return 0.0 if self.surface.mesh is not None else 0.5 * self.surface.seal

    def _cloud_walls(self, axis: int, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(2D points, their heights) of a point cloud's walls across the level's slab (between the flat
        faces around it, clear of them): all of them, not only the thin slab of a section (a hole's wall
        has few points at one height)."""
        pts, normals = self.surface.shape_points, self.surface.normals
        keep = self._in_slab(axis, level, narrow=True) & (np.abs(normals[:, axis]) < FLAT_NORMAL)
        return pts[keep][:, list(SKETCH_COLUMNS[axis])], pts[keep, axis]

    def _in_slab(self, axis: int, level: float, narrow: bool = False) -> np.ndarray:
        """Which of a point cloud's shape points lie between the flat faces around ``level``, clear of
        them by the face margin (``narrow``: by at most a quarter of a thin slab's height)."""
        below, above = self._slab_around(axis, level)
        margin = self._face_margin()
        if narrow:
            margin = min(margin, 0.25 * (above - below))
        h = self.surface.shape_points[:, axis]
        return (h > below + margin) & (h < above - margin)

    def _samples(self, axis: int, level: float) -> np.ndarray:
        """2D surface samples at the level: the mesh's section segments, else a slab of points."""
        cols = list(SKETCH_COLUMNS[axis])
        step = 0.5 * self.occupancy.pitch
        if self.surface.mesh is not None:
            lo, hi = self._triangle_ranges[axis]
            segs = _plane_segments(self._triangles[(lo < level) & (hi > level)], axis, level)
            return _along(segs[:, :, cols], step) if len(segs) else np.zeros((0, 2))
        pts, normals = self.surface.shape_points, self.surface.normals
        half = self._slab_half()
        dz, across = np.abs(pts[:, axis] - level), np.abs(normals[:, axis])
        keep = (dz <= half) & (across < FLAT_NORMAL)
        # upright walls project onto the section wherever they are in the slab: a taller slab of them
        keep |= self._in_slab(axis, level) & (dz <= TALL_SLAB * half) & (across < UPRIGHT_NORMAL)
        return pts[keep][:, cols]

    # --- profiles ---------------------------------------------------------------------------------

    def profiles(self, geom, quantize: bool = True) -> tuple[Profile, ...]:
        """Fitted, valid profiles of a section (on the token grid when ``quantize``)."""
        for seen, q, profiles in self._fitted:  # layers and levels often repeat a section
            if q == quantize and _similar(seen, geom):
                return profiles
        fitted = fit_noisy_section(geom, self.tol, CORNER_VOXELS * self.occupancy.pitch)
        snapped = (snap_profile(p, quantize) for p in fitted)
        profiles = tuple(p for p in snapped if p is not None)
        self._fitted.append((geom, quantize, profiles))
        return profiles


# --- helpers ----------------------------------------------------------------------------------------


def _flat_heights(surface: Surface, axis: int) -> np.ndarray:
    """Heights along ``axis`` of the samples on flat faces across it (``FLAT_NORMAL``)."""
    return surface.shape_points[np.abs(surface.normals[:, axis]) > FLAT_NORMAL, axis]


def _face_band(surface: Surface) -> float:
    """Half the height band of one flat face's samples: within it they are one face."""
    return max(STEP_BIN, STEP_SIGMAS * surface.noise)


def _flat_clusters(surface: Surface, axis: int) -> list[tuple[float, float]]:
    """Dense layers of flat samples' heights: (median height, area), largest area first. Peaks of the
    count within ``width`` of each sample, taken greedily, none overlapping another."""
    h = np.sort(_flat_heights(surface, axis))
    per_point = surface.area / len(surface.shape_points)
    width = _face_band(surface)
    lo = np.searchsorted(h, h - width, side="left")
    hi = np.searchsorted(h, h + width, side="right")
    count = hi - lo
    # a peak suppresses the samples of its face's noise tails (no satellite steps beside a noisy face)
    zlo = np.searchsorted(h, h - 2.0 * width, side="left")
    zhi = np.searchsorted(h, h + 2.0 * width, side="right")
    taken = np.zeros(len(h), dtype=bool)
    out = []
    for i in np.argsort(-count, kind="stable"):
        if count[i] * per_point < STEP_MIN_AREA:
            break
        if taken[i]:
            continue
        taken[zlo[i] : zhi[i]] = True
        out.append((float(np.median(h[lo[i] : hi[i]])), float(count[i] * per_point)))
    return out


def _dense_layers(surface: Surface, axis: int) -> list[tuple[float, float]]:
    """Flat faces told by where the samples lie, not by their normals: (height, area) of the layers
    that hold more samples than the walls through them account for, largest first.

    A narrow face (a flange's underside a few samples wide, a ledge) has no sample whose neighbourhood
    lies on it alone, so its estimated normals lean towards the walls beside it and ``_flat_clusters``
    does not see it; its samples still crowd at its height. Within one face band of each sample's
    height, the samples beyond what the band's share of the layers ``DENSE_RING`` bands either side
    holds (the walls passing through), kept when that excess is a step's area and at least
    ``DENSE_SUPPORT`` of it faces the axis within ``DENSE_NORMAL`` (leaning normals, not walls)."""
    order = np.argsort(surface.shape_points[:, axis])
    h = surface.shape_points[order, axis]
    facing = np.abs(surface.normals[order, axis]) > DENSE_NORMAL
    per_point = surface.area / len(surface.shape_points)
    width = _face_band(surface)
    lo, hi = np.searchsorted(h, h - width, side="left"), np.searchsorted(h, h + width, side="right")
    ring_lo = np.searchsorted(h, h - (1 + DENSE_RING) * width, side="left")
    ring_hi = np.searchsorted(h, h + (1 + DENSE_RING) * width, side="right")
    ring = (ring_hi - ring_lo) - (hi - lo)  # samples 1 .. 1 + DENSE_RING bands away, both sides
    excess = (hi - lo) - ring / DENSE_RING  # the band (2 w) holds this share of the ring (2 * DENSE_RING w)
    cum = np.concatenate([[0], np.cumsum(facing)])
    support = cum[hi] - cum[lo]
    taken = np.zeros(len(h), dtype=bool)
    out = []
    for i in np.argsort(-excess, kind="stable"):
        if excess[i] * per_point < STEP_MIN_AREA:
            break
        if taken[i] or support[i] < DENSE_SUPPORT * excess[i]:
            continue
        taken[ring_lo[i] : ring_hi[i]] = True
        out.append((float(np.median(h[lo[i] : hi[i]])), float(excess[i] * per_point)))
    return out


def _wall_reaches(
    hole: RoundHole, walls: np.ndarray, heights: np.ndarray, level: float, reach: float, pitch: float
):
    """Some of the wall points on the hole's circle (within a voxel) lie within ``reach`` of ``level``:
    the hole is there at the level, not only elsewhere in the slab (a blind hole ending above it)."""
    on = np.abs(np.hypot(walls[:, 0] - hole.centre[0], walls[:, 1] - hole.centre[1]) - hole.radius) <= pitch
    return bool(np.any(np.abs(heights[on] - level) <= reach))


def _similar(a, b) -> bool:
    """Two sections the same within ``SAME_FIT`` of their union's area (they get the same profiles)."""
    if abs(a.area - b.area) > SAME_FIT * max(a.area, b.area):
        return False
    union = a.union(b).area
    return union <= 0 or a.symmetric_difference(b).area <= SAME_FIT * union


def _near(samples: np.ndarray, origin: np.ndarray, pitch: float, radius: float, shape) -> np.ndarray:
    """Pixels within ``radius`` of a sample."""
    cells = np.round((samples - origin) / pitch).astype(np.int64)
    cells = unique_cells(cells[np.all((cells >= 0) & (cells < np.array(shape)), axis=1)])
    n = int(np.floor(radius / pitch))
    g = np.arange(-n, n + 1)
    offsets = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    offsets = offsets[(offsets**2).sum(axis=1) <= (radius / pitch) ** 2]
    out = np.zeros(shape, dtype=bool)
    for o in offsets:
        c = cells + o
        ok = np.all((c >= 0) & (c < np.array(shape)), axis=1)
        out[c[ok, 0], c[ok, 1]] = True
    return out


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


def _refine(geom, samples: np.ndarray, pitch: float, reach: float):
    """Every ring of the sealed outline moved inward onto the first surface samples it meets."""
    tree = cKDTree(samples)
    polys = []
    for poly in polygons_of(geom):
        poly = orient(poly, 1.0)  # exterior counter-clockwise, holes clockwise: material on the left
        shell = _snap_ring_twice(np.asarray(poly.exterior.coords)[:-1], samples, tree, pitch, reach)
        holes = [
            _snap_ring_twice(np.asarray(r.coords)[:-1], samples, tree, pitch, reach) for r in poly.interiors
        ]
        if shell is None:
            continue
        candidate = Polygon(shell, [h for h in holes if h is not None])
        if not candidate.is_valid:
            candidate = shapely.make_valid(candidate, method="structure", keep_collapsed=False)
        polys.extend(p for p in polygons_of(candidate) if p.area >= MIN_AREA)
    if not polys:
        return None
    if len(polys) == 1:
        return polys[0]
    merged = MultiPolygon(polys)
    return merged if merged.is_valid else shapely.union_all(polys)


def _snap_ring_twice(ring: np.ndarray, samples: np.ndarray, tree: cKDTree, pitch: float, reach: float):
    """``_snap_ring``, then again from where it put the ring: the second pass's normals come from a ring
    on the surface, not from the voxel outline's steps, and its moves are small."""
    first = _snap_ring(ring, samples, tree, pitch, reach)
    if first is None:
        return None
    second = _snap_ring(first, samples, tree, pitch, pitch)
    return first if second is None else second


def _snap_ring(ring: np.ndarray, samples: np.ndarray, tree: cKDTree, pitch: float, reach: float):
    """Resample a sealed outline ring at half a voxel, smooth it, and move each vertex inward (against its
    outward normal) onto the samples first met within ``reach`` in a voxel-wide lane; vertices that meet
    none are dropped (None when too few remain)."""
    pts = _resample_closed(ring, 0.5 * pitch)
    if len(pts) < 8:
        return None
    k = 3
    smooth = sum(np.roll(pts, s, axis=0) for s in range(-k, k + 1)) / (2 * k + 1)
    tangent = np.roll(smooth, -2, axis=0) - np.roll(smooth, 2, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    outward = np.column_stack([tangent[:, 1], -tangent[:, 0]])  # material on the left of the direction
    dist, idx = tree.query(smooth, k=SNAP_NEIGHBOURS, distance_upper_bound=reach)
    found = np.isfinite(dist)
    d = np.vstack([samples, np.zeros((1, 2))])[idx] - smooth[:, None, :]
    along = np.einsum("nkd,nd->nk", d, tangent)
    depth = -np.einsum("nkd,nd->nk", d, outward)  # how far inward
    valid = found & (np.abs(along) <= 0.75 * pitch) & (depth >= -pitch)
    ok = valid.any(axis=1)
    if ok.mean() < MIN_SUPPORT:
        return None
    first = np.min(np.where(valid, depth, np.inf), axis=1, keepdims=True)
    valid &= depth <= first + 0.5 * pitch
    ranked = np.sort(np.where(valid, depth, np.inf)[ok], axis=1)  # valid depths first, in order
    half = valid[ok].sum(axis=1) - 1
    rows = np.arange(len(ranked))
    shift = 0.5 * (ranked[rows, half // 2] + ranked[rows, (half + 1) // 2])  # the median
    return smooth[ok] - shift[:, None] * outward[ok]


def _resample_closed(ring: np.ndarray, step: float) -> np.ndarray:
    closed = np.vstack([ring, ring[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    n = max(int(np.ceil(s[-1] / step)), 3)
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.column_stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])])


def _without_specks(geom, min_area: float):
    polys = []
    for p in polygons_of(geom):
        if p.area >= min_area:
            holes = [r for r in p.interiors if Polygon(r).area >= min_area]
            polys.append(Polygon(p.exterior, holes) if len(holes) < len(p.interiors) else p)
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)
