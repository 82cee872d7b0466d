"""Residual features: what a candidate lacks or has too much of, written as extrusions on their own axes.

Section candidates are built one axis at a time (a section extruded, slabs stacked), so a feature made
along another axis (a hole across an L-bracket's leg, a slot in a side face, a pin standing on a side)
shows up as the difference between the candidate's solid and the input's. Each sizeable connected piece
of that difference is sectioned across each axis at its middle; the section (fitted lines, arcs and
circles) extruded over the piece's extent along that axis becomes a feature, on the axis where that prism
fits the piece best (IoU ≥ ``MIN_PIECE_IOU``): a ``join`` for material the candidate lacks, a ``cut``
for material it has too much of; features of one operation over one span share a sketch (a pattern).
The completed program is offered when it overlaps the input's volume better (``MIN_IOU_GAIN``), and the
verifier then judges it like any other candidate.

Only for inputs with exact volumes (a closed, clean mesh), and only for the lowest-loss candidate of each
source (the model's, the sections'), when it still misses ``MIN_MISS`` of the input's volume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import manifold3d
import trimesh

from backend.cad.intent import MATCH_TOLERANCE
from backend.cad.program import ExtentKind, Extrude, Operation, Program
from backend.geometry.convert import NotManifoldError, manifold_to_trimesh, trimesh_to_manifold
from backend.geometry.solid import GeometryError, build_manifold, program_to_mesh
from backend.verify.rank import Candidate, lowest_by_source

log = logging.getLogger(__name__)

MIN_MISS = 0.01  # a base whose solid differs from the input by less than this share of its volume is left
MIN_PIECE_SHARE = 0.005  # pieces smaller than this share of the input's volume are ignored
MIN_PIECE_WIDTH = 0.01  # ... and pieces whose bounding box is thinner than this (normalised units)
MIN_PIECE_IOU = 0.85  # a prism must fit its piece this well to become a feature
MAX_PIECES = 8  # per kind (join, cut), largest first
MAX_PIECE_CURVES = 24  # curves of one piece's features
MIN_IOU_GAIN = 0.005  # the completed program must overlap the input's volume this much better
LAYERED_MARGIN = 0.05  # IoU by which stacked slabs must beat one extrusion to be used for a piece


def _iou(a: manifold3d.Manifold, b: manifold3d.Manifold) -> float:
    inter = (a ^ b).volume()
    union = a.volume() + b.volume() - inter
    return inter / union if union > 0 else 0.0


def _wide(piece: manifold3d.Manifold) -> bool:
    """The piece's bounding box is at least ``MIN_PIECE_WIDTH`` on every axis (a flat skin on one face is
    not a feature; an L-shaped skin over two faces passes this test and is left to the fit and the rule)."""
    box = piece.bounding_box()
    return min(box[3] - box[0], box[4] - box[1], box[5] - box[2]) >= MIN_PIECE_WIDTH


def piece_features(piece: manifold3d.Manifold, operation: Operation) -> tuple[Extrude, ...]:
    """The axis-plane extrusions that fit ``piece`` best: per axis its middle section over its extent
    (one feature), or its stacked slabs (a stepped pin: several) when they fit ``LAYERED_MARGIN``
    better; none unless the fit reaches ``MIN_PIECE_IOU`` with at most ``MAX_PIECE_CURVES`` curves (a
    piece that needs more is a curved surface, not a feature someone would sketch)."""
    from backend.sections.candidates import MeshSlicer, layered_program, mid_section_program

    slicer = MeshSlicer(manifold_to_trimesh(piece))
    best: dict[str, tuple[float, Program]] = {}
    for axis in range(3):
        for kind, make in (("mid", mid_section_program), ("layered", layered_program)):
            program = make(slicer, axis, quantize=False)
            if program is None or program.curve_count > MAX_PIECE_CURVES:
                continue
            try:
                iou = _iou(build_manifold(program), piece)
            except GeometryError:
                continue
            if kind not in best or iou > best[kind][0]:
                best[kind] = (iou, program)
    mid, layered = best.get("mid", (0.0, None)), best.get("layered", (0.0, None))
    iou, program = layered if layered[0] > mid[0] + LAYERED_MARGIN else mid
    if program is None or iou < MIN_PIECE_IOU:
        return ()
    return tuple(replace(f, operation=operation) for f in program.features)


def residual_program(program: Program, target: manifold3d.Manifold) -> Program | None:
    """``program`` with joins for the sizeable pieces of the input it lacks and cuts for the pieces it
    has too much of (module docstring); None when it is close already, there is nothing to add, or the
    additions do not raise its volume IoU by ``MIN_IOU_GAIN`` (they must explain volume, not only move the
    surface distance)."""
    solid = build_manifold(program)
    volume = target.volume()
    lacking, extra = target - solid, solid - target
    if lacking.volume() + extra.volume() < MIN_MISS * volume:
        return None
    iou = (volume - lacking.volume()) / (solid.volume() + lacking.volume())  # overlap / union
    features: list[Extrude] = []
    for body, operation in ((lacking, Operation.JOIN), (extra, Operation.CUT)):
        sizeable = [p for p in body.decompose() if p.volume() >= MIN_PIECE_SHARE * volume and _wide(p)]
        for piece in sorted(sizeable, key=lambda p: -p.volume())[:MAX_PIECES]:
            try:
                features += piece_features(piece, operation)
            except Exception as exc:  # a degenerate piece must not cost the others (or the pipeline)
                log.debug("residual piece skipped: %s: %s", type(exc).__name__, exc)
    if not features:
        return None
    completed = Program(program.features + tuple(_patterns(features)))
    return completed if _iou(build_manifold(completed), target) >= iou + MIN_IOU_GAIN else None


def _patterns(features: list[Extrude], tol: float = MATCH_TOLERANCE) -> list[Extrude]:
    """Features of one operation on one axis plane over the same span as one sketch (a row of ribs, a
    pattern of pins), as a pattern of holes shares one cut (``cad.intent``)."""
    out: list[Extrude] = []
    for f in features:
        for k, g in enumerate(out):
            pf, pg = f.sketch.plane, g.sketch.plane
            if (
                f.operation is g.operation
                and pf.normal == pg.normal
                and f.extent.kind is g.extent.kind is ExtentKind.ONE_SIDE
                and max(abs(a - b) for a, b in zip(pf.origin, pg.origin)) <= tol
                and abs(f.extent.d1 - g.extent.d1) <= tol
            ):
                out[k] = replace(g, sketch=replace(g.sketch, profiles=g.sketch.profiles + f.sketch.profiles))
                break
        else:
            out.append(f)
    return out


def with_residual_features(
    candidates: Sequence[Candidate],
    volume_truth: trimesh.Trimesh | None,
    target: Callable[[trimesh.Trimesh], float],
    source: str,
    reference: manifold3d.Manifold | None = None,
) -> list[Candidate]:
    """The candidates and the residual programs (``residual_program``) of the lowest-loss candidate of each
    source (the model's, the sections') as candidates of ``source`` (the geometry wrote those features).
    Nothing without exact volumes (``volume_truth`` None: scans, point clouds). ``reference``:
    ``volume_truth`` as a manifold when the caller has it (built here otherwise)."""
    if volume_truth is None or not candidates:
        return list(candidates)
    try:
        reference = reference if reference is not None else trimesh_to_manifold(volume_truth)
    except NotManifoldError:
        return list(candidates)
    out = list(candidates)
    for base in lowest_by_source(candidates):  # the model's structure is completed too
        try:
            program = residual_program(base.program, reference)
            if program is None:
                continue
            mesh = program_to_mesh(program)
        except (GeometryError, ValueError) as exc:
            log.debug("residual features failed: %s", exc)
            continue
        out.append(Candidate(program, source, mesh, target(mesh)))
    return out
