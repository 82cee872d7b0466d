"""The model's best programs with their extrusion ends searched over the mesh's levels.

Snapping (``verify.snap``) moves each end of an extrusion to the *nearest* level where the mesh has a
flat face (or to its end), so a program whose structure is right but whose extents are far off (a shaft
drawn to a step instead of to the part's end, a bore started at the wrong shoulder) stays wrong. Here
the ends are searched: for the ``SEARCH_PER_SOURCE`` lowest-loss model candidates, each end of each
axis-aligned extrusion (a one-sided extrusion's sketch plane and far end, a two-sided one's two ends) is
tried at every level of its axis (``Snapper.levels``), and the end whose best level lowers the loss by
more than its noise (``rank.RANK_NOISE``) moves there; passes repeat until none does or the evaluation
budget (``MAX_EVALS`` rebuilt programs a candidate: deterministic, not a clock) is spent. The searched
program is then snapped again (its loops fitted at the new heights) and the lower-loss of the two is
kept. The result keeps the model's source: the model wrote the structure, the mesh gives the numbers,
as for snapping; the verifier judges it like any other candidate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import trimesh

from backend.cad.program import Extent, ExtentKind, Extrude, Plane, Program, Sketch, dot
from backend.geometry.solid import GeometryError, program_to_mesh
from backend.verify.rank import RANK_NOISE, Candidate
from backend.verify.snap import Snapper, axis_of

log = logging.getLogger(__name__)

SEARCH_PER_SOURCE = 2  # the model's lowest-loss candidates searched
MAX_EVALS = 48  # rebuilt and scored programs per searched candidate at most
MAX_FEATURES = 6  # a candidate with more features is left as it is (each pass rebuilds it per level)
MIN_SPAN = 1e-3  # an extrusion shorter than this (normalised units) is not tried


def with_end(feature: Extrude, end: int, level: float) -> Extrude | None:
    """``feature`` with its end ``end`` (0: a one-sided extrusion's sketch plane, a two-sided one's
    lower end; 1: the far end) at world height ``level`` on its axis; None when the extrusion would be
    shorter than ``MIN_SPAN`` or its plane is not on an axis. The loops are kept as drawn."""
    found = axis_of(feature.sketch.plane)
    if found is None:
        return None
    _, sign = found
    plane, extent = feature.sketch.plane, feature.extent
    n = plane.normal
    h = dot(plane.origin, n)
    t = sign * level  # the level as a height along the normal
    if extent.kind is ExtentKind.ONE_SIDE:
        a, b = h, h + extent.d1
        a, b = (t, b) if end == 0 else (a, t)
        if abs(b - a) < MIN_SPAN:
            return None
        origin = tuple(o + (a - h) * c for o, c in zip(plane.origin, n))
        sketch = Sketch(Plane(origin, plane.x_dir, n), feature.sketch.profiles)
        return Extrude(sketch, Extent(extent.kind, b - a), feature.operation)
    if extent.kind is ExtentKind.TWO_SIDES:
        d1, d2 = (extent.d1, h - t) if end == 0 else (t - h, extent.d2)
        if d1 + d2 < MIN_SPAN:
            return None
        return Extrude(feature.sketch, Extent(extent.kind, d1, d2), feature.operation)
    return None


def searched(
    candidate: Candidate,
    snapper: Snapper,
    target: Callable[[trimesh.Trimesh], float],
    max_evals: int = MAX_EVALS,
) -> Candidate | None:
    """``candidate`` with its ends moved to the levels that lower its loss, snapped again (module doc);
    None when no move lowers it by more than the noise."""
    current, evals, moved = candidate, 0, True
    while moved and evals < max_evals:
        moved = False
        for k in range(len(current.program.features)):
            feature = current.program.features[k]
            found = axis_of(feature.sketch.plane)
            if found is None:
                continue
            for end in (0, 1):
                feature = current.program.features[k]
                best: Candidate | None = None
                for level in snapper.levels(found[0]):
                    if evals >= max_evals:
                        break
                    f = with_end(feature, end, float(level))
                    if f is None or f == feature:
                        continue
                    evals += 1
                    features = current.program.features
                    trial = _scored(Program((*features[:k], f, *features[k + 1 :])), candidate.source, target)
                    if trial is not None and (best is None or trial.rank_cd < best.rank_cd):
                        best = trial
                if best is not None and best.rank_cd < current.rank_cd * (1 - RANK_NOISE):
                    current, moved = best, True
    if current is candidate:
        return None
    resnapped = snapper.snap(current.program)
    if resnapped != current.program:
        trial = _scored(resnapped, candidate.source, target)
        if trial is not None and trial.rank_cd < current.rank_cd:
            current = trial
    return current


def with_level_search(
    candidates: Sequence[Candidate],
    snapper: Snapper,
    target: Callable[[trimesh.Trimesh], float],
    source: str,
    per_source: int = SEARCH_PER_SOURCE,
) -> list[Candidate]:
    """The candidates, then the ``per_source`` lowest-loss ones of ``source`` (of at most
    ``MAX_FEATURES`` features) searched (``searched``), those that changed, without repeats. A failing
    search costs only its candidate."""
    pool = sorted((c for c in candidates if c.source == source), key=lambda c: c.rank_cd)
    seen = {c.program for c in candidates}
    out = list(candidates)
    for c in [c for c in pool if len(c.program.features) <= MAX_FEATURES][:per_source]:
        try:
            found = searched(c, snapper, target)
        except Exception as exc:  # one failing search must not take the pipeline down
            log.warning("level search failed: %s: %s", type(exc).__name__, exc)
            continue
        if found is not None and found.program not in seen:
            seen.add(found.program)
            out.append(found)
    return out


def _scored(program: Program, source: str, target: Callable[[trimesh.Trimesh], float]) -> Candidate | None:
    """``program`` rebuilt and scored, or None when it does not rebuild."""
    try:
        mesh = program_to_mesh(program)
    except (GeometryError, ValueError):
        return None
    return Candidate(program, source, mesh, target(mesh))
