"""Round holes a scan's sections show on any axis, cut into the best candidates.

On a clean mesh the features a candidate built along one axis lacks on the others (a bolt hole through
an L-bracket's leg, the holes across a bar) come from the residual features and the outline trims, which
need the input's exact volume. A scan or a point cloud has none, and its sealed solid fills such holes;
but its sections find them again (``sections.sealed_holes``: the hole's wall, sampled, rings inside the
material). ``scanned_holes`` gathers the holes the robust slicer's sections found on each axis, one per
hole, each with the span along its axis where the input's samples line its wall; ``with_hole_cuts``
offers the lowest-loss candidate of each source (the model's, the sections') with the holes it lacks cut
into it (through the candidate's face where it has no material past the span's end: a through hole is
cut through, whatever the round-off between the measured end and the candidate's face), the cuts of one
axis and span in one sketch. The verifier judges the result like any other candidate: the holes' walls
are samples the candidate without them is far from, so the cut wins on fidelity where the holes change
the distance by more than the rule's tie. A small hole changes it by less, and the more compact
candidate without it would win; so the rule's choice is also offered with the holes it lacks, of the
equally faithful candidates the rule takes those that show more of the holes first (``holes_shown``,
``refine.pick_keeping_volume``), and the volume test's reference has the holes carved out of the sealed
solid (``carved``), so it neither counts a hole against the candidate that has it nor lets a candidate
that shows a hole but misses material elsewhere win.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import trimesh

from backend.cad.intent import cuts_as_drawn
from backend.cad.program import Circle, Loop, Operation, Profile, Program
from backend.geometry.containment import points_inside
from backend.geometry.solid import program_to_mesh
from backend.sections.candidates import extrusion_feature
from backend.sections.slices import FLAT_NORMAL, SKETCH_COLUMNS, RobustSlicer
from backend.verify.rank import Candidate, lowest_by_source
from backend.verify.reference import IouScorer

log = logging.getLogger(__name__)

SAME_CENTRE = 0.5  # holes of one axis whose centres are closer than this share of the radius are one
WALL_SIGMAS = 3.0  # samples this many noise sigmas (at least half a voxel) from a hole's circle line it
WALL_GAP_SEALS = 2.0  # the wall ends where its samples leave a gap of this many sealing radii along the axis
MIN_WALL_POINTS = 6  # samples of a wall, for its span
PAST_FACE = 0.005  # normalised units: a span's end is carried past the solid's face by twice this
AROUND = 1.5  # a solid shows a hole with material this many radii from its centre, on one side at least


@dataclass(frozen=True)
class AxisHole:
    """A round hole along ``axis``: its circle in the sketch frame of the axis's canonical plane, cut from
    ``lo`` to ``hi`` along the axis (normalised frame)."""

    axis: int
    centre: tuple[float, float]
    radius: float
    lo: float
    hi: float


def scanned_holes(slicer: RobustSlicer) -> list[AxisHole]:
    """The distinct round holes of the sections the slicer has cut so far, with their walls' spans (a
    hole found at several levels of its span is one; coaxial holes with material between them, two)."""
    out: list[AxisHole] = []
    for (axis, level), holes in sorted(slicer.round_holes.items()):
        for hole in holes:
            if any(
                h.axis == axis
                and h.lo <= level <= h.hi
                and np.hypot(h.centre[0] - hole.centre[0], h.centre[1] - hole.centre[1])
                < SAME_CENTRE * h.radius
                for h in out
            ):
                continue
            span = _wall_span(slicer, axis, level, hole.centre, hole.radius)
            if span is not None:
                out.append(AxisHole(axis, hole.centre, hole.radius, *span))
    return out


def _wall_span(
    slicer: RobustSlicer, axis: int, level: float, centre: tuple[float, float], radius: float
) -> tuple[float, float] | None:
    """(lo, hi) along ``axis`` of the hole's wall: the input's samples on the hole's circle that are not on
    faces across the axis, the run of them around ``level`` (gaps of less than ``WALL_GAP_SEALS``
    sealing radii), each end moved onto the nearest flat face (or the input's end) within a sealing
    radius beyond it; None without enough of them, or for a span shorter than a voxel."""
    surface = slicer.surface
    pts = surface.shape_points
    u, v = SKETCH_COLUMNS[axis]
    band = max(WALL_SIGMAS * surface.noise, 0.5 * slicer.occupancy.pitch)
    off = np.hypot(pts[:, u] - centre[0], pts[:, v] - centre[1]) - radius
    on_wall = (np.abs(off) <= band) & (np.abs(surface.normals[:, axis]) < FLAT_NORMAL)  # not a face across
    heights = np.sort(pts[on_wall, axis])
    if len(heights) < MIN_WALL_POINTS:
        return None
    gaps = np.flatnonzero(np.diff(heights) > WALL_GAP_SEALS * surface.seal)
    starts = np.concatenate([[0], gaps + 1])
    ends = np.concatenate([gaps, [len(heights) - 1]])
    for s, e in zip(starts, ends, strict=True):
        lo, hi = float(heights[s]), float(heights[e])
        if lo - band <= level <= hi + band and e - s + 1 >= MIN_WALL_POINTS:
            faces = [h for h, _ in slicer.flat_clusters(axis)] + list(slicer.bounds[:, axis])
            lo = max((h for h in faces if lo - surface.seal <= h <= lo), default=lo)
            hi = min((h for h in faces if hi <= h <= hi + surface.seal), default=hi)
            return (lo, hi) if hi - lo >= slicer.occupancy.pitch else None
    return None


def _points_of(hole: AxisHole, height: float, offsets: Sequence[tuple[float, float]]) -> np.ndarray:
    """3D points at ``height`` along the hole's axis, each its centre moved by an offset (sketch frame)."""
    u, v = SKETCH_COLUMNS[hole.axis]
    points = np.zeros((len(offsets), 3))
    points[:, hole.axis] = height
    points[:, u] = hole.centre[0] + np.array([o[0] for o in offsets])
    points[:, v] = hole.centre[1] + np.array([o[1] for o in offsets])
    return points


def _has_material(solid: trimesh.Trimesh, hole: AxisHole, height: float) -> bool:
    """The solid has material on the hole's centre line at ``height`` along its axis."""
    return bool(points_inside(solid, _points_of(hole, height, [(0.0, 0.0)]))[0])


def _lacks(solid: trimesh.Trimesh, hole: AxisHole) -> bool:
    """The solid has material at the middle of the hole's span: it lacks the hole."""
    return _has_material(solid, hole, 0.5 * (hole.lo + hole.hi))


def hole_cuts(program: Program, holes: Sequence[AxisHole], solid: trimesh.Trimesh) -> Program:
    """``program`` (whose solid is ``solid``) with ``holes`` as cuts, their spans' ends carried a step
    past the solid's face where it has no material just beyond the end (a through hole cuts through,
    whatever the measured end's round-off against the program's own face); the cuts of one axis and one
    span (or through all) then share one sketch (``cad.intent.cuts_as_drawn``)."""
    cuts = []
    for h in holes:
        lo, hi = h.lo, h.hi
        if not _has_material(solid, h, lo - PAST_FACE):
            lo -= 2.0 * PAST_FACE
        if not _has_material(solid, h, hi + PAST_FACE):
            hi += 2.0 * PAST_FACE
        profile = Profile(Loop((Circle(h.centre, h.radius),)))
        cuts.append(extrusion_feature((profile,), h.axis, lo, hi, Operation.CUT, quantize=False))
    cut = Program(program.features + tuple(cuts))
    return cuts_as_drawn(cut) or cut


def gathered_holes(slicer: RobustSlicer) -> list[AxisHole]:
    """``scanned_holes``, or none when gathering them fails (the candidates then stay as they are)."""
    try:
        return scanned_holes(slicer)
    except Exception as exc:  # no holes is the candidates as they are
        log.debug("scanned holes not gathered: %s: %s", type(exc).__name__, exc)
        return []


def _shows(solid: trimesh.Trimesh, hole: AxisHole) -> bool:
    """At the middle of the hole's span the solid has no material on its centre line but some around
    it (``AROUND`` radii out, on one of four sides): a hole, not a region the solid lacks altogether."""
    r = AROUND * hole.radius
    offsets = [(0.0, 0.0), (r, 0.0), (-r, 0.0), (0.0, r), (0.0, -r)]
    inside = points_inside(solid, _points_of(hole, 0.5 * (hole.lo + hole.hi), offsets))
    return not inside[0] and bool(inside[1:].any())


def holes_shown(holes: Sequence[AxisHole]) -> Callable[[Candidate], int]:
    """How many of ``holes`` a candidate's solid shows (``_shows``): of the equally faithful candidates,
    the verifier's rule puts those that show more of the holes the samples show first
    (``refine.pick_keeping_volume``). A solid that cannot be asked shows none."""

    def shown(c: Candidate) -> int:
        try:
            return sum(_shows(c.mesh, h) for h in holes)
        except Exception as exc:  # an unanswerable solid shows no hole
            log.debug("holes not counted: %s: %s", type(exc).__name__, exc)
            return 0

    return shown


def carved(reference: IouScorer | None, holes: Sequence[AxisHole]) -> IouScorer | None:
    """The volume reference of a scan or a point cloud (voxel occupancy of its sealed solid, which fills
    the holes) with ``holes`` carved out: the voxels whose centres lie in a hole's cylinder over its span
    are empty, so the volume test does not count a found hole against the candidate that has it. An
    exact reference, or none, is returned as it is."""
    if reference is None or reference.exact or not holes:
        return reference
    try:
        return _carved(reference, holes)
    except Exception as exc:  # the sealed reference is still a reference
        log.debug("holes not carved: %s: %s", type(exc).__name__, exc)
        return reference


def _carved(reference: IouScorer, holes: Sequence[AxisHole]) -> IouScorer:
    occ = reference.occ.copy()
    res = np.array(occ.shape)
    step = (reference.hi - reference.lo) / res
    centres = [reference.lo[a] + (np.arange(res[a]) + 0.5) * step[a] for a in range(3)]
    for h in holes:
        u, v = SKETCH_COLUMNS[h.axis]
        du = (centres[u] - h.centre[0])[:, None]
        dv = (centres[v] - h.centre[1])[None, :]
        disc = du**2 + dv**2 <= h.radius**2  # (res[u], res[v])
        along = (centres[h.axis] >= h.lo) & (centres[h.axis] <= h.hi)
        mask = np.zeros(occ.shape, dtype=bool)
        grid = np.moveaxis(mask, (u, v), (0, 1))  # a view: (u, v, axis)
        grid[:, :, along] = disc[:, :, None]
        occ &= ~mask
    out = copy.copy(reference)
    out.occ = occ
    return out


def with_hole_cuts(
    candidates: Sequence[Candidate],
    holes: Sequence[AxisHole],
    target: Callable[[trimesh.Trimesh], float],
    bases: Sequence[Candidate] | None = None,
) -> list[Candidate]:
    """The candidates, and each of ``bases`` (by default the lowest-loss one of each source) with the
    scanned ``holes`` it lacks cut into it (same source). A program that does not rebuild, or any
    failure, leaves the candidates as they are."""
    out = list(candidates)
    if not holes:
        return out
    for base in lowest_by_source(candidates) if bases is None else bases:
        try:
            missing = [h for h in holes if _lacks(base.mesh, h)]
            if not missing:
                continue
            program = hole_cuts(base.program, missing, base.mesh)
            mesh = program_to_mesh(program)
            cut = Candidate(program, base.source, mesh, target(mesh))
        except Exception as exc:  # a failing cut must not take the pipeline down; the base stays
            log.debug("hole cuts not offered: %s: %s", type(exc).__name__, exc)
            continue
        out.append(cut)
    return out
