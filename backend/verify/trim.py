"""Outline trims: cut what a candidate has outside the input's outline seen along an axis.

A candidate built one axis at a time keeps material that the part has nowhere along a line across
another axis: an ear's square corners where the part rounds them, the hole through a stack of ears, a
bar's ends cut at a slant seen from the side. Seen along an axis, that material lies outside the input's
silhouette (its triangles projected on the axis plane, ``silhouette``), so a cut through the part along
that axis, of the region where the candidate's silhouette exceeds the input's, removes it and, but for
what the fitted curves take (bounded below), none of the input's material: the cut a person makes when
they trim a part to its outline seen from one side.

Per axis the region (opened by ``OPEN_WIDTH``, sharp corners kept, so that the slivers between two
tessellations of one curve go) is fitted like a section (lines, arcs and circles, ``sections``) and
becomes one cut through the input and the candidate along that axis, when each fitted piece takes from
the input no more than ``MAX_CUT_LOSS`` of what it removes from the candidate (a chord fitted across a
concave arc cuts into the part; one bad piece drops the axis) and together they remove at least
``MIN_TRIM_SHARE`` of the input's volume. The trims are tried on the lowest-loss candidate of each
source and on the residual programs completed from them (``verify.residual``), when it still misses
``residual.MIN_MISS`` of the input's volume; a trimmed program is offered when it overlaps the input's volume better than its base by ``MIN_IOU_GAIN`` and at
least as well as every one of those programs (a weaker base cut to the outline, a round plate trimmed
square, does not pass for the better base), and the verifier judges it like any other candidate (it
adds curves, so it wins only on fidelity). A failing fit or boolean costs its axis or its base, never
the pipeline.

The guard was first per axis (a cut's total loss against its total removal), where a small bad piece
could ride on a large good one; per piece and strict, as here, it chose the same on the Fusion 360 and
Mendel90 parts in runs side by side. (The choices on a few parts move from run to run with the model's
decoding budget, which sets the candidates a trim starts from.)

Only for inputs with exact volumes (a closed, clean mesh). A scan's outline would be its noise's, and
the union of a 100k-face scan's triangles takes seconds an axis (tried, not shipped).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import manifold3d
import numpy as np
import shapely
import trimesh

from backend.cad.program import Operation, Program
from backend.geometry.convert import NotManifoldError, trimesh_to_manifold
from backend.geometry.solid import build_manifold, program_to_mesh
from backend.sections.candidates import SKETCH_COLUMNS, extrusion_feature, fitted_profiles
from backend.verify.rank import Candidate
from backend.verify.residual import MIN_IOU_GAIN, MIN_MISS

log = logging.getLogger(__name__)

OPEN_WIDTH = 0.004  # normalised units: parts of a trim region thinner than twice this are slivers
MIN_TRIM_SHARE = 0.002  # a trim must remove this share of the input's volume
MAX_CUT_LOSS = 0.1  # a cut's piece taking more of the input than this share of what it removes drops the cut
MIN_PIECE_AREA = 1e-4  # normalised units²: smaller pieces of a trim region are dropped
FACE_COS = 1e-6  # faces whose normal is this close to perpendicular to the axis project to nothing


def silhouette(mesh: trimesh.Trimesh, axis: int):
    """The closed mesh seen along ``axis``: the union of its triangles facing up the axis projected on the
    axis plane (every line along the axis through the solid enters it through one), in sketch
    coordinates (``sections.candidates.SKETCH_COLUMNS``), as shapely geometry."""
    keep = np.asarray(mesh.face_normals)[:, axis] > FACE_COS
    triangles = np.asarray(mesh.triangles)[keep][:, :, list(SKETCH_COLUMNS[axis])]
    return shapely.union_all(shapely.polygons(triangles))


def _opened(geom):
    """``geom`` without the parts thinner than ``2 * OPEN_WIDTH``, its corners kept sharp, and without
    pieces under ``MIN_PIECE_AREA``; never outside ``geom``."""
    opened = geom.buffer(-OPEN_WIDTH, join_style="mitre").buffer(OPEN_WIDTH, join_style="mitre")
    opened = opened.intersection(geom)  # the mitre joins can reach a little outside
    pieces = [p for p in getattr(opened, "geoms", [opened]) if p.area >= MIN_PIECE_AREA]
    return shapely.union_all(pieces) if pieces else None


class OutlineTrimmer:
    """Trims candidates to one input's outlines (computed once an axis)."""

    def __init__(self, truth: trimesh.Trimesh, reference: manifold3d.Manifold) -> None:
        self.truth, self.reference = truth, reference
        self.bounds = np.asarray(truth.bounds, dtype=float)
        self._outlines: dict[int, object] = {}
        self._overlaps: dict[Program, tuple[manifold3d.Manifold, float, float]] = {}  # (solid, IoU, missed)

    def outline(self, axis: int):
        if axis not in self._outlines:
            self._outlines[axis] = silhouette(self.truth, axis)
        return self._outlines[axis]

    def overlap(self, program: Program) -> float:
        """The program's volume IoU with the input (measured once a program)."""
        return self._measured(program)[1]

    def _measured(self, program: Program) -> tuple[manifold3d.Manifold, float, float]:
        """(solid, IoU, the volume it lacks or has too much of as a share of the input's) of ``program``."""
        if program not in self._overlaps:
            solid, volume = build_manifold(program), self.reference.volume()
            inter = (solid ^ self.reference).volume()
            union = solid.volume() + volume - inter
            self._overlaps[program] = (solid, inter / union if union > 0 else 0.0, (union - inter) / volume)
        return self._overlaps[program]

    def trimmed(self, program: Program, mesh: trimesh.Trimesh, floor: float = 0.0) -> Program | None:
        """``program`` with a cut through the part on each axis where it has material outside the input's
        outline (module doc); None when it is close already or no trim pays: the trimmed program must
        overlap the input better than ``program`` by ``MIN_IOU_GAIN``, and at least as well as ``floor``
        (the best overlap among the programs offered for trimming)."""
        solid, iou, missed = self._measured(program)
        if missed < MIN_MISS:
            return None
        lo = np.minimum(self.bounds[0], mesh.bounds[0])  # through the input and the candidate
        hi = np.maximum(self.bounds[1], mesh.bounds[1])
        cuts = []
        for axis in range(3):
            try:
                cut = self._axis_cut(solid, mesh, axis, float(lo[axis]), float(hi[axis]))
            except Exception as exc:  # one axis's failure (a fit, a boolean) must not cost the others
                log.debug("outline trim on axis %d failed: %s: %s", axis, type(exc).__name__, exc)
                continue
            if cut is not None:
                cuts.append(cut)
        if not cuts:
            return None
        trimmed = Program(program.features + tuple(cuts))
        return trimmed if self.overlap(trimmed) >= max(iou + MIN_IOU_GAIN, floor) else None

    def _axis_cut(self, solid: manifold3d.Manifold, mesh: trimesh.Trimesh, axis: int, lo: float, hi: float):
        """The cut through [lo, hi] along ``axis`` of the region where ``mesh`` (``solid``'s) sticks out of
        the input's outline, or None: no region, nothing fitted, or less than ``MIN_TRIM_SHARE`` of the
        input's volume removed, or a fitted piece that takes from the input (the input inside the piece's
        prism, counted whole: an upper bound) more than ``MAX_CUT_LOSS`` of what it removes from the
        candidate (the fitted curves stay within the fitting tolerance of the outline, not inside it: a
        chord across a concave arc cuts into the part). One bad piece drops the axis's cut: a fit that
        strays once is not trusted for the other pieces."""
        region = _opened(silhouette(mesh, axis).difference(self.outline(axis)))
        if region is None:
            return None
        kept, removed = [], 0.0
        for profile in fitted_profiles(region, quantize=False):
            piece = extrusion_feature((profile,), axis, lo, hi, Operation.NEW, False)
            prism = build_manifold(Program((piece,)))
            taken = solid.volume() - (solid - prism).volume()
            if (prism ^ self.reference).volume() > MAX_CUT_LOSS * taken:
                return None
            kept.append(profile)
            removed += taken
        if not kept or removed < MIN_TRIM_SHARE * self.reference.volume():
            return None
        return extrusion_feature(tuple(kept), axis, lo, hi, Operation.CUT, False)


def with_outline_trims(
    candidates: Sequence[Candidate],
    volume_truth: trimesh.Trimesh | None,
    target: Callable[[trimesh.Trimesh], float],
    bases: Sequence[Candidate],
    source: str,
    reference: manifold3d.Manifold | None = None,
) -> list[Candidate]:
    """The candidates and the trimmed programs (``OutlineTrimmer.trimmed``) of ``bases`` as candidates of
    ``source`` (the geometry wrote the cuts), each only when it overlaps the input's volume at least as
    well as every base (a weaker base cut to the outline does not pass for the better one). Nothing
    without exact volumes (``volume_truth`` None). ``reference``: ``volume_truth`` as a manifold when the
    caller has it (built here otherwise)."""
    if volume_truth is None or not bases:
        return list(candidates)
    try:
        reference = reference if reference is not None else trimesh_to_manifold(volume_truth)
        trimmer = OutlineTrimmer(volume_truth, reference)
        floor = max(trimmer.overlap(base.program) for base in bases)
    except NotManifoldError:
        return list(candidates)
    except Exception as exc:  # the trims are extras: a failure leaves the candidates as they are
        log.warning("outline trims skipped: %s: %s", type(exc).__name__, exc)
        return list(candidates)
    out = list(candidates)
    for base in bases:
        try:
            program = trimmer.trimmed(base.program, base.mesh, floor)
            if program is None:
                continue
            mesh = program_to_mesh(program)
            out.append(Candidate(program, source, mesh, target(mesh)))
        except Exception as exc:  # a failing trim must not take the pipeline down; the base stays
            log.warning("outline trim failed: %s: %s", type(exc).__name__, exc)
    return out
