"""Program validation: every reason a program cannot become a solid, with a message that says where.

``validate(program)`` raises ``ProgramError`` naming the feature / profile / loop and the
problem; ``is_valid(program)`` is the boolean form and ``is_valid_profile`` the same check for one
profile. ``validated_polygons`` returns the tessellated loops it checked so the solid builder does
not tessellate twice.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Polygon

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
)
from backend.cad.tessellate import TessellationError, signed_area, tessellate_loop

CLOSURE_TOLERANCE = 1e-6  # gap between consecutive curves, relative to the loop's size
PERPENDICULAR_TOLERANCE = 1e-2  # |cos| of the angle between x_dir and normal (quantised directions pass)
ZERO_TOLERANCE = 1e-9  # areas relative to size², spans and vector lengths relative to size
FIRST_OPERATIONS = (Operation.NEW, Operation.JOIN)

# feature -> profile -> [outer polygon, hole polygons...], each (k, 2) float64
Polygons = list[list[list[np.ndarray]]]


class ProgramError(ValueError):
    """The program cannot be built; the message names the feature, profile, loop and the problem."""


def validate(program: Program, scale: float = 1.0) -> None:
    """Raise ``ProgramError`` if ``program`` cannot be built into a solid."""
    validated_polygons(program, scale)


def is_valid(program: Program, scale: float = 1.0) -> bool:
    try:
        validate(program, scale)
    except ProgramError:
        return False
    return True


def is_valid_profile(profile: Profile, scale: float = 1.0) -> bool:
    """Whether one profile (outer loop and holes) passes the profile checks of ``validate``."""
    try:
        _check_profile(profile, scale, "profile")
    except ProgramError:
        return False
    return True


def validated_polygons(program: Program, scale: float = 1.0) -> Polygons:
    """Validate and return the tessellated loops (chord tolerance relative to ``scale``)."""
    if not isinstance(program, Program):
        raise ProgramError(f"expected a Program, got {type(program).__name__}")
    if not program.features:
        raise ProgramError("empty program: no features")
    out: Polygons = []
    for i, feature in enumerate(program.features):
        where = f"feature {i}"
        _check_feature_fields(feature, where)
        if i == 0 and feature.operation not in FIRST_OPERATIONS:
            raise ProgramError(
                f"{where}: the first feature must create material (new or join), "
                f"got {feature.operation.value}"
            )
        profiles = feature.sketch.profiles
        if not profiles:
            raise ProgramError(f"{where}: sketch has no profiles")
        out.append([_profile_polygons(p, scale, f"{where}, profile {j}") for j, p in enumerate(profiles)])
    return out


PROFILE_CACHE = 1024  # checked profiles kept: trials that move a feature's extent reuse its loops


def _profile_polygons(profile: Profile, scale: float, where: str) -> list[np.ndarray]:
    """``_check_profile``, remembered per (profile, scale): a level search or a refinement rebuilds one
    program many times with its loops unchanged. The arrays are read-only (shared between callers); a
    failure is not remembered, so its message names the caller's ``where``."""
    try:
        return list(_checked_profile(profile, scale))
    except (ProgramError, TypeError):  # (TypeError: a malformed profile that cannot be a key)
        return _check_profile(profile, scale, where)


@functools.lru_cache(maxsize=PROFILE_CACHE)
def _checked_profile(profile: Profile, scale: float) -> tuple[np.ndarray, ...]:
    polys = _check_profile(profile, scale, "profile")
    for poly in polys:
        poly.setflags(write=False)
    return tuple(polys)


# --- fields ---------------------------------------------------------------------------------------


def _finite(values: Iterable[float], what: str) -> None:
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise ProgramError(f"{what} must be finite numbers, got {v!r}")


def _check_feature_fields(f: Extrude, where: str) -> None:
    if not isinstance(f, Extrude):
        raise ProgramError(f"{where}: expected an Extrude, got {type(f).__name__}")
    if not isinstance(f.operation, Operation):
        raise ProgramError(f"{where}: unknown operation {f.operation!r}")
    _check_plane(f.sketch.plane, where)
    _check_extent(f.extent, where)


def _check_plane(pl: Plane, where: str) -> None:
    _finite(pl.origin, f"{where}: plane origin")
    _finite(pl.x_dir, f"{where}: plane x_dir")
    _finite(pl.normal, f"{where}: plane normal")
    if len(pl.origin) != 3 or len(pl.x_dir) != 3 or len(pl.normal) != 3:
        raise ProgramError(f"{where}: plane vectors must have 3 components")
    x, n = np.asarray(pl.x_dir, dtype=float), np.asarray(pl.normal, dtype=float)
    lx, ln = float(np.linalg.norm(x)), float(np.linalg.norm(n))
    if lx <= ZERO_TOLERANCE:
        raise ProgramError(f"{where}: plane x_dir has zero length {pl.x_dir}")
    if ln <= ZERO_TOLERANCE:
        raise ProgramError(f"{where}: plane normal has zero length {pl.normal}")
    cos = abs(float(np.dot(x, n))) / (lx * ln)
    if cos > PERPENDICULAR_TOLERANCE:
        raise ProgramError(
            f"{where}: plane x_dir {pl.x_dir} is not perpendicular to normal {pl.normal} (|cos| = {cos:.3g})"
        )


def _check_extent(e: Extent, where: str) -> None:
    if not isinstance(e.kind, ExtentKind):
        raise ProgramError(f"{where}: unknown extent kind {e.kind!r}")
    _finite((e.d1, e.d2), f"{where}: extent distances")
    lo, hi = e.interval()
    size = max(abs(e.d1), abs(e.d2), 1.0)
    if hi - lo <= ZERO_TOLERANCE * size:
        raise ProgramError(
            f"{where}: extent {getattr(e.kind, 'value', e.kind)} (d1={e.d1}, d2={e.d2}) spans "
            f"[{lo}, {hi}]: zero or negative thickness"
        )


# --- loops and profiles ---------------------------------------------------------------------------


def _curve_points(c) -> tuple:
    if isinstance(c, Line):
        return (c.start, c.end)
    if isinstance(c, Arc):
        return (c.start, c.mid, c.end)
    if isinstance(c, Circle):
        return (c.center,)
    raise ProgramError(f"unknown curve type {type(c).__name__}")


def _check_loop(loop: Loop, scale: float, where: str) -> np.ndarray:
    curves = loop.curves
    if not curves:
        raise ProgramError(f"{where}: loop has no curves")
    for k, c in enumerate(curves):
        pts = _curve_points(c)
        for p in pts:
            if len(p) != 2:
                raise ProgramError(f"{where}, curve {k}: points must have 2 coordinates, got {p!r}")
            _finite(p, f"{where}, curve {k}: coordinates")
        if isinstance(c, Circle):
            _finite((c.radius,), f"{where}, curve {k}: radius")
            if not c.radius > 0:
                raise ProgramError(f"{where}, curve {k}: circle radius must be positive, got {c.radius}")
            if len(curves) != 1:
                raise ProgramError(
                    f"{where}: a circle must be the only curve of its loop ({len(curves)} curves)"
                )
    if not loop.is_circle:
        _check_closed(loop, where)
    try:
        return tessellate_loop(loop, scale)
    except TessellationError as exc:
        raise ProgramError(f"{where}: {exc}") from None


def _check_closed(loop: Loop, where: str) -> None:
    pts = np.array([p for c in loop.curves for p in _curve_points(c)], dtype=float)
    size = float(np.max(pts.max(axis=0) - pts.min(axis=0)))
    tol = CLOSURE_TOLERANCE * max(size, ZERO_TOLERANCE)
    n = len(loop.curves)
    for k in range(n):
        end, start = loop.curves[k].end, loop.curves[(k + 1) % n].start
        if math.hypot(end[0] - start[0], end[1] - start[1]) > tol:
            nxt = (k + 1) % n
            raise ProgramError(
                f"{where}: open loop: curve {k} ends at {end} but curve {nxt} starts at {start}"
            )


def _polygon(poly: np.ndarray, where: str) -> tuple[Polygon, float]:
    size = float(np.max(poly.max(axis=0) - poly.min(axis=0))) if len(poly) else 0.0
    min_area = ZERO_TOLERANCE * size * size
    if len(poly) < 3 or size == 0.0:
        raise ProgramError(f"{where}: zero-area loop")
    shape = Polygon(poly)
    if not shape.is_valid:
        if shapely.make_valid(shape).area <= min_area:
            raise ProgramError(f"{where}: zero-area loop")
        raise ProgramError(f"{where}: self-intersecting loop ({shapely.is_valid_reason(shape)})")
    if abs(signed_area(poly)) <= min_area:
        raise ProgramError(f"{where}: zero-area loop")
    return shape, size


def _check_profile(profile: Profile, scale: float, where: str) -> list[np.ndarray]:
    outer = _check_loop(profile.outer, scale, f"{where}, outer loop")
    outer_shape, size = _polygon(outer, f"{where}, outer loop")
    polys = [outer]
    holes = []
    for h, hole in enumerate(profile.holes):
        hw = f"{where}, hole {h}"
        poly = _check_loop(hole, scale, hw)
        shape, _ = _polygon(poly, hw)
        if not outer_shape.contains(shape):
            outside = shape.difference(outer_shape).area
            if outside > ZERO_TOLERANCE * size * size:
                raise ProgramError(f"{hw}: hole is not inside the outer loop (area {outside:.3g} outside it)")
        polys.append(poly)
        holes.append(shape)
    if holes:
        net = outer_shape.difference(shapely.union_all(holes)).area
        if net <= ZERO_TOLERANCE * size * size:
            raise ProgramError(f"{where}: zero-area profile (the holes cover the outer loop)")
    return polys
