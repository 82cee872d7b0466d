"""The equally faithful candidates offered with fewer curves: each sketch loop refitted more loosely.

A section is fitted within ``sections.fit.FIT_TOLERANCE`` of the mesh's slice (a noisy one within its
noise), so a worn or organic outline comes back as many short lines or arcs where a person draws a few
(a Fusion 360 part's rounded outline: 14 curves, 11 within 0.004 of them). Each loop of a candidate is
tessellated and refitted (lines, arcs, whole circles: ``fit_ring``) at the looser
``SIMPLIFY_TOLERANCES``; a loop keeps its refit only when it has fewer curves and every point of each lies
within the tolerance of the other (``within``: the fitter checks only the loop's vertices), and a profile
only when it still validates. The verifier then judges the simpler program like any other
(``rank.choose``: within the tie tolerance of the most faithful, fewer curves win) and checks its exact
volume overlap (``refine.pick_keeping_volume``): a notch the surface distance lets go, the volume keeps.
The verifier offers simplifications only with exact volumes (a closed, clean input), as it prunes:
on scans and point clouds the surface distance and a voxel occupancy let real features go (Fusion 360
scans: IoU 93.9 -> 93.6 %, six parts 1.2 to 7.7 points lower, for 19.4 -> 17.0 curves a part).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import shapely

from backend.cad.program import Loop, Profile, Program
from backend.cad.tessellate import TessellationError, tessellate_loop
from backend.cad.validate import is_valid_profile
from backend.sections.fit import fit_ring

# Largest distance from the loop as drawn to its refit (normalised frame: largest extent 1); the
# sections are fitted within 0.002.
SIMPLIFY_TOLERANCES = (0.004, 0.008)
SAMPLES_PER_TOLERANCE = 2  # boundary samples per tolerance of length when the refit's distance is checked

Memo = dict[tuple[Loop, float], Loop]  # the refits of one part's loops (its candidates share most loops)


def within(a: Loop, b: Loop, tolerance: float) -> bool:
    """Every point of each loop's boundary lies within ``tolerance`` of the other's (both sampled every
    half tolerance: a straight edge between two corners on a fitted circle can bulge far from it)."""
    ra, rb = (shapely.LinearRing(tessellate_loop(loop)) for loop in (a, b))
    step = tolerance / SAMPLES_PER_TOLERANCE
    for ring, other in ((ra, rb), (rb, ra)):
        points = shapely.points(np.asarray(shapely.segmentize(ring, step).coords))
        if float(np.max(shapely.distance(points, other))) > tolerance:
            return False
    return True


def simplified_loop(loop: Loop, tolerance: float, memo: Memo | None = None) -> Loop:
    """``loop`` refitted within ``tolerance`` when that takes fewer curves and every point of the refit
    stays within ``tolerance`` of the loop and back (``within``), else ``loop`` itself (a circle stays as
    it is). ``memo``: refits already made (equal loops get one refit)."""
    if loop.is_circle:
        return loop
    key = (loop, tolerance)
    if memo is not None and key in memo:
        return memo[key]
    try:
        refit = fit_ring(tessellate_loop(loop), tolerance)
        out = refit if len(refit.curves) < len(loop.curves) and within(loop, refit, tolerance) else loop
    except (TessellationError, ValueError, shapely.errors.GEOSException):
        out = loop
    if memo is not None:
        memo[key] = out
    return out


def _simplified_profile(profile: Profile, tolerance: float, memo: Memo | None) -> Profile:
    simpler = Profile(
        simplified_loop(profile.outer, tolerance, memo),
        tuple(simplified_loop(h, tolerance, memo) for h in profile.holes),
    )
    return simpler if simpler != profile and is_valid_profile(simpler) else profile


def simplified(program: Program, tolerance: float, memo: Memo | None = None) -> Program | None:
    """``program`` with every loop refitted within ``tolerance`` where that takes fewer curves
    (``simplified_loop``); None when no profile changes."""
    features = []
    for f in program.features:
        profiles = tuple(_simplified_profile(p, tolerance, memo) for p in f.sketch.profiles)
        features.append(
            f if profiles == f.sketch.profiles else replace(f, sketch=replace(f.sketch, profiles=profiles))
        )
    out = Program(tuple(features))
    return None if out == program else out


def simplifications(program: Program, memo: Memo | None = None) -> list[Program]:
    """The distinct simplifications of ``program``, one per ``SIMPLIFY_TOLERANCES`` (tightest first)."""
    out: list[Program] = []
    for tolerance in SIMPLIFY_TOLERANCES:
        p = simplified(program, tolerance, memo)
        if p is not None and p not in out:
            out.append(p)
    return out


__all__ = ["SIMPLIFY_TOLERANCES", "simplifications", "simplified", "simplified_loop", "within"]
