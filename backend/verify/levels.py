"""The model's best programs with their extrusion ends searched over the mesh's levels.

Snapping (``verify.snap``) moves each end of an extrusion to the *nearest* level where the mesh has a
flat face (or to its end), so a program whose structure is right but whose extents are far off (a shaft
drawn to a step instead of to the part's end, a bore started at the wrong shoulder) stays wrong. Here
the extents are searched: for the ``SEARCH_PER_SOURCE`` lowest-loss model candidates, each axis-aligned
extrusion is tried with each end at every level of its axis (``Snapper.search_levels``: the flat
steps and, on a clean mesh, its flat faces down to ``sections.candidates.MIN_SEARCH_AREA``, a small
pocket's floor), the other end kept,
and between each pair of levels (neighbouring ones only past ``ALL_PAIRS`` levels: a bore moved from
one shoulder to the right one moves both ends at once) (``moves``); the feature's best move is taken
when it lowers the loss by more than its noise (``rank.RANK_NOISE``; a move that builds the same solid,
``refine.solid_key``, is none: its loss differs only by the sampling of other triangles). With an exact
volume (a closed, clean input: ``volume``), a best move within that noise is also taken when it raises
the exact IoU by more than ``VOLUME_GAIN``: a blind pocket the model cut through, or a boss drawn short,
moves the surface distance less than its noise but the volume by more than the verifier's volume test
lets pass (``refine.pick_keeping_volume``), so the model's program would lose for a number the mesh
gives; and a move that lowers the loss but loses more exact IoU than that test allows
(``refine.VOLUME_TIE_EXACT``: a cut hollowing a thin part keeps its faces, and its distance, where they
were) is not taken. Passes over the features repeat
until none moves or the budget is spent: ``MAX_EVALS`` rebuilt programs a candidate (a budget in work, so
the search does not depend on the machine's speed), each feature of a pass given an equal share of what
is left. The searched program is then snapped again, by the strict and the loose pass (its loops fitted
at the new heights), and the lowest-loss of the three kept. The result keeps the model's source: the
model wrote the structure (features, operations, loops), the mesh gives the numbers, as for snapping;
the verifier judges it like any other candidate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

import trimesh

from backend.cad.program import Extent, ExtentKind, Extrude, Plane, Program, Sketch, dot
from backend.geometry.solid import GeometryError, program_to_mesh
from backend.verify.rank import RANK_NOISE, Candidate
from backend.verify.reference import IouScorer
from backend.verify.refine import VOLUME_TIE_EXACT, mesh_solid_key, solid_key
from backend.verify.snap import Snapper, axis_of

log = logging.getLogger(__name__)

SEARCH_PER_SOURCE = 4  # the model's lowest-loss candidates searched
MAX_EVALS = 96  # rebuilt and scored programs per searched candidate at most
MAX_FEATURES = 8  # a candidate with more features is left as it is (each pass rebuilds it per level)
MIN_SPAN = 1e-3  # an extrusion shorter than this (normalised units) is not tried
ALL_PAIRS = 6  # with at most this many levels on an axis, an extrusion is tried between each pair
VOLUME_GAIN = 5e-4  # exact IoU a move within the loss's noise must gain to be taken (half the volume test's)


def with_span(feature: Extrude, lo: float | None, hi: float | None) -> Extrude | None:
    """``feature`` spanning world heights ``lo``..``hi`` on its axis (None: that end where it is; the
    two sorted), extruded in the direction it was (a one-sided extrusion keeps its sketch plane at the
    end it started from; a two-sided one whose sketch plane the span leaves becomes one-sided from the
    end nearer its plane); None when it would be shorter than ``MIN_SPAN``, its plane is not on an
    axis, or its extent is symmetric (one height moves both ends). The loops are kept as drawn."""
    found = axis_of(feature.sketch.plane)
    if found is None or feature.extent.kind is ExtentKind.SYMMETRIC:
        return None
    sign = found[1]  # world height = sign * height along the sketch normal
    plane, extent = feature.sketch.plane, feature.extent
    n = plane.normal
    h = dot(plane.origin, n)
    start, stop = (h, h + extent.d1) if extent.kind is ExtentKind.ONE_SIDE else (h - extent.d2, h + extent.d1)
    low, high = sorted((sign * start, sign * stop))
    low, high = sorted((low if lo is None else lo, high if hi is None else hi))
    if high - low < MIN_SPAN:
        return None
    a, b = sorted((sign * low, sign * high))  # back along the normal
    if extent.kind is ExtentKind.TWO_SIDES and a <= h <= b:
        return Extrude(feature.sketch, Extent(extent.kind, b - h, h - a), feature.operation)
    # one-sided (a two-sided extrusion moved off its sketch plane becomes one, from the nearer end)
    from_upper = stop < start if extent.kind is ExtentKind.ONE_SIDE else h > b
    if from_upper:  # the sketch plane at the upper end, extruded against its normal
        a, b = b, a
    origin = tuple(o + (a - h) * c for o, c in zip(plane.origin, n))
    sketch = Sketch(Plane(origin, plane.x_dir, n), feature.sketch.profiles)
    return Extrude(sketch, Extent(ExtentKind.ONE_SIDE, b - a), feature.operation)


def moves(feature: Extrude, levels: Sequence[float]) -> list[Extrude]:
    """``feature`` with each end at each level (the other kept), and spanning each pair of levels when
    there are at most ``ALL_PAIRS`` levels (else each pair of neighbouring ones), without repeats."""
    out: list[Extrude] = []
    spans = [(a, None) for a in levels] + [(None, b) for b in levels]
    if len(levels) <= ALL_PAIRS:
        spans += [(a, b) for i, a in enumerate(levels) for b in levels[i + 1 :]]
    else:
        spans += list(zip(levels[:-1], levels[1:]))
    for lo, hi in spans:
        f = with_span(feature, lo, hi)
        if f is not None and f != feature and f not in out:
            out.append(f)
    return out


class _Trial(NamedTuple):
    """A tried program's loss and solid (``refine.solid_key``), kept without its mesh (a search tries up
    to ``MAX_EVALS`` programs: their meshes are rebuilt, bit for bit, for the few that are taken)."""

    program: Program
    rank_cd: float
    solid: tuple[float, ...]


def searched(
    candidate: Candidate,
    snapper: Snapper,
    target: Callable[[trimesh.Trimesh], float],
    max_evals: int = MAX_EVALS,
    check: Callable[[], None] | None = None,
    scored: dict[Program, _Trial | None] | None = None,
    volume: IouScorer | None = None,
) -> Candidate | None:
    """``candidate`` with its extrusions moved to the levels that lower its loss, snapped again (module
    doc); None when no move lowers it by more than the noise (or, with ``volume``, raises the exact IoU).
    A feature that repeats the one before it is dropped first (one copy moved alone builds the same
    solid: no move). Each pass gives every feature left an equal
    share of the budget left, so a program's last features (often its cuts) are tried too. ``check`` is
    called before each rebuild (it raises to cancel). ``scored``: programs already rebuilt and scored (by
    this search or another of the same source), filled in; a program found there is not rebuilt, but
    counts against the budget as if it were (the search goes as it would). ``volume``: the input's exact
    volume (module doc); None or not exact: the loss alone decides."""
    start = _without_repeats(candidate)
    current, evals, moved = start, 0, True
    exact = volume is not None and volume.exact
    overlap: dict[Program, float] = {}

    def iou(program: Program) -> float:
        if program not in overlap:
            overlap[program] = volume(program) if exact else 0.0
        return overlap[program]

    scored = {} if scored is None else scored
    while moved and evals < max_evals:
        moved = False
        n = len(current.program.features)
        for k in range(n):
            feature = current.program.features[k]
            found = axis_of(feature.sketch.plane)
            if found is None:
                continue
            share = evals + max(1, (max_evals - evals) // (n - k))  # this feature's budget, this pass
            same = solid_key(current)  # a move that builds the same solid is no move (one solid, one loss)
            coarse = moves(feature, [float(v) for v in snapper.levels(found[0])])
            at_levels = set(coarse)
            fine = (
                [
                    f
                    for f in moves(feature, [float(v) for v in snapper.search_levels(found[0])])
                    if f not in at_levels
                ]
                if exact
                else []
            )
            best: _Trial | None = None  # the lowest loss of the moves to the levels
            finest: _Trial | None = None  # ... and of those to the smaller faces too (exact volume only)
            for f in coarse + fine:
                if evals >= share:
                    break
                if check is not None:
                    check()
                evals += 1
                features = current.program.features
                trial = _tried(Program((*features[:k], f, *features[k + 1 :])), target, scored)
                if trial is None or trial.solid == same:
                    continue
                if f in at_levels and (best is None or trial.rank_cd < best.rank_cd):
                    best = trial
                if finest is None or trial.rank_cd < finest.rank_cd:
                    finest = trial
            taken = None
            if best is not None and best.rank_cd < current.rank_cd * (1 - RANK_NOISE):
                taken = best
                if exact and iou(best.program) < iou(current.program) - VOLUME_TIE_EXACT:
                    taken = None  # a lower distance that loses volume is no better (the volume test)
            if taken is None and exact and finest is not None:
                within = finest.rank_cd <= current.rank_cd * (1 + RANK_NOISE)
                if within and iou(finest.program) > iou(current.program) + VOLUME_GAIN:
                    taken = finest
            if taken is not None:
                current, moved = _rebuilt(taken, candidate.source), True
    if current is start:
        return None
    best = current
    for loose in (False, True):
        try:
            resnapped = snapper.snap(current.program, loose)
        except Exception as exc:  # a failing snap keeps the searched program
            log.debug("snapping the searched program failed: %s: %s", type(exc).__name__, exc)
            continue
        if resnapped != current.program:
            trial = _tried(resnapped, target, scored)
            if trial is not None and trial.rank_cd < best.rank_cd:
                best = _rebuilt(trial, candidate.source)
    return best


def _without_repeats(candidate: Candidate) -> Candidate:
    """``candidate`` without a feature that repeats the one before it (the same extrusion twice is the
    same solid: a cut written twice would move only together); its mesh is the same."""
    features = candidate.program.features
    kept = tuple(f for k, f in enumerate(features) if k == 0 or f != features[k - 1])
    if len(kept) == len(features):
        return candidate
    return Candidate(Program(kept), candidate.source, candidate.mesh, candidate.rank_cd)


def with_level_search(
    candidates: Sequence[Candidate],
    snapper: Snapper,
    target: Callable[[trimesh.Trimesh], float],
    source: str,
    per_source: int = SEARCH_PER_SOURCE,
    check: Callable[[], None] | None = None,
    volume: IouScorer | None = None,
) -> list[Candidate]:
    """The candidates with, after the last of ``source``'s (so the model's stay ahead of the sections'
    in the rule's last tie-break, the candidates' order), its ``per_source`` lowest-loss ones (of at most
    ``MAX_FEATURES`` features) searched (``searched``), those that changed, without repeats. A failing
    search costs only its candidate; ``check`` (called before each rebuild) may raise to cancel, and
    that goes on up. ``volume``: the input's exact volume, for moves within the loss's noise (``searched``)."""
    pool = sorted((c for c in candidates if c.source == source), key=lambda c: c.rank_cd)
    seen = {c.program for c in candidates}
    found: list[Candidate] = []
    scored: dict[Program, _Trial | None] = {}  # the model's programs are often near copies: shared trials
    for c in [c for c in pool if len(c.program.features) <= MAX_FEATURES][:per_source]:
        try:
            better = searched(c, snapper, target, check=check, scored=scored, volume=volume)
        except Exception as exc:  # one failing search must not take the pipeline down ...
            if check is not None:
                check()  # ... but a cancellation is not a failure: asked again, it raises again
            log.warning("level search failed: %s: %s", type(exc).__name__, exc)
            continue
        if better is not None and better.program not in seen:
            seen.add(better.program)
            found.append(better)
    last = max((k for k, c in enumerate(candidates) if c.source == source), default=len(candidates) - 1)
    return [*candidates[: last + 1], *found, *candidates[last + 1 :]]


def _tried(
    program: Program, target: Callable[[trimesh.Trimesh], float], scored: dict[Program, _Trial | None]
) -> _Trial | None:
    """``program`` rebuilt and scored, or None when it does not rebuild; looked up in (and added to)
    ``scored`` first."""
    if program in scored:
        return scored[program]
    try:
        mesh = program_to_mesh(program)
    except (GeometryError, ValueError):
        mesh = None
    trial = None
    if mesh is not None:
        rank_cd = target(mesh)
        trial = _Trial(program, rank_cd, mesh_solid_key(mesh))
    scored[program] = trial
    return trial


def _rebuilt(trial: _Trial, source: str) -> Candidate:
    """The trial as a candidate of ``source``, its mesh rebuilt (the same mesh: rebuilds are exact)."""
    return Candidate(trial.program, source, program_to_mesh(trial.program), trial.rank_cd)
