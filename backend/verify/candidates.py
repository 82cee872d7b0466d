"""Candidates for the verifier: programs rebuilt and scored, section programs, the bounding box."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import trimesh
from shapely.errors import GEOSException

from backend.cad.program import Extent, ExtentKind, Extrude, Line, Loop, Plane, Profile, Program, Sketch
from backend.geometry.solid import GeometryError, build_manifold, program_scale, program_to_mesh
from backend.verify.rank import Candidate, complexity, lowest_by_source, tie_bound, tied

if TYPE_CHECKING:
    from backend.verify.reference import IouScorer
    from backend.verify.snap import Snapper

log = logging.getLogger(__name__)

SOURCE_MODEL, SOURCE_SECTION, SOURCE_BBOX = "model", "section", "bbox"


def bbox_program(mesh: trimesh.Trimesh | trimesh.PointCloud) -> Program:
    """One box extrusion over the input's bounding box (the last-resort candidate)."""
    (x0, y0, z0), (x1, y1, z1) = (tuple(float(v) for v in row) for row in mesh.bounds)
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    loop = Loop(tuple(Line(pts[i], pts[(i + 1) % 4]) for i in range(4)))
    plane = Plane((0.0, 0.0, z0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    return Program((Extrude(Sketch(plane, (Profile(loop),)), Extent(ExtentKind.ONE_SIDE, z1 - z0)),))


def section_programs(target_n) -> list[Program]:
    """Programs fitted from the input's cross-sections (single and stacked extrusions), with continuous
    coordinates: the verifier needs no token grid, and the grid costs thin parts several IoU points.
    ``target_n``: the normalised mesh or point cloud, or its slicer (``sections.candidates.slicer_for``)."""
    from backend.sections.candidates import all_candidates

    try:
        return list(all_candidates(target_n, quantize=False))
    except Exception as exc:  # a failing fitter must not take the pipeline down; it is logged
        log.warning("section candidates failed: %s: %s", type(exc).__name__, exc)
        return []


def frame_section_programs(prep, slicer) -> list[Program]:
    """Section programs of the prepared input (``intake.prepare.Prepared``, through ``slicer``), then
    those of each other plausible frame, written in the main frame (turned planes)."""
    programs = section_programs(slicer)
    for alt_frame, alt_geometry in prep.alternatives:
        for p in section_programs(alt_geometry):
            programs.append(prep.frame.program_to_normalized(alt_frame.program_to_input(p)))
    return programs


def snapped_programs(programs: Sequence[Program], snapper: Snapper) -> list[Program]:
    """The model's programs snapped to the mesh (``verify.snap``; each by the strict pass, then the loose
    one), those that changed, without repeats."""
    out, seen = [], set(programs)
    for p in programs:
        for loose in (False, True):
            try:
                q = snapper.snap(p, loose)
            except Exception as exc:  # a failing snap must not take the pipeline down; the original stays
                log.debug("snapping failed: %s: %s", type(exc).__name__, exc)
                continue
            if q not in seen:
                seen.add(q)
                out.append(q)
    return out


def score_programs(
    programs: Sequence[tuple[Program, str]],
    target: Callable[[trimesh.Trimesh], float],
    on_candidate: Callable[[int, int], None] | None = None,
) -> tuple[list[Candidate], list[tuple[int, str, str]]]:
    """Rebuild and score (program, source) pairs: the candidates, and (index, source, reason) of those
    that do not rebuild. ``on_candidate(k, n)`` is called before each (progress, cancellation)."""
    candidates: list[Candidate] = []
    failed: list[tuple[int, str, str]] = []
    for k, (program, source) in enumerate(programs):
        if on_candidate is not None:
            on_candidate(k, len(programs))
        try:
            m = program_to_mesh(program)
        except GeometryError as exc:
            log.debug("candidate %d (%s) does not rebuild: %s", k, source, exc)
            failed.append((k, source, str(exc)))
            continue
        candidates.append(Candidate(program, source, m, target(m)))
    return candidates, failed


INTENT_TOLERANCE = 1e-4  # share of the original's volume that its rewrite may differ by (both ways together)


def same_solid(a: Program, b: Program, tolerance: float = INTENT_TOLERANCE) -> bool:
    """``a`` and ``b`` build the same solid: what each has and the other lacks is at most ``tolerance`` of
    ``a``'s volume, both built at ``a``'s scale (one tessellation)."""
    scale = program_scale(a)
    sa, sb = build_manifold(a, scale), build_manifold(b, scale)
    return (sa - sb).volume() + (sb - sa).volume() <= tolerance * sa.volume()


def intent_rewrites(program: Program) -> list[Program]:
    """``program`` written as a person would model it (``cad.intent``), each rewrite building the same
    solid (``same_solid``): the holes as cuts (``holes_as_cuts``), then the outlines' notches as cuts
    (``notches_as_cuts``), then one sketch's extrusions on one axis as one (``spans_as_one``), then the
    adding profiles that add nothing dropped (``covered_profiles_dropped``: merged slabs leave a thin one's
    copy of their outline inside them) and the closing cuts' profiles that remove nothing
    (``verify.spare_cuts``), then the cuts of one plane and span as one (``cuts_as_drawn``), then
    different islands as features of their own (``islands_as_features``), each applied to the last rewrite that
    built the same solid (or the original). A feature inside a hole's prism, which the cut would take
    away, or loops matched within the fitting tolerance that move material, keep the original as it is
    (no rewrite)."""
    from backend.cad.intent import (
        covered_profiles_dropped,
        cuts_as_drawn,
        holes_as_cuts,
        islands_as_features,
        notches_as_cuts,
        spans_as_one,
    )
    from backend.verify.spare_cuts import spare_cuts_dropped

    out: list[Program] = []
    base = program
    rewrites = (
        holes_as_cuts,
        notches_as_cuts,
        spans_as_one,
        covered_profiles_dropped,
        spare_cuts_dropped,
        cuts_as_drawn,
        islands_as_features,
    )
    for rewrite in rewrites:
        try:
            candidate = rewrite(base)
            if candidate is None or not same_solid(program, candidate):
                continue
        except (GeometryError, ValueError, GEOSException) as exc:
            log.debug("intent rewrite %s failed: %s", rewrite.__name__, exc)
            continue
        out.append(candidate)
        base = candidate
    return out


def _rebuilt(
    program: Program, original: Program, source: str, target: Callable[[trimesh.Trimesh], float]
) -> Candidate | None:
    """A rewrite of ``original`` (intent, simplification) rebuilt and scored, tessellated at ``original``'s
    scale: the same solid gets the same mesh (a rewrite that redraws the adding sketches, e.g. islands
    split, could otherwise measure the part a little differently)."""
    try:
        m = program_to_mesh(program, program_scale(original))
    except (GeometryError, ValueError) as exc:
        log.debug("rewrite does not rebuild: %s", exc)
        return None
    return Candidate(program, source, m, target(m))


def _each_tied_followed_by(
    candidates: Sequence[Candidate],
    rewrites: Callable[[Candidate], list[Program]],
    target: Callable[[trimesh.Trimesh], float],
) -> list[Candidate]:
    """The candidates, each equally faithful one (``rank.tied``) followed by its ``rewrites`` rebuilt and
    scored (``_rebuilt``: same source, at its scale), so the model's stay first."""
    equal = {id(c) for c in tied(candidates, lambda c: c.rank_cd)} if candidates else set()
    out = []
    for c in candidates:
        out.append(c)
        if id(c) in equal:
            out += [r for p in rewrites(c) if (r := _rebuilt(p, c.program, c.source, target)) is not None]
    return out


def with_intent_rewrites(
    candidates: Sequence[Candidate], target: Callable[[trimesh.Trimesh], float]
) -> list[Candidate]:
    """The candidates, each equally faithful one (``rank.tied``) followed by its ``intent_rewrites`` (same
    source, each scored on its own), so the model's stay first. The rewrites of the others could not be
    chosen."""
    return _each_tied_followed_by(candidates, lambda c: intent_rewrites(c.program), target)


def with_simplifications(
    candidates: Sequence[Candidate], target: Callable[[trimesh.Trimesh], float]
) -> list[Candidate]:
    """The candidates, each equally faithful one (``rank.tied``) followed by its loops refitted with fewer
    curves (``verify.simplify``; same source, each scored on its own, tessellated at the original's
    scale). Only a simplification with fewer curves than every equally faithful candidate is rebuilt
    (the rule prefers fewer curves among the equally faithful; one with as many seldom wins, and each
    rebuild costs), each once. A failing simplification leaves its candidate as it is."""
    from backend.verify.simplify import Memo, simplifications

    if not candidates:
        return []
    fewest = min(c.program.curve_count for c in tied(candidates, lambda c: c.rank_cd))
    seen = {c.program for c in candidates}
    memo: Memo = {}  # equal loops of near-copy candidates are refitted once

    def fewer_curves(c: Candidate) -> list[Program]:
        try:
            programs = simplifications(c.program, memo)
        except Exception as exc:  # a failing refit must not take the pipeline down
            log.debug("simplification failed: %s: %s", type(exc).__name__, exc)
            return []
        new = [p for p in programs if p.curve_count < fewest and p not in seen]
        seen.update(new)
        return new

    return _each_tied_followed_by(candidates, fewer_curves, target)


def written_as_designed(best: Candidate, target: Callable[[trimesh.Trimesh], float]) -> Candidate:
    """The chosen (and refined) candidate, or the first of its ``intent_rewrites`` that the ranking rule
    prefers (``rank.complexity``: fewer curves; for as many, more operations, then fewer features). The
    solid is the same, so fidelity is too. Refinement can make loops that differed by more than the
    matching tolerance before (a bore fitted in two slabs) the same, so this runs after it."""
    programs = sorted(intent_rewrites(best.program), key=complexity)
    if not programs or complexity(programs[0]) >= best.complexity:
        return best
    rebuilt = _rebuilt(programs[0], best.program, best.source, target)
    return best if rebuilt is None else rebuilt


def on_flat_levels(
    best: Candidate, snapper: Snapper, target: Callable[[trimesh.Trimesh], float]
) -> Candidate:
    """For a scan or a point cloud (the robust slicer's inputs; not a clean mesh, closed or open): the
    chosen candidate (refined, where the refinement was kept) with its flat faces on the flat faces the
    slicer measured (``Snapper.snap_faces``: the ends of its axis-aligned extrusions and its loops' axis-parallel walls;
    each measured face's height is the median of its many samples), when its loss stays within the tie
    of the chosen one's (``rank.tie_bound``: not noticeably worse). The surface distance to noisy
    samples hardly changes while a face moves within the noise, so candidates tie whether a plate's
    faces lie on the measured faces or a few hundredths of the part's size off them (half its
    thickness, for a thin plate), and the rule's choice among them, or the refinement's trials, may
    land anywhere in that range; the measured faces are the best estimates. Where the moved walls do
    not rebuild, the ends alone are tried. Any failure leaves the candidate as it is."""
    try:
        for walls in (True, False):
            program = snapper.snap_faces(best.program, walls)
            if program == best.program:
                return best
            snapped = _rebuilt(program, best.program, best.source, target)
            if snapped is None:  # the moved walls do not rebuild: the ends alone
                continue
            return snapped if snapped.rank_cd <= tie_bound(best.rank_cd) else best
    except Exception as exc:  # a failing snap must not take the pipeline down; the candidate stays
        log.debug("faces not snapped: %s: %s", type(exc).__name__, exc)
    return best


def with_derived_candidates(
    candidates: Sequence[Candidate],
    volume_truth: trimesh.Trimesh | None,
    target: Callable[[trimesh.Trimesh], float],
    scorer: IouScorer | None = None,
) -> list[Candidate]:
    """The scored candidates and what the geometry derives from them: the best of each source completed
    with residual features on other axes (``verify.residual``; section source), those and the completed
    programs cut to the input's outlines seen along each axis (``verify.trim``; section source), the best
    few of each source without the features they do not need (``verify.prune``; with exact volumes only:
    on a scan or a point cloud the surface distance cannot tell a stray feature from a wall whose inside
    it does not see) and the equally faithful ones with their loops refitted with fewer curves
    (``with_simplifications``; exact volumes only, for the same reason: on the Fusion 360 scans it cost
    0.3 point of IoU, six parts 1.2 to 7.7 points), then the equally faithful ones written as a designer
    would (``with_intent_rewrites``). ``scorer``: ``volume_truth``'s exact-volume scorer when the caller
    already built it (one conversion of the input a part)."""
    from backend.verify.prune import with_pruned
    from backend.verify.reference import IouScorer
    from backend.verify.residual import with_residual_features
    from backend.verify.trim import with_outline_trims

    if scorer is None and volume_truth is not None:  # one conversion for all three (the caller's, if given)
        scorer = IouScorer(volume_truth)
    reference = None if scorer is None else scorer.target
    completed = with_residual_features(candidates, volume_truth, target, SOURCE_SECTION, reference)
    bases = [*lowest_by_source(candidates), *completed[len(candidates) :]]  # residual programs appended
    completed = with_outline_trims(completed, volume_truth, target, bases, SOURCE_SECTION, reference)
    if scorer is not None:  # a removal's volume can be checked (not on a scan or a point cloud)
        completed = with_simplifications(with_pruned(completed, target, scorer), target)
    return with_intent_rewrites(completed, target)


def bbox_candidate(
    target_n: trimesh.Trimesh | trimesh.PointCloud, target: Callable[[trimesh.Trimesh], float]
) -> Candidate:
    program = bbox_program(target_n)
    m = program_to_mesh(program)
    return Candidate(program, SOURCE_BBOX, m, target(m))
