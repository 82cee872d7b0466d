"""Hand-written golden programs ("cadprog/1") with analytically known volumes and bounding boxes."""

from __future__ import annotations

import math
from typing import Any

XY = {"origin": [0.0, 0.0, 0.0], "x_dir": [1.0, 0.0, 0.0], "normal": [0.0, 0.0, 1.0]}


def plane(origin: list[float], x_dir: list[float], normal: list[float]) -> dict[str, Any]:
    return {"origin": origin, "x_dir": x_dir, "normal": normal}


def line(a: tuple[float, float], b: tuple[float, float]) -> dict[str, Any]:
    return {"type": "line", "start": list(a), "end": list(b)}


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    p = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return {"curves": [line(p[k], p[(k + 1) % 4]) for k in range(4)]}


def circle(cx: float, cy: float, r: float) -> dict[str, Any]:
    return {"curves": [{"type": "circle", "center": [cx, cy], "radius": r}]}


def feature(
    op: str,
    pl: dict,
    outer: dict,
    holes: list | None = None,
    kind: str = "one_side",
    d1: float = 1.0,
    d2: float = 0.0,
) -> dict[str, Any]:
    return {
        "operation": op,
        "extent": {"kind": kind, "d1": d1, "d2": d2},
        "sketch": {"plane": pl, "profiles": [{"outer": outer, "holes": holes or []}]},
    }


def program(*features: dict[str, Any]) -> dict[str, Any]:
    return {"format": "cadprog/1", "features": list(features)}


def segment_area(r: float, h: float) -> float:
    """Area of a circular segment of height h cut from a disc of radius r."""
    return r * r * math.acos((r - h) / r) - (r - h) * math.sqrt(2 * r * h - h * h)


def plate_hole_fillet() -> tuple[dict, float, tuple]:
    """2 x 1 x 0.25 plate, corner (2, 1) rounded with r 0.3, hole r 0.2 at (0.7, 0.5)."""
    r, c = 0.3, math.sqrt(0.5)
    outer = {
        "curves": [
            line((0, 0), (2, 0)),
            line((2, 0), (2, 1 - r)),
            {"type": "arc", "start": [2, 1 - r], "mid": [2 - r + r * c, 1 - r + r * c], "end": [2 - r, 1]},
            line((2 - r, 1), (0, 1)),
            line((0, 1), (0, 0)),
        ]
    }
    prog = program(feature("new", XY, outer, [circle(0.7, 0.5, 0.2)], d1=0.25))
    volume = 0.25 * (2 - r * r * (1 - math.pi / 4) - math.pi * 0.04)
    return prog, volume, ((0, 0, 0), (2, 1, 0.25))


def plate_pocket() -> tuple[dict, float, tuple]:
    """2 x 2 x 0.5 plate; a 1 x 1 pocket sketched on the top face, two_sides [-0.2, 0.1]."""
    top = plane([0, 0, 0.5], [1, 0, 0], [0, 0, 1])
    prog = program(
        feature("new", XY, rect(0, 0, 2, 2), d1=0.5),
        feature("cut", top, rect(0.5, 0.5, 1.5, 1.5), kind="two_sides", d1=0.1, d2=0.2),
    )
    return prog, 2 * 2 * 0.5 - 1 * 1 * 0.2, ((0, 0, 0), (2, 2, 0.5))


def boss_on_xz() -> tuple[dict, float, tuple]:
    """2 x 1 x 0.2 plate joined with a cylinder (r 0.3, axis along Y) sketched on an XZ plane."""
    xz = plane([0, 0.25, 0], [1, 0, 0], [0, -1, 0])  # y_dir = normal x x_dir = +Z
    prog = program(
        feature("new", XY, rect(0, 0, 2, 1), d1=0.2),
        feature("join", xz, circle(1.0, 0.4, 0.3), d1=-0.5),  # one_side, negative: y in [0.25, 0.75]
    )
    volume = 2 * 1 * 0.2 + math.pi * 0.09 * 0.5 - 0.5 * segment_area(0.3, 0.1)
    return prog, volume, ((0, 0, 0), (2, 1, 0.7))


def symmetric_two_bodies() -> tuple[dict, float, tuple]:
    """A symmetric 1 x 2 block (z in [-0.3, 0.3]) plus a separate new cylinder."""
    prog = program(
        feature("new", XY, rect(0, 0, 1, 2), kind="symmetric", d1=0.3),
        feature("new", XY, circle(3.0, 0.0, 0.25), d1=0.5),
    )
    return prog, 1 * 2 * 0.6 + math.pi * 0.0625 * 0.5, ((0, -0.25, -0.3), (3.25, 2, 0.5))


def box_intersect_cylinder() -> tuple[dict, float, tuple]:
    """Unit cube intersected with a tall cylinder r 0.9 around the Z axis: a quarter cylinder."""
    mid = plane([0, 0, 0.5], [1, 0, 0], [0, 0, 1])
    prog = program(
        feature("new", XY, rect(0, 0, 1, 1), d1=1.0),
        feature("intersect", mid, circle(0, 0, 0.9), kind="symmetric", d1=2.0),
    )
    return prog, math.pi * 0.81 / 4, ((0, 0, 0), (0.9, 0.9, 1))


GOLDEN = {
    "plate_hole_fillet": plate_hole_fillet,
    "plate_pocket": plate_pocket,
    "boss_on_xz": boss_on_xz,
    "symmetric_two_bodies": symmetric_two_bodies,
    "box_intersect_cylinder": box_intersect_cylinder,
}


def ten_features() -> dict[str, Any]:
    """A 10-feature program (plate, holes, pockets, bosses) for timing."""
    feats = [feature("new", XY, rect(0, 0, 10, 4), d1=1.0)]
    for k in range(4):
        feats.append(feature("cut", XY, circle(1 + 2.5 * k, 1, 0.4), kind="symmetric", d1=2.0))
    top = plane([0, 0, 1], [1, 0, 0], [0, 0, 1])
    for k in range(3):
        feats.append(
            feature("cut", top, rect(0.5 + 3 * k, 2.2, 2.5 + 3 * k, 3.5), kind="two_sides", d1=0.1, d2=0.4)
        )
    feats.append(feature("join", top, circle(9, 1, 0.5), d1=1.5))
    feats.append(feature("intersect", XY, rect(-1, -1, 11, 5), kind="symmetric", d1=2.2))
    return program(*feats)
