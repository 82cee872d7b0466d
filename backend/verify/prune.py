"""Features a program does not need, removed: the same design with fewer features to edit.

A decoded program often carries a stray feature (a sliver cut at a corner, a pin inside the body, a
slab repeated), and the section fitter's stacks can carry a slab that changes nothing the input shows.
Such a program loses the rule's compactness test to one without it, or its stray feature makes it
less faithful than it would be without it. For the few lowest-loss candidates of each source, features
are removed greedily, one at a time: of the programs with one feature fewer, the lowest-loss one is
kept while its loss stays within the tie tolerance (``rank.tied``) of the candidate it came from and,
for a closed clean input, its exact volume overlap does not drop (by more than the refinement may
lose, ``refine.REFINE_MAX_IOU_LOSS``). The pruned program keeps its source (nothing was written, only
taken away) and the verifier judges it like any other candidate (volume overlap included:
``refine.pick_keeping_volume``). The pipeline prunes only inputs with exact volumes (a closed, clean
mesh): pruned by surface distance alone (commit 1897adf, `evaluate --perturb points` on voron0 and
prusa_mk3s), one held-out point cloud of each set lost a wall.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

import trimesh

from backend.cad.program import Operation, Program
from backend.geometry.solid import GeometryError, program_to_mesh
from backend.verify.rank import TIE_ABSOLUTE, Candidate, tie_bound
from backend.verify.reference import IouScorer
from backend.verify.refine import REFINE_MAX_IOU_LOSS

log = logging.getLogger(__name__)

PRUNE_WINDOW = 2.0  # candidates whose loss is within this factor of the lowest are pruned ...
PRUNE_PER_SOURCE = 2  # ... at most this many of each source, lowest loss first
MAX_REMOVALS = 4  # features removed from one candidate at most
MAX_FEATURES = 12  # a candidate with more features is left as it is (each round rebuilds it that often)


def without(program: Program, k: int) -> Program | None:
    """``program`` without its feature ``k``; None when nothing would be left. A removed first feature
    hands its role (the first solid) to the next one, which must then add material."""
    features = program.features[:k] + program.features[k + 1 :]
    if not features:
        return None
    if k == 0 and features[0].operation is Operation.CUT:
        return None
    if k == 0:
        features = (replace(features[0], operation=Operation.NEW), *features[1:])
    return Program(features)


def pruned(
    candidate: Candidate,
    target: Callable[[trimesh.Trimesh], float],
    reference: IouScorer | None = None,
    max_removals: int = MAX_REMOVALS,
) -> Candidate | None:
    """``candidate`` with the features it does not need removed (module doc), or None when it needs all.
    ``reference``: the input's exact volume a removal must keep (``REFINE_MAX_IOU_LOSS``); None: the loss
    alone (scans and point clouds: ``refine.pick_keeping_volume`` then measures the tied ones' overlap)."""
    bound = tie_bound(candidate.rank_cd)
    floor = reference(candidate.program) - REFINE_MAX_IOU_LOSS if reference is not None else None
    current: Candidate | None = None
    base = candidate
    for _ in range(max_removals):
        best: Candidate | None = None
        for k in range(len(base.program.features)):
            try:
                trial = _trial(base, k, target)
                if (
                    trial is None
                    or trial.rank_cd > bound
                    or (best is not None and trial.rank_cd >= best.rank_cd)
                ):
                    continue
                if floor is None or reference(trial.program) >= floor:
                    best = trial
            except Exception as exc:  # one failing removal must not cost the others
                log.debug("pruning trial failed: %s: %s", type(exc).__name__, exc)
        if best is None:
            break
        current = base = best
    return current


def _trial(base: Candidate, k: int, target: Callable[[trimesh.Trimesh], float]) -> Candidate | None:
    program = without(base.program, k)
    if program is None:
        return None
    try:
        mesh = program_to_mesh(program)
    except GeometryError:
        return None
    return Candidate(program, base.source, mesh, target(mesh))


def with_pruned(
    candidates: Sequence[Candidate],
    target: Callable[[trimesh.Trimesh], float],
    reference: IouScorer | None = None,
) -> list[Candidate]:
    """The candidates, each of the ``PRUNE_PER_SOURCE`` lowest-loss ones of each source whose loss is
    within ``PRUNE_WINDOW`` of the lowest followed by its pruned program (``pruned``), so the order of
    the sources (the model's first) holds for the pruned ones too; a pruned program its source already
    has is not repeated (one from another source is: the model reaching the sections' program by itself
    is the model's, and ``evaluate`` reports such wins apart, as not novel). ``reference``: as for
    ``pruned``."""
    if not candidates:
        return []
    lowest = min(c.rank_cd for c in candidates)
    picked: dict[str, int] = {}
    chosen: set[int] = set()
    for c in sorted(candidates, key=lambda c: c.rank_cd):
        if c.rank_cd > lowest * PRUNE_WINDOW + TIE_ABSOLUTE:
            break
        if picked.get(c.source, 0) < PRUNE_PER_SOURCE and 2 <= len(c.program.features) <= MAX_FEATURES:
            picked[c.source] = picked.get(c.source, 0) + 1
            chosen.add(id(c))
    seen = {(c.source, c.program) for c in candidates}
    out: list[Candidate] = []
    for c in candidates:
        out.append(c)
        if id(c) not in chosen:
            continue
        try:
            p = pruned(c, target, reference)
        except Exception as exc:  # a failing prune must not take the pipeline down
            log.debug("pruning failed: %s: %s", type(exc).__name__, exc)
            continue
        if p is not None and (p.source, p.program) not in seen:  # a program its source already has
            seen.add((p.source, p.program))
            out.append(p)
    return out
