"""Snap a model's program to the mesh: right structure, rough numbers -> exact numbers.

For every feature sketched on an axis plane (the others are kept as written):

1. Extent: both ends of the extrusion move to the nearest level where the mesh has a flat face facing
   that axis (or to the mesh's end), when one lies within ``STEP_SNAP`` of it.
2. Sketch: each loop is replaced by the loop of the mesh's cross-section, fitted at a few heights in the
   snapped extrusion (``SNAP_HEIGHTS``; the middle one for a scan or a point cloud), that overlaps it
   with an intersection over union of at least ``MATCH_IOU``: of the fits within ``SAME_REGION`` of the
   best overlap, the one with the fewest curves (a curved wall sliced at another height can fit with
   fewer; ``_simplest``). The section loops are the fitted lines, arcs and circles of the section
   candidates (``backend.sections``), so a snapped loop is as exact as theirs; a loop keeps the turning
   sense the model gave it.

A second, looser pass (``snap(program, loose=True)``) is for programs whose structure is right and whose
numbers are far off: ends move to the nearest level within ``LOOSE_STEP_SNAP``, and a loop that overlaps
no section loop that well takes a section loop of its kind that covers it, or that it covers, by at least
``LOOSE_COVER`` of the smaller one's area, the two areas within a factor ``LOOSE_AREA_RATIO`` or the two
centred on each other (``LOOSE_CENTRED``): a circle drawn too large around the true boss, a slot drawn
off-centre, a washer's hole drawn too small; not a pin drawn off-centre inside a plate. The highest
intersection over union comes first, then the simplest fit as above. Its kind: empty space at the
section's level (a cut's outline, a hole of a join's profile) matches the section's holes; material (a
join's outline, a hole of a cut's profile: an island the cut leaves) its outer rings. The verifier
judges both passes.

``snap_faces`` moves only flat faces, for a program already chosen (``candidates.on_flat_levels``), and
only onto measured flat faces (``flat_levels``: not an end that is a scan's extreme sample): the
extrusion's ends as in 1, and each wall a loop draws as a line along a sketch axis (on a plane whose
sketch axes are world axes, both neighbours lines) to the nearest flat face of that axis within
``STEP_SNAP``, the corners it shares moving with it; no loop is replaced.

The slicer is the pipeline's own (exact for a clean mesh, robust for scans and point clouds); its
sections are cached, so candidates that snap to the same slab cost one slice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import Polygon

from backend.cad.curves import CurveError, loop_area, oriented
from backend.cad.program import (
    Extent,
    ExtentKind,
    Extrude,
    Line,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
    dot,
    map_loop,
)
from backend.cad.tessellate import tessellate_loop
from backend.sections.candidates import HEIGHT_JITTER, SKETCH_COLUMNS, MeshSlicer
from backend.sections.slices import RobustSlicer

STEP_SNAP = 0.03  # normalised units: an extrusion end this close to a flat level moves onto it
LOOSE_STEP_SNAP = 0.15  # the loose pass: ends this close to a level move onto it
LOOSE_COVER = 0.5  # the loose pass: a section loop this much inside the predicted one (or it inside the
# section loop), on the smaller one's area, is the predicted loop's match when none reaches MATCH_IOU ...
LOOSE_AREA_RATIO = 0.1  # ... when the smaller area is at least this share of the larger, or when their
LOOSE_CENTRED = 0.1  # centroids are this close, relative to the larger one's size (its area's root)
MATCH_IOU = 0.5  # a predicted loop and a section loop overlapping less than this are not the same loop
AXIS_COS = 0.9999  # a sketch normal this close to an axis is on that axis
MAX_STEPS = 16  # flat levels per axis considered
# relative heights in the snapped extrusion where its section is fitted (a scan's or a point cloud's
# robust slicer, ~15 ms a section, only the first: its fits do not follow a tessellation anyway)
SNAP_HEIGHTS = (0.5, 0.3, 0.7)
SAME_REGION = 0.01  # matches scoring within this share of the best are the same loop
SAME_PLACE = 1e-12  # a wall this close to its level is on it (round-off of the frame's offset)


def axis_of(plane: Plane) -> tuple[int, float] | None:
    """(axis, sign) of an axis-aligned sketch normal, else None."""
    return _direction_axis(plane.normal)


def _direction_axis(direction) -> tuple[int, float] | None:
    """(axis, sign) of a unit direction along a world axis, else None."""
    n = np.asarray(direction, dtype=float)
    axis = int(np.argmax(np.abs(n)))
    if abs(n[axis]) < AXIS_COS:
        return None
    return axis, float(np.sign(n[axis]))


def _polygon(loop: Loop) -> Polygon | None:
    """The loop's region; a loop that crosses itself (vertices written in the wrong order) stands for
    the region its vertices span, its convex hull, so that it can still find its section loop."""
    pts = tessellate_loop(loop)
    if len(pts) < 3:
        return None
    poly = Polygon(pts)
    if not poly.is_valid:
        poly = shapely.convex_hull(poly)
    return poly if poly.area > 0 else None


class Snapper:
    """Snaps programs in the normalised frame to one mesh (through its slicer)."""

    def __init__(self, slicer: MeshSlicer | RobustSlicer) -> None:
        self.slicer = slicer
        self._levels: dict[tuple[int, bool, bool], np.ndarray] = {}  # (axis, flat only, search) -> heights
        self._rings: dict[tuple[int, float], list[tuple[Loop, Polygon, bool]]] = {}

    def levels(self, axis: int) -> np.ndarray:
        """World heights along ``axis`` where an extrusion may end: the flat steps and both ends."""
        return self._level_set(axis, flat_only=False)

    def search_levels(self, axis: int) -> np.ndarray:
        """``levels`` with the smaller flat faces of a clean mesh (``MeshSlicer.search_steps``: a small
        pocket's floor), where the level search tries extrusion ends; a scan's or a cloud's: ``levels``."""
        if not hasattr(self.slicer, "search_steps"):
            return self.levels(axis)
        return self._level_set(axis, flat_only=False, search=True)

    def flat_levels(self, axis: int) -> np.ndarray:
        """World heights along ``axis`` of the mesh's measured flat faces: the flat steps, and each end
        that is a flat face (a scan's or a point cloud's end without one is its extreme sample, which the
        noise pushes outwards: not a face's height)."""
        return self._level_set(axis, flat_only=True)

    def _level_set(self, axis: int, flat_only: bool, search: bool = False) -> np.ndarray:
        key = (axis, flat_only, search)
        if key not in self._levels:
            flat = getattr(self.slicer, "flat_ends", None) if flat_only else None  # exact route: all faces
            ends = [float(self.slicer.bounds[k, axis]) for k in (0, 1) if flat is None or flat[k, axis]]
            steps = self.slicer.search_steps if search else self.slicer.steps
            self._levels[key] = np.array(sorted({*ends, *steps(axis, MAX_STEPS)}))
        return self._levels[key]

    def rings(self, axis: int, level: float) -> list[tuple[Loop, Polygon, bool]]:
        """Fitted loops (outer rings and holes, section coordinates) of the section at ``level``, each
        with whether it is a hole."""
        key = (axis, round(level, 9))
        if key not in self._rings:
            geom = self.slicer.polygons(axis, level)
            profiles = self.slicer.profiles(geom, quantize=False) if geom is not None else ()
            loops = [(lp, k > 0) for p in profiles for k, lp in enumerate(p.loops)]
            self._rings[key] = [(lp, poly, hole) for lp, hole in loops if (poly := _polygon(lp)) is not None]
        return self._rings[key]

    @staticmethod
    def _snap_height(t: float, levels_t: np.ndarray, reach: float) -> float:
        if len(levels_t) == 0:
            return t
        k = int(np.argmin(np.abs(levels_t - t)))
        return float(levels_t[k]) if abs(levels_t[k] - t) <= reach else t

    def snap_feature(self, feature: Extrude, loose: bool = False) -> Extrude:
        """The feature with its extent ends and loops snapped (see the module doc; ``loose``: the looser
        pass)."""
        found = axis_of(feature.sketch.plane)
        ends = self._snapped_ends(feature, self.levels, loose)
        if found is None or ends is None:
            return feature
        axis, sign = found
        plane2, extent2, h2 = ends
        lo_t, hi_t = (h2 + t for t in extent2.interval())
        heights = SNAP_HEIGHTS if isinstance(self.slicer, MeshSlicer) else SNAP_HEIGHTS[:1]
        rings = [  # the section candidates' relative heights, off round fractions as theirs are
            ring
            for r in heights
            for ring in self.rings(axis, sign * (lo_t + (r + HEIGHT_JITTER) * (hi_t - lo_t)))
        ]
        to_section, to_sketch = _maps(plane2, axis)
        cut = feature.operation is Operation.CUT  # its outline is empty at that level, its holes material
        profiles = tuple(
            Profile(
                self._snap_loop(p.outer, rings, to_section, to_sketch, loose, hole=cut),
                tuple(self._snap_loop(h, rings, to_section, to_sketch, loose, hole=not cut) for h in p.holes),
            )
            for p in feature.sketch.profiles
        )
        return Extrude(Sketch(plane2, profiles), extent2, feature.operation)

    def _snapped_ends(
        self, feature: Extrude, levels: Callable[[int], np.ndarray], loose: bool = False
    ) -> tuple[Plane, Extent, float] | None:
        """The feature's sketch plane and extent with both ends of the extrusion snapped to ``levels(axis)``
        (module doc, 1), and the plane's height along its normal; None when its plane is not on an axis
        or the snapped extrusion would be empty."""
        found = axis_of(feature.sketch.plane)
        if found is None:
            return None
        axis, sign = found
        plane, extent = feature.sketch.plane, feature.extent
        normal = plane.normal
        h = dot(plane.origin, normal)  # plane height along its normal
        levels_t = sign * levels(axis)  # heights along the normal
        reach = LOOSE_STEP_SNAP if loose else STEP_SNAP
        snap = lambda t: self._snap_height(t, levels_t, reach)  # noqa: E731
        if extent.kind is ExtentKind.ONE_SIDE:
            h2 = snap(h)
            extent2 = Extent(extent.kind, snap(h + extent.d1) - h2)
        elif extent.kind is ExtentKind.SYMMETRIC:
            lo, hi = snap(h - abs(extent.d1)), snap(h + abs(extent.d1))
            h2, extent2 = 0.5 * (lo + hi), Extent(extent.kind, 0.5 * (hi - lo))
        else:
            h2 = h
            extent2 = Extent(extent.kind, snap(h + extent.d1) - h, h - snap(h - extent.d2))
        lo_t, hi_t = extent2.interval()
        if hi_t - lo_t <= 0:
            return None
        origin = tuple(o + (h2 - h) * n for o, n in zip(plane.origin, normal))
        return Plane(origin, plane.x_dir, normal), extent2, h2

    def snap_faces(self, program: Program, walls: bool = True) -> Program:
        """Every feature with its flat faces on the mesh's measured flat faces (``flat_levels``, the
        strict reach): both ends of its extrusion (module doc, 1) and, with ``walls``, each wall its loops
        draw as a line along a sketch axis (``_loop_walls_snapped``; on a plane whose sketch axes are
        world axes), moved with the corners it shares; nothing else changes (no loop is replaced)."""
        out = []
        for f in program.features:
            ends = self._snapped_ends(f, self.flat_levels)
            plane, extent = ends[:2] if ends is not None else (f.sketch.plane, f.extent)
            profiles = self._walls_snapped(f.sketch.profiles, plane) if walls else f.sketch.profiles
            out.append(Extrude(Sketch(plane, profiles), extent, f.operation))
        return Program(tuple(out))

    def _walls_snapped(self, profiles: tuple[Profile, ...], plane: Plane) -> tuple[Profile, ...]:
        """``profiles`` (on ``plane``) with their axis-parallel walls on the flat levels (``snap_faces``)."""
        frame = [_direction_axis(d) for d in (plane.x_dir, plane.y_dir)]
        if any(a is None for a in frame):
            return profiles
        snaps = []  # per sketch coordinate: sketch value -> snapped sketch value (itself when none is near)
        for axis, sign in frame:
            o, levels = float(plane.origin[axis]), self.flat_levels(axis)

            def snap(c: float, o: float = o, sign: float = sign, levels: np.ndarray = levels) -> float:
                t = o + sign * c
                snapped = self._snap_height(t, levels, STEP_SNAP)
                return c if abs(snapped - t) <= SAME_PLACE else sign * (snapped - o)

            snaps.append(snap)
        return tuple(
            Profile(
                _loop_walls_snapped(p.outer, snaps), tuple(_loop_walls_snapped(h, snaps) for h in p.holes)
            )
            for p in profiles
        )

    @staticmethod
    def _snap_loop(loop: Loop, rings, to_section, to_sketch, loose: bool = False, hole: bool = False) -> Loop:
        """``loop`` replaced by the section loop it matches (module doc); ``hole``: it stands for empty
        space at the section's level, which the loose pass matches only with the section's holes (and
        material only with its outer rings)."""
        poly = _polygon(map_loop(loop, to_section))
        if poly is None or not rings:
            return loop
        matches, covers = [], []  # (ring, IoU): those that match, those that cover (the loose pass)
        for ring, ring_poly, ring_hole in rings:
            inter = poly.intersection(ring_poly).area
            if inter <= 0:
                continue
            iou = inter / poly.union(ring_poly).area
            if iou >= MATCH_IOU:
                matches.append((ring, iou))
            if loose and ring_hole is hole and _covers(poly, ring_poly, inter):
                covers.append((ring, iou))
        best = _simplest(matches) or _simplest(covers)
        if best is None:
            return loop
        return oriented(map_loop(best, to_sketch), loop_area(loop) > 0)

    def snap(self, program: Program, loose: bool = False) -> Program:
        """Every feature snapped; the program's structure (features, operations, planes' axes) is kept.
        ``loose``: the looser pass (module doc)."""
        return Program(tuple(self.snap_feature(f, loose) for f in program.features))


def _loop_walls_snapped(loop: Loop, snaps) -> Loop:
    """``loop`` with each line along a sketch axis moved by ``snaps[k]`` (a map of the coordinate ``k`` it
    keeps), the corners it shares with its neighbours moved with it: only a line whose two neighbours are
    lines not in line with it (a collinear neighbour would be left half moved); lines off the axes by any
    amount are not walls here. A loop that the moves would make invalid (a rib or a slit thinner than the
    noise band, its two walls on one level) or turn over is kept as it was."""
    curves = list(loop.curves)
    n = len(curves)
    if n < 3 or not any(isinstance(c, Line) for c in curves):
        return loop
    corners = [list(c.start) if isinstance(c, Line) else None for c in curves]  # corner k starts curve k
    moved = False
    for i, c in enumerate(curves):
        prev, nxt = curves[i - 1], curves[(i + 1) % n]
        if not (isinstance(c, Line) and isinstance(prev, Line) and isinstance(nxt, Line)):
            continue
        for k in (0, 1):
            if c.start[k] != c.end[k]:
                continue  # not a wall along the other sketch axis
            if any(d.start[k] == d.end[k] == c.start[k] for d in (prev, nxt)):
                continue  # in line with a neighbour
            value = snaps[k](c.start[k])
            if value != c.start[k]:
                corners[i][k] = corners[(i + 1) % n][k] = value
                moved = True
    if not moved:
        return loop
    out = []
    for i, c in enumerate(curves):
        if isinstance(c, Line):
            end = corners[(i + 1) % n]
            c = Line((corners[i][0], corners[i][1]), c.end if end is None else (end[0], end[1]))
        out.append(c)
    snapped = Loop(tuple(out))
    try:
        before, after = Polygon(tessellate_loop(loop)), Polygon(tessellate_loop(snapped))
    except (CurveError, ValueError):
        return loop
    if not after.is_valid or after.area <= 0 or (loop_area(snapped) > 0) != (loop_area(loop) > 0):
        return loop
    return snapped if before.is_valid else loop


def _covers(poly: Polygon, ring_poly: Polygon, inter: float) -> bool:
    """The loose pass's test (module doc): one loop covers the other by ``LOOSE_COVER`` of the smaller's
    area, and the two are of a size (``LOOSE_AREA_RATIO``) or centred on each other (``LOOSE_CENTRED``)."""
    small, large = sorted((poly.area, ring_poly.area))
    if inter < LOOSE_COVER * small:
        return False
    if small >= LOOSE_AREA_RATIO * large:
        return True
    return poly.centroid.distance(ring_poly.centroid) <= LOOSE_CENTRED * large**0.5


def _simplest(scored: list[tuple[Loop, float]]) -> Loop | None:
    """Of the loops scoring within ``SAME_REGION`` (relative) of the best, the one with the fewest curves
    (then the best score): the same region fitted at several heights, the simplest fit."""
    if not scored:
        return None
    top = max(score for _, score in scored)
    near = [
        (len(ring.curves), -score, k)
        for k, (ring, score) in enumerate(scored)
        if score >= top * (1 - SAME_REGION)
    ]
    return scored[min(near)[2]][0]


def _maps(plane: Plane, axis: int):
    """(sketch -> section coordinates, section -> sketch coordinates) for a plane on ``axis``."""
    cols = SKETCH_COLUMNS[axis]
    o = np.asarray(plane.origin, dtype=float)
    x, y = np.asarray(plane.x_dir, dtype=float), np.asarray(plane.y_dir, dtype=float)

    def to_section(p: tuple[float, float]) -> tuple[float, float]:
        w = o + p[0] * x + p[1] * y
        return (float(w[cols[0]]), float(w[cols[1]]))

    def to_sketch(p: tuple[float, float]) -> tuple[float, float]:
        w = o.copy()
        w[cols[0]], w[cols[1]] = p
        d = w - o
        return (float(d @ x), float(d @ y))

    return to_section, to_sketch
