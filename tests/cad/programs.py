"""Small hand-written programs, and helpers to write them, shared by the tests."""

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
THIN = Extent(ExtentKind.ONE_SIDE, 0.2)


def poly_loop(points) -> Loop:
    """The closed polygon through ``points``."""
    n = len(points)
    return Loop(tuple(Line(points[i], points[(i + 1) % n]) for i in range(n)))


def rect(x0: float, y0: float, x1: float, y1: float) -> Loop:
    return poly_loop([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def slot(length: float, r: float) -> Loop:
    """Counter-clockwise stadium: half circles of radius ``r`` around (0, 0) and (``length``, 0)."""
    return Loop(
        (
            Line((0, -r), (length, -r)),
            Arc((length, -r), (length + r, 0), (length, r)),
            Line((length, r), (0, r)),
            Arc((0, r), (-r, 0), (0, -r)),
        )
    )


def circle(cx: float, cy: float, r: float) -> Loop:
    return Loop((Circle((cx, cy), r),))


def feat(
    *profiles: Profile, plane: Plane = XY, extent: Extent = THIN, op: Operation = Operation.NEW
) -> Extrude:
    """One extrude of ``profiles`` sketched on ``plane``."""
    return Extrude(Sketch(plane, tuple(profiles)), extent, op)


def prog(*profiles: Profile, **kwargs) -> Program:
    """A one-feature program (``feat``'s keywords)."""
    return Program((feat(*profiles, **kwargs),))


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
