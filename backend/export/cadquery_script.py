"""Program -> a readable, runnable CadQuery script (text). The product writes it, never runs it.

Layout of the script: a header, then per feature a block with its named parameters (``depth_1``,
``radius_1_1``, ...), its named workplane (``plane_1 = cq.Plane(origin, xDir, normal)``), one statement
that sketches the profiles and extrudes them (``feature_1 = (...)``), and one statement that combines
it with the part (``part = part.union(feature_2)`` / ``.cut`` / ``.intersect``). Running the script
as a program writes ``<script name>.step`` next to it; CQ-editor shows ``part``.

Sketch coordinates are relative to the plane origin in the plane's (x, y) axes, exactly as in the
program; x directions are written orthonormalised (as ``backend.geometry.solid`` uses them).
"""

from __future__ import annotations

import numpy as np

from backend.cad.program import Arc, Circle, Extent, ExtentKind, Extrude, Loop, Operation, Program
from backend.cad.validate import validate
from backend.geometry.solid import plane_basis, program_scale

SIGNIFICANT_DIGITS = 10
COMBINE = {
    Operation.NEW: "union",
    Operation.JOIN: "union",
    Operation.CUT: "cut",
    Operation.INTERSECT: "intersect",
}
AXIS_NAMES = {
    (1, 0, 0): "+X",
    (-1, 0, 0): "-X",
    (0, 1, 0): "+Y",
    (0, -1, 0): "-Y",
    (0, 0, 1): "+Z",
    (0, 0, -1): "-Z",
}

HEADER = '''"""{title}

Written by mesh2cad from a CAD program ({n} feature{s}). Each feature sketches closed profiles on a
named workplane and extrudes them along the plane's normal; edit the named parameters and rerun.
Lengths are in the program's units. Run:  python {{this file}}  (writes the .step next to it),
or open it in CQ-editor.
"""

import cadquery as cq
'''

FOOTER = """
if __name__ == "__main__":
    from pathlib import Path

    cq.exporters.export(part, str(Path(__file__).with_suffix(".step")))
elif "show_object" in globals():
    show_object(part)  # noqa: F821  (CQ-editor)
"""


def num(v: float) -> str:
    """A number as a short, exact-enough Python literal (10 significant digits, no -0.0)."""
    x = float(f"{float(v):.{SIGNIFICANT_DIGITS}g}")
    return repr(x + 0.0) if x != 0.0 else "0.0"


def vec(values) -> str:
    return "(" + ", ".join(num(v) for v in values) + ")"


def _axis_name(normal: np.ndarray) -> str:
    key = tuple(int(round(c)) for c in normal)
    return AXIS_NAMES.get(key, "") if np.allclose(normal, key, atol=1e-9) else ""


def _loop_calls(loop: Loop, radius_name: str | None) -> list[str]:
    """Workplane calls drawing one closed loop (each curve ends at the next curve's start)."""
    if loop.is_circle:
        c: Circle = loop.curves[0]
        return [f".moveTo({num(c.center[0])}, {num(c.center[1])})", f".circle({radius_name})"]
    curves = loop.curves
    calls = [f".moveTo({num(curves[0].start[0])}, {num(curves[0].start[1])})"]
    for k, c in enumerate(curves):
        end = curves[(k + 1) % len(curves)].start
        last = k == len(curves) - 1
        if isinstance(c, Arc):
            calls.append(f".threePointArc({vec(c.mid)}, {vec(end)})")
        elif not last:  # the closing line is drawn by close()
            calls.append(f".lineTo({num(end[0])}, {num(end[1])})")
    calls.append(".close()")
    return calls


def _extent_lines(e: Extent, i: int) -> tuple[list[str], str, str]:
    """(parameter lines, workplane offset call or '', extrude call) of one extent."""
    if e.kind is ExtentKind.ONE_SIDE:
        return (
            [f"depth_{i} = {num(e.d1)}  # along the normal (negative: against it)"],
            "",
            f".extrude(depth_{i})",
        )
    if e.kind is ExtentKind.SYMMETRIC:
        return (
            [f"depth_{i} = {num(abs(e.d1))}  # on each side of the plane"],
            "",
            f".extrude(depth_{i}, both=True)",
        )
    params = [
        f"depth_{i} = {num(e.d1)}  # along the normal",
        f"depth_back_{i} = {num(e.d2)}  # against the normal",
    ]
    return params, f".workplane(offset=-depth_back_{i})", f".extrude(depth_{i} + depth_back_{i})"


def feature_block(feature: Extrude, i: int) -> list[str]:
    """The lines of one feature: comment, parameters, workplane, the sketch-and-extrude statement."""
    pl = feature.sketch.plane
    basis = plane_basis(pl)
    axis = _axis_name(basis[:, 2])
    kind = feature.extent.kind.value.replace("_", " ")
    lines = [f"# feature {i}: {feature.operation.value}, {kind}" + (f", normal {axis}" if axis else "")]
    params, offset_call, extrude_call = _extent_lines(feature.extent, i)
    lines += params
    body: list[str] = []
    n_circles = 0
    for profile in feature.sketch.profiles:
        for loop in profile.loops:
            radius_name = None
            if loop.is_circle:
                n_circles += 1
                radius_name = f"radius_{i}_{n_circles}"
                lines.append(f"{radius_name} = {num(loop.curves[0].radius)}")
            body += _loop_calls(loop, radius_name)
        body.append(extrude_call)  # one extrude per profile; later ones join the earlier (combine=True)
    lines.append(
        f"plane_{i} = cq.Plane(origin={vec(pl.origin)}, xDir={vec(basis[:, 0])}, normal={vec(basis[:, 2])})"
    )
    start = f"cq.Workplane(plane_{i})" + offset_call
    lines.append(f"feature_{i} = (\n    {start}\n" + "".join(f"    {c}\n" for c in body) + ")")
    return lines


def program_to_cadquery(program: Program, title: str = "mesh2cad part") -> str:
    """The CadQuery script of ``program`` (text; ends with a newline). Raises ``ProgramError`` (a
    ``ValueError`` naming the feature, profile and loop) for a program that gives no solid."""
    validate(program, program_scale(program))
    n = len(program.features)
    out = [HEADER.format(title=title, n=n, s="" if n == 1 else "s")]
    for i, feature in enumerate(program.features, start=1):
        out.append("\n".join(feature_block(feature, i)))
        if i == 1:
            out.append("part = feature_1")
        else:
            out.append(f"part = part.{COMBINE[feature.operation]}(feature_{i})")
        out.append("")
    return "\n".join(out) + FOOTER
