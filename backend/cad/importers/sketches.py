"""Sketches in the Fusion 360 Gallery layout, shared by the Fusion 360 and DeepCAD importers: the
readings that differ between the two (``Conventions``), number and vector fields, sketch frames,
profiles, loops and curves.

A sketch's ``transform`` gives its frame (a mirrored one is handled); profile curves are read in
sketch coordinates, mapped into the target plane, chained end to start (``chain_loop``), the outer
loop turned counter-clockwise and holes clockwise. Arcs get their mid point from centre, radius,
reference vector and angles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.cad.curves import loop_area, oriented
from backend.cad.importers.errors import ImportErrorUnsupported, ImportFormatError
from backend.cad.program import (
    Arc,
    Circle,
    Curve,
    Line,
    Loop,
    Profile,
    Vec2,
    Vec3,
    cross,
    dot,
    map_curve,
    normalized,
    reverse_curve,
)

LINE_TYPES = ("Line3D", "SketchLine")
ARC_TYPES = ("Arc3D", "SketchArc")
CIRCLE_TYPES = ("Circle3D", "SketchCircle")
ARC_MATCH_TOLERANCE = 1e-3  # endpoint mismatch, relative to the radius, when inferring an arc's direction
CHAIN_TOLERANCE = 1e-3  # gap between consecutive curves, relative to the loop's size
COPLANAR_TOLERANCE = 1e-7  # relative to the sketch origins' magnitude (at least 1)


@dataclass(frozen=True)
class Conventions:
    """Where the DeepCAD and Fusion 360 readings of the same layout differ."""

    source: str  # "Fusion 360" / "DeepCAD", for messages
    arc_normal_in_world: bool  # arc ``normal`` in world space (DeepCAD) or sketch space (Fusion)
    trust_is_outer: bool  # follow ``is_outer`` flags (Fusion) or pick the largest loop (DeepCAD)
    symmetric_full_length: bool  # symmetric distance is the full length when the file does not say


# --- fields ----------------------------------------------------------------------------------------


def read_num(value: Any, where: str) -> float:
    """A finite number (bare or as ``{"value": ...}``); ``where`` names the field in errors."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ImportFormatError(f"{where} must be a finite number, got {value!r}")
    return float(value)


def read_vec3(d: Any, where: str) -> Vec3:
    """An ``{x, y, z}`` object (z defaults to 0)."""
    if not isinstance(d, dict):
        raise ImportFormatError(f"{where} must be an {{x, y, z}} object")
    return (
        read_num(d.get("x"), f"{where}.x"),
        read_num(d.get("y"), f"{where}.y"),
        read_num(d.get("z", 0.0), f"{where}.z"),
    )


def read_vec2(d: Any, where: str) -> Vec2:
    """The x and y of an ``{x, y[, z]}`` object."""
    x, y, _ = read_vec3(d, where)
    return (x, y)


# --- sketch frames ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A sketch transform: the file's axes (possibly mirrored) and the right-handed plane built from it."""

    origin: Vec3
    x_axis: Vec3  # the file's axes, unit length
    y_axis: Vec3
    z_axis: Vec3
    x_dir: Vec3  # our right-handed frame: x_dir, y_dir = normal x x_dir, normal
    y_dir: Vec3
    normal: Vec3

    @staticmethod
    def from_transform(t: Any, where: str) -> Frame:
        if not isinstance(t, dict):
            raise ImportFormatError(f"{where}: no transform")
        try:
            origin = read_vec3(t.get("origin"), f"{where}.transform.origin")
            x = normalized(read_vec3(t.get("x_axis"), f"{where}.transform.x_axis"))
            y = normalized(read_vec3(t.get("y_axis"), f"{where}.transform.y_axis"))
            z = normalized(read_vec3(t.get("z_axis"), f"{where}.transform.z_axis"))
        except ValueError as exc:
            if isinstance(exc, ImportFormatError):
                raise
            raise ImportFormatError(f"{where}: degenerate transform ({exc})") from exc
        xd = normalized(_sub(x, _scale(z, dot(x, z))))
        return Frame(origin, x, y, z, xd, cross(z, xd), z)

    def to_world(self, u: float, v: float) -> Vec3:
        o, x, y = self.origin, self.x_axis, self.y_axis
        return (o[0] + u * x[0] + v * y[0], o[1] + u * x[1] + v * y[1], o[2] + u * x[2] + v * y[2])

    def coplanar(self, other: Frame) -> bool:
        if abs(abs(dot(self.normal, other.normal)) - 1.0) > COPLANAR_TOLERANCE:
            return False
        size = max(1.0, *(abs(c) for c in self.origin + other.origin))
        return abs(dot(_sub(other.origin, self.origin), self.normal)) <= COPLANAR_TOLERANCE * size

    def mapper(self, src: Frame) -> Callable[[Vec2], Vec2]:
        """Map ``src``'s sketch coordinates into this frame's plane coordinates."""
        if src is self and self.x_axis == self.x_dir and self.y_axis == self.y_dir:
            return lambda p: (float(p[0]), float(p[1]))
        o, x, y = self.origin, self.x_dir, self.y_dir

        def fn(p: Vec2) -> Vec2:
            w = _sub(src.to_world(p[0], p[1]), o)
            return (dot(w, x), dot(w, y))

        return fn


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _scale(a: Vec3, s: float) -> Vec3:
    return (a[0] * s, a[1] * s, a[2] * s)


# --- profiles, loops, curves -----------------------------------------------------------------------


def read_profile(
    sketch: dict[str, Any],
    profile_id: Any,
    frame: Frame,
    to_plane: Callable[[Vec2], Vec2],
    conv: Conventions,
    where: str,
) -> Profile:
    """Profile ``profile_id`` of the sketch, mapped into the target plane by ``to_plane``: loops chained,
    the outer one (by flag, or the largest) counter-clockwise, holes clockwise."""
    profiles = sketch.get("profiles")
    if not isinstance(profiles, dict) or profile_id not in profiles:
        raise ImportFormatError(f"{where}: no profile {profile_id!r}")
    raw_loops = profiles[profile_id].get("loops") if isinstance(profiles[profile_id], dict) else None
    if not isinstance(raw_loops, list) or not raw_loops:
        raise ImportFormatError(f"{where}: profile {profile_id!r} has no loops")
    where = f"{where}, profile {profile_id!r}"
    loops: list[tuple[bool, Loop]] = []
    for i, raw in enumerate(raw_loops):
        lw = f"{where}, loop {i}"
        curves_raw = raw.get("profile_curves") if isinstance(raw, dict) else None
        if not isinstance(curves_raw, list) or not curves_raw:
            raise ImportFormatError(f"{lw}: no profile_curves")
        curves = [_curve(c, frame, conv, f"{lw}, curve {j}") for j, c in enumerate(curves_raw)]
        mapped = [map_curve(c, to_plane) for c in curves]
        loops.append((bool(raw.get("is_outer", False)), chain_loop(mapped, lw)))

    outers = [k for k, (flag, _) in enumerate(loops) if flag]
    if conv.trust_is_outer and len(outers) == 1:
        outer_index = outers[0]
    else:  # flags missing or unreliable (DeepCAD marks every loop outer): the largest loop bounds the region
        outer_index = max(range(len(loops)), key=lambda k: abs(loop_area(loops[k][1])))
    outer = oriented(loops[outer_index][1], ccw=True)
    holes = tuple(oriented(lp, ccw=False) for k, (_, lp) in enumerate(loops) if k != outer_index)
    return Profile(outer, holes)


def _curve(c: Any, frame: Frame, conv: Conventions, where: str) -> Curve:
    """One profile curve in the file's sketch coordinates."""
    if not isinstance(c, dict):
        raise ImportFormatError(f"{where}: not an object")
    kind = c.get("type")
    if kind in LINE_TYPES:
        return Line(
            read_vec2(c.get("start_point"), f"{where}.start_point"),
            read_vec2(c.get("end_point"), f"{where}.end_point"),
        )
    if kind in CIRCLE_TYPES:
        radius = read_num(c.get("radius"), f"{where}.radius")
        if radius <= 0:
            raise ImportFormatError(f"{where}: circle radius {radius} is not positive")
        return Circle(read_vec2(c.get("center_point"), f"{where}.center_point"), radius)
    if kind in ARC_TYPES:
        return _arc(c, frame, conv, where)
    raise ImportErrorUnsupported(f"{where}: {kind} curves are not supported (lines, arcs and circles only)")


def _arc(c: dict[str, Any], frame: Frame, conv: Conventions, where: str) -> Arc:
    center = read_vec2(c.get("center_point"), f"{where}.center_point")
    start = read_vec2(c.get("start_point"), f"{where}.start_point")
    end = read_vec2(c.get("end_point"), f"{where}.end_point")
    radius = read_num(c.get("radius"), f"{where}.radius")
    a0 = read_num(c.get("start_angle"), f"{where}.start_angle")
    a1 = read_num(c.get("end_angle"), f"{where}.end_angle")
    ref = c.get("reference_vector")
    rx, ry = (
        read_vec2(ref, f"{where}.reference_vector")
        if ref is not None
        else (start[0] - center[0], start[1] - center[1])
    )
    rlen = math.hypot(rx, ry)
    if radius <= 0 or rlen == 0:
        raise ImportFormatError(f"{where}: degenerate arc (radius {radius}, reference vector {ref})")
    ref_angle = math.atan2(ry, rx)
    sweep = (a1 - a0) % (2.0 * math.pi)
    if sweep < 1e-12:
        raise ImportFormatError(f"{where}: arc with zero sweep")

    def at(direction: float, t: float) -> Vec2:
        a = ref_angle + direction * t
        return (center[0] + radius * math.cos(a), center[1] + radius * math.sin(a))

    def fits(direction: float) -> bool:
        p0, p1 = at(direction, a0), at(direction, a0 + sweep)
        err = min(math.dist(p0, start) + math.dist(p1, end), math.dist(p0, end) + math.dist(p1, start))
        return err <= ARC_MATCH_TOLERANCE * radius

    ccw, cw = fits(1.0), fits(-1.0)
    if ccw != cw:
        direction = 1.0 if ccw else -1.0
    else:  # a half turn fits both ways (or the angles disagree with the points): ask the normal
        direction = _normal_direction(c.get("normal"), frame, conv, where)
    return Arc(start, at(direction, a0 + sweep / 2.0), end)


def _normal_direction(n: Any, frame: Frame, conv: Conventions, where: str) -> float:
    """+1 if the arc turns counter-clockwise in the file's sketch coordinates, -1 if clockwise."""
    if n is None:
        return 1.0
    normal = read_vec3(n, f"{where}.normal")
    if conv.arc_normal_in_world:
        s = dot(normal, cross(frame.x_axis, frame.y_axis))
    else:
        s = normal[2]
    return -1.0 if s < 0 else 1.0


def _with_ends(c: Curve, start: Vec2, end: Vec2) -> Curve:
    return Line(start, end) if isinstance(c, Line) else Arc(start, c.mid, end)  # type: ignore[union-attr]


def chain_loop(curves: list[Curve], where: str = "loop") -> Loop:
    """Order and orient unordered curves into a closed chain (each end is the next start, exactly).

    A single circle is returned as is. Gaps up to ``CHAIN_TOLERANCE`` of the loop's size are closed
    by snapping each start onto the previous end.
    """
    if len(curves) == 1 and isinstance(curves[0], Circle):
        return Loop((curves[0],))
    if any(isinstance(c, Circle) for c in curves):
        raise ImportFormatError(f"{where}: a circle mixed with other curves in one loop")
    pts = [p for c in curves for p in (c.start, c.end)]  # type: ignore[union-attr]
    size = max(
        max(p[0] for p in pts) - min(p[0] for p in pts), max(p[1] for p in pts) - min(p[1] for p in pts)
    )
    tol = CHAIN_TOLERANCE * size
    remaining = list(curves)
    chain = [remaining.pop(0)]
    while remaining:
        tail = chain[-1].end  # type: ignore[union-attr]
        best, flip, gap = 0, False, math.inf
        for k, c in enumerate(remaining):
            for rev, p in ((False, c.start), (True, c.end)):  # type: ignore[union-attr]
                d = math.dist(tail, p)
                if d < gap:
                    best, flip, gap = k, rev, d
        if gap > tol:
            raise ImportFormatError(f"{where}: curves do not form a closed chain (gap {gap:.3g})")
        c = remaining.pop(best)
        chain.append(reverse_curve(c) if flip else c)
    closing = math.dist(chain[-1].end, chain[0].start)  # type: ignore[union-attr]
    if closing > tol:
        raise ImportFormatError(f"{where}: loop is not closed (gap {closing:.3g})")
    out: list[Curve] = []
    for k, c in enumerate(chain):
        start = out[-1].end if out else c.start  # type: ignore[union-attr]
        end = chain[0].start if k == len(chain) - 1 else c.end  # type: ignore[union-attr]
        out.append(_with_ends(c, start, end))
    return Loop(tuple(out))
