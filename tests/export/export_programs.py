"""Programs that exercise every exporter path: arcs, circles, holes, several profiles, every extent
kind (negative one-side too), join / cut / intersect, a tilted plane with an offset origin."""

from __future__ import annotations

import math

from backend.cad.program import Arc, Extent, ExtentKind, Line, Loop, Operation, Plane, Profile, Program
from backend.data.generator import generate_program
from tests.cad.programs import circle, feat, plate_with_hole, rect


def kitchen_sink() -> Program:
    """Two profiles (one with two holes), an intersect, a negative one-side cut on a tilted plane."""
    slot = Loop(
        (
            Line((-0.3, 0.25), (0.3, 0.25)),
            Arc((0.3, 0.25), (0.4, 0.35), (0.3, 0.45)),
            Line((0.3, 0.45), (-0.3, 0.45)),
            Arc((-0.3, 0.45), (-0.4, 0.35), (-0.3, 0.25)),
        )
    )
    holes = (circle(-0.25, -0.25, 0.08), circle(0.25, -0.25, 0.08))
    base = feat(
        Profile(rect(-0.5, -0.5, 0.5, 0.3), holes), Profile(slot), extent=Extent(ExtentKind.SYMMETRIC, 0.15)
    )
    keep = feat(
        Profile(circle(0.0, 0.0, 0.62)),
        extent=Extent(ExtentKind.TWO_SIDES, 0.2, 0.3),
        op=Operation.INTERSECT,
    )
    c, s = math.cos(0.3), math.sin(0.3)
    tilted = Plane((0.1, 0.05, 0.15), (c, s, 0.0), (0.0, 0.0, 1.0))
    cut = feat(
        Profile(circle(0.05, -0.05, 0.1)),
        plane=tilted,
        extent=Extent(ExtentKind.ONE_SIDE, -0.2),
        op=Operation.CUT,
    )
    return Program((base, keep, cut))


def cases() -> dict[str, Program]:
    """Named programs for parametrised tests."""
    out = {"plate_with_hole": plate_with_hole(), "kitchen_sink": kitchen_sink()}
    for seed in (0, 6, 15, 20):
        out[f"generator_{seed}"] = generate_program(seed)
    return out
