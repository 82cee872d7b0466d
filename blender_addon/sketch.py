"""Program JSON ("cadprog/1") → plain geometry for Blender: plane frames, loop polylines, extents.

Pure Python (no bpy): the add-on reads the JSON layout documented in the backend's
``backend/cad/serialize.py`` without importing the backend. Arcs and circles are
tessellated with the backend's rule (sagitta at most ``CHORD_TOLERANCE`` × part
size, 24 to 256 segments per full turn), so both builders agree on the polygons
(``tests/blender_addon/test_shared_constants.py`` fails on any difference).
"""

from __future__ import annotations

import math
from typing import Any

FORMAT = "cadprog/1"
OPERATIONS = ("new", "join", "cut", "intersect")
CHORD_TOLERANCE = 5e-4  # max curve-to-chord distance, in units of the part's size
MIN_SEGMENTS_PER_CIRCLE = 24  # small holes keep ~99 % of their area
MAX_SEGMENTS_PER_CIRCLE = 256
COLLINEAR_TOLERANCE = 1e-9  # |sin| of the angle at start between (mid - start) and (end - start)

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]


class ProgramError(ValueError):
    """The program JSON cannot be built; the message names the offending field."""


def check_program(program: Any) -> list[dict[str, Any]]:
    """The program's features after a shallow check of the layout; raises ProgramError."""
    if not isinstance(program, dict):
        raise ProgramError("program must be a JSON object")
    if program.get("format") != FORMAT:
        raise ProgramError(f"unsupported program format {program.get('format')!r}; expected {FORMAT!r}")
    features = program.get("features")
    if not isinstance(features, list) or not features:
        raise ProgramError("program.features must be a non-empty list")
    for i, f in enumerate(features):
        where = f"features[{i}]"
        if not isinstance(f, dict):
            raise ProgramError(f"{where} must be an object")
        if f.get("operation") not in OPERATIONS:
            raise ProgramError(f"{where}.operation: unknown operation {f.get('operation')!r}")
        for key in ("extent", "sketch"):
            if not isinstance(f.get(key), dict):
                raise ProgramError(f"{where}.{key} is missing")
        if not isinstance(f["sketch"].get("plane"), dict) or not f["sketch"].get("profiles"):
            raise ProgramError(f"{where}.sketch needs a plane and at least one profile")
    return features


# --- vectors and frames -------------------------------------------------------------------------


def _sub(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a: Vec3, where: str) -> Vec3:
    n = math.sqrt(_dot(a, a))
    if not n > 0 or not math.isfinite(n):
        raise ProgramError(f"{where} must be a non-zero finite vector, got {a}")
    return (a[0] / n, a[1] / n, a[2] / n)


def plane_frame(plane: dict[str, Any]) -> tuple[Vec3, Vec3, Vec3, Vec3]:
    """(origin, x, y, normal) of a sketch plane, made orthonormal (x projected off the normal)."""
    try:
        origin = tuple(float(c) for c in plane["origin"])
        n = _unit(tuple(float(c) for c in plane["normal"]), "plane.normal")
        x = tuple(float(c) for c in plane["x_dir"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProgramError(f"sketch plane is malformed: {exc}") from exc
    x = _unit(_sub(x, tuple(_dot(x, n) * c for c in n)), "plane.x_dir (off the normal)")
    return origin, x, _cross(n, x), n  # type: ignore[return-value]


def plane_matrix(plane: dict[str, Any]) -> list[list[float]]:
    """4x4 row-major matrix whose columns are the plane's x, y, normal and origin."""
    o, x, y, n = plane_frame(plane)
    return [[x[r], y[r], n[r], o[r]] for r in range(3)] + [[0.0, 0.0, 0.0, 1.0]]


def interval(extent: dict[str, Any]) -> tuple[float, float]:
    """(low, high) heights along the normal: one_side [0, d1] (d1 may be negative),
    symmetric [-d1, d1], two_sides [-d2, d1]."""
    kind = extent.get("kind")
    try:
        d1, d2 = float(extent["d1"]), float(extent.get("d2", 0.0))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProgramError(f"extent is malformed: {exc}") from exc
    if kind == "one_side":
        return (min(0.0, d1), max(0.0, d1))
    if kind == "symmetric":
        return (-abs(d1), abs(d1))
    if kind == "two_sides":
        return (-d2, d1)
    raise ProgramError(f"extent.kind: unknown extent {kind!r}")


# --- curves ---------------------------------------------------------------------------------------


def segments_per_circle(radius: float, tol: float) -> int:
    """Segments of a full turn so that the sagitta stays within ``tol``."""
    if radius <= tol:
        return MIN_SEGMENTS_PER_CIRCLE
    n = math.ceil(2.0 * math.pi / (2.0 * math.acos(1.0 - tol / radius)))
    return int(min(MAX_SEGMENTS_PER_CIRCLE, max(MIN_SEGMENTS_PER_CIRCLE, n)))


def _pt(curve: dict[str, Any], key: str) -> Vec2:
    try:
        u, v = curve[key]
        return (float(u), float(v))
    except (KeyError, TypeError, ValueError) as exc:
        raise ProgramError(f"{curve.get('type')} curve: bad {key!r} ({exc})") from exc


def _arc_points(curve: dict[str, Any], tol: float) -> list[Vec2]:
    (ax, ay), (bx, by), (cx, cy) = _pt(curve, "start"), _pt(curve, "mid"), _pt(curve, "end")
    abx, aby, acx, acy = bx - ax, by - ay, cx - ax, cy - ay
    d = 2.0 * (abx * acy - aby * acx)
    lab, lac = abx * abx + aby * aby, acx * acx + acy * acy
    if lab == 0.0 or lac == 0.0 or abs(d) <= 2.0 * COLLINEAR_TOLERANCE * math.sqrt(lab * lac):
        raise ProgramError(f"degenerate arc through {curve['start']}, {curve['mid']}, {curve['end']}")
    ux, uy = (acy * lab - aby * lac) / d, (abx * lac - acx * lab) / d
    ox, oy, r = ax + ux, ay + uy, math.hypot(ux, uy)
    a0 = math.atan2(ay - oy, ax - ox)
    dm = (math.atan2(by - oy, bx - ox) - a0) % (2.0 * math.pi)
    de = (math.atan2(cy - oy, cx - ox) - a0) % (2.0 * math.pi)
    sweep = de if dm < de else de - 2.0 * math.pi
    n = max(1, math.ceil(segments_per_circle(r, tol) * abs(sweep) / (2.0 * math.pi)))
    pts = [(ox + r * math.cos(a0 + sweep * k / n), oy + r * math.sin(a0 + sweep * k / n)) for k in range(n)]
    pts[0] = (ax, ay)
    return pts


def _circle_points(curve: dict[str, Any], tol: float) -> list[Vec2]:
    ox, oy = _pt(curve, "center")
    r = float(curve.get("radius", 0.0))
    if not r > 0:
        raise ProgramError(f"circle radius must be positive, got {r}")
    n = segments_per_circle(r, tol)
    return [
        (ox + r * math.cos(2 * math.pi * k / n), oy + r * math.sin(2 * math.pi * k / n)) for k in range(n)
    ]


def loop_polygon(loop: dict[str, Any], tol: float) -> list[Vec2]:
    """Closed polygon of a loop (no repeated closing point), in plane coordinates."""
    curves = loop.get("curves") if isinstance(loop, dict) else None
    if not curves:
        raise ProgramError("a loop needs at least one curve")
    pts: list[Vec2] = []
    for c in curves:
        kind = c.get("type") if isinstance(c, dict) else None
        if kind == "line":
            pts.append(_pt(c, "start"))
        elif kind == "arc":
            pts.extend(_arc_points(c, tol))
        elif kind == "circle":
            pts.extend(_circle_points(c, tol))
        else:
            raise ProgramError(f"unknown curve type {kind!r}")
    if len(pts) < 3:
        raise ProgramError(f"a loop needs at least 3 points, got {len(pts)}")
    return pts


def feature_loops(feature: dict[str, Any], tol: float) -> list[tuple[int, list[Vec2]]]:
    """All loops (outer and holes of every profile) of a feature's sketch, as (profile index, polygon)."""
    loops = []
    for i, p in enumerate(feature["sketch"]["profiles"]):
        if not isinstance(p, dict) or not isinstance(p.get("outer"), dict):
            raise ProgramError("a profile needs an outer loop")
        loops.append((i, loop_polygon(p["outer"], tol)))
        loops.extend((i, loop_polygon(h, tol)) for h in p.get("holes", []))
    return loops


def part_size(features: list[dict[str, Any]]) -> float:
    """The backend's ``program_scale``: the largest side of the box around what the adding features
    (new / join; all features when none adds) extrude, their sketches' control points placed at both
    ends of their extents (1.0 if degenerate)."""
    adding = [f for f in features if f.get("operation") in ("new", "join")]
    lo, hi = [math.inf] * 3, [-math.inf] * 3
    for f in adding or features:
        o, x, y, n = plane_frame(f["sketch"]["plane"])
        heights = interval(f["extent"])
        pts: list[Vec2] = []
        for p in f["sketch"]["profiles"]:
            for loop in [p.get("outer", {}), *p.get("holes", [])]:
                for c in loop.get("curves", []):
                    if c.get("type") == "circle":
                        (cx, cy), r = _pt(c, "center"), abs(float(c.get("radius", 0.0)))
                        pts += [(cx - r, cy - r), (cx + r, cy + r)]
                    else:
                        pts += [_pt(c, k) for k in ("start", "mid", "end") if k in c]
        for u, v in pts:
            for t in heights:
                for ax in range(3):
                    w = o[ax] + u * x[ax] + v * y[ax] + t * n[ax]
                    lo[ax], hi[ax] = min(lo[ax], w), max(hi[ax], w)
    size = max((h - lo_ for lo_, h in zip(lo, hi) if math.isfinite(h - lo_)), default=0.0)
    return size if size > 0 else 1.0
