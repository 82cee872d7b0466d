"""Quantisation of program numbers for the text and token forms.

Every number in the text form (coordinates, distances, radii, plane vectors) is
a multiple of ``STEP`` = 1/200 = 0.005 in ``[-LIMIT, LIMIT]`` = [-1, 1]: 401
values. In the normalised frame (largest extent 1) that is 0.5 % of the part's
size; the worst-case error per number is STEP / 2 = 0.0025 (0.25 %).
Refinement against the mesh later works on continuous values.
"""

from __future__ import annotations

import math

from backend.cad.program import (
    Arc,
    Circle,
    Curve,
    Extent,
    Extrude,
    Line,
    Loop,
    Plane,
    Profile,
    Program,
    Sketch,
)

STEPS_PER_UNIT = 200
STEP = 1.0 / STEPS_PER_UNIT
LIMIT_STEPS = 200  # numbers span [-LIMIT_STEPS, LIMIT_STEPS] * STEP
LIMIT = LIMIT_STEPS * STEP


class QuantizationRangeError(ValueError):
    """A number lies outside [-LIMIT, LIMIT]: the program is not in the normalised frame."""


def to_steps(value: float) -> int:
    if not math.isfinite(value):
        raise QuantizationRangeError(f"number {value!r} is not finite")
    q = round(value * STEPS_PER_UNIT)
    if abs(q) > LIMIT_STEPS:
        raise QuantizationRangeError(f"number {value:.4f} is outside the token range [-{LIMIT}, {LIMIT}]")
    return int(q)


def from_steps(q: int) -> float:
    return q / STEPS_PER_UNIT


def quantize_value(value: float) -> float:
    return from_steps(to_steps(value))


def format_steps(q: int) -> str:
    """Exact decimal text of q * STEP with three decimals, e.g. 13 -> '0.065', -200 -> '-1.000'."""
    milli = abs(q) * (1000 // STEPS_PER_UNIT)
    return f"{'-' if q < 0 else ''}{milli // 1000}.{milli % 1000:03d}"


def _q2(p: tuple[float, float]) -> tuple[float, float]:
    return (quantize_value(p[0]), quantize_value(p[1]))


def quantize_curve(c: Curve) -> Curve:
    if isinstance(c, Line):
        return Line(_q2(c.start), _q2(c.end))
    if isinstance(c, Arc):
        return Arc(_q2(c.start), _q2(c.mid), _q2(c.end))
    return Circle(_q2(c.center), quantize_value(c.radius))


def quantize_program(program: Program) -> Program:
    """Snap every number to the token grid (raises QuantizationRangeError when out of range)."""
    feats = []
    for f in program.features:
        pl = f.sketch.plane
        plane = Plane(
            tuple(quantize_value(v) for v in pl.origin),
            tuple(quantize_value(v) for v in pl.x_dir),
            tuple(quantize_value(v) for v in pl.normal),
        )
        profiles = tuple(
            Profile(
                Loop(tuple(quantize_curve(c) for c in p.outer.curves)),
                tuple(Loop(tuple(quantize_curve(c) for c in h.curves)) for h in p.holes),
            )
            for p in f.sketch.profiles
        )
        extent = Extent(f.extent.kind, quantize_value(f.extent.d1), quantize_value(f.extent.d2))
        feats.append(Extrude(Sketch(plane, profiles), extent, f.operation))
    return Program(tuple(feats))
