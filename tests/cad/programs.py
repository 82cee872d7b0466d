"""Small hand-written programs shared by the CAD tests."""

from backend.cad.program import (
    Arc,
    Circle,
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
)

XY = Plane((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))


def rect(x0: float, y0: float, x1: float, y1: float) -> Loop:
    pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return Loop(tuple(Line(pts[i], pts[(i + 1) % 4]) for i in range(4)))


def plate_with_hole() -> Program:
    """A 1 x 0.6 x 0.2 plate with a rounded end and a hole, and a cut boss on top."""
    outer = Loop(
        (
            Line((-0.5, -0.3), (0.3, -0.3)),
            Arc((0.3, -0.3), (0.6, 0.0), (0.3, 0.3)),
            Line((0.3, 0.3), (-0.5, 0.3)),
            Line((-0.5, 0.3), (-0.5, -0.3)),
        )
    )
    base = Extrude(
        Sketch(XY, (Profile(outer, (Loop((Circle((0.0, 0.0), 0.1),)),)),)),
        Extent(ExtentKind.ONE_SIDE, 0.2),
    )
    top = Plane((0.0, 0.0, 0.2), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    cut = Extrude(
        Sketch(top, (Profile(rect(-0.4, -0.2, -0.2, 0.2)),)),
        Extent(ExtentKind.TWO_SIDES, 0.05, 0.1),
        Operation.CUT,
    )
    side = Plane((0.0, 0.0, 0.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0))
    rib = Extrude(
        Sketch(side, (Profile(rect(-0.05, 0.0, 0.05, 0.35)),)),
        Extent(ExtentKind.SYMMETRIC, 0.3),
        Operation.JOIN,
    )
    return Program((base, cut, rib))
