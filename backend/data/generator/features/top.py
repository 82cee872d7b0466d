"""Procedural sketch+extrude parts: ``generate_program(seed)`` and ``generate(seed)``.

A part is drawn in a local frame (nominal size 1): a prismatic base (plate, block, disc,
polygon, stadium, L/T/U/cross profile, often with fillet arcs and holes), then 0 to ~9
features placed on it (holes, counterbores, pockets, slots, bosses, ribs, walls, tabs,
side holes, rounded/chamfered edges, notches, rare intersections). The whole part is then
turned by a random axis rotation, normalised (bounding box centred, largest extent 1) and
canonicalised. Every number is written as a world coordinate and quantised once, so faces
that coincide before quantisation still coincide after it. The returned mesh is built on the
integer step grid (``exact_mesh``), where sums of plane heights and extents are exact.

Everything is deterministic per seed (``numpy.random.Generator``; a failed draw retries
with the sub-seed ``(seed, attempt)``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import manifold3d
import numpy as np
import shapely
import trimesh
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from backend.cad.canonical import canonicalize
from backend.cad.curves import arc_sweep
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
    dot,
    map_curve,
    map_profile,
    normalized,
)
from backend.cad.quantize import STEPS_PER_UNIT, QuantizationRangeError, quantize_value
from backend.cad.tessellate import TessellationError
from backend.cad.validate import ProgramError
from backend.geometry.convert import manifold_to_trimesh
from backend.geometry.solid import GeometryError, build_manifold

P2 = tuple[float, float]
GRID = 0.005  # raw design grid (the nominal part size is 1)
MIN = 0.03  # smallest wall / feature size in the raw frame (>= 0.02 = 4 steps after normalisation)
MAX_ATTEMPTS = 32
MAX_FEATURES = 10
_X_DIR = {0: (0.0, 1.0, 0.0), 1: (0.0, 0.0, 1.0), 2: (1.0, 0.0, 0.0)}  # canonical in-plane x per axis


class GenerationError(RuntimeError):
    """No valid part after MAX_ATTEMPTS draws (should not happen)."""


# --- small helpers ---------------------------------------------------------------------------------


def snap(v: float) -> float:
    return round(round(v / GRID) * GRID, 6)


def dim(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A size drawn uniformly from [lo, hi] (lo when hi < lo), on the design grid."""
    return snap(rng.uniform(lo, max(lo, hi)))


def pick(rng: np.random.Generator, options: dict) -> object:
    """A key of ``options`` drawn with probability proportional to its value."""
    u = rng.random() * sum(options.values())
    for key, w in options.items():
        u -= w
        if u < 0:
            return key
    return key


def axis_plane(axis: int, h: float) -> Plane:
    """Canonical axis plane at height h; in-plane (u, v): Z -> (X, Y), X -> (Y, Z), Y -> (Z, X)."""
    o = [0.0, 0.0, 0.0]
    o[axis] = h
    n = [0.0, 0.0, 0.0]
    n[axis] = 1.0
    return Plane(tuple(o), _X_DIR[axis], tuple(n))


def extrude(
    axis: int, h: float, profiles: list[Profile], op: Operation, kind: ExtentKind, d1: float, d2: float = 0.0
) -> Extrude:
    return Extrude(Sketch(axis_plane(axis, h), tuple(profiles)), Extent(kind, d1, d2), op)


# --- loops -----------------------------------------------------------------------------------------


def circle(cx: float, cy: float, r: float) -> Loop:
    return Loop((Circle((cx, cy), r),))


def poly_loop(pts: list[P2], radii: list[float] | None = None) -> Loop:
    """Closed polygon; vertex i gets a fillet arc of radius radii[i] (0: sharp), shrunk to fit."""
    n = len(pts)
    if not radii or not any(r > 0 for r in radii):
        return Loop(tuple(Line(pts[i], pts[(i + 1) % n]) for i in range(n)))
    edge = [math.dist(pts[i - 1], pts[i]) for i in range(n)]  # edge i-1 -> i
    a = [((pts[i][0] - pts[i - 1][0]) / edge[i], (pts[i][1] - pts[i - 1][1]) / edge[i]) for i in range(n)]
    alpha, tan_len = [], []
    for i in range(n):
        b = a[(i + 1) % n]
        cos_t = max(-1.0, min(1.0, -(a[i][0] * b[0] + a[i][1] * b[1])))
        al = math.acos(cos_t)  # angle between the two edges at vertex i
        alpha.append(al)
        tan_len.append(0.0 if radii[i] <= 0 or al > math.pi - 1e-3 else radii[i] / math.tan(al / 2))
    over = [min(1.0, edge[(i + 1) % n] / max(tan_len[i] + tan_len[(i + 1) % n], 1e-12)) for i in range(n)]
    fit = [min(over[i], over[i - 1]) for i in range(n)]
    entry, exit_, mids = [], [], []
    for i in range(n):
        p, aa, b, tl = pts[i], a[i], a[(i + 1) % n], tan_len[i] * fit[i]
        if tl <= 1e-9:
            entry.append(p)
            exit_.append(p)
            mids.append(None)
            continue
        r = radii[i] * fit[i]
        bx, by = b[0] - aa[0], b[1] - aa[1]
        bn = math.hypot(bx, by)
        bx, by = bx / bn, by / bn
        k = r / math.sin(alpha[i] / 2) - r
        entry.append((p[0] - aa[0] * tl, p[1] - aa[1] * tl))
        exit_.append((p[0] + b[0] * tl, p[1] + b[1] * tl))
        mids.append((p[0] + bx * k, p[1] + by * k))
    curves: list = []
    for i in range(n):
        if mids[i] is not None:
            curves.append(Arc(entry[i], mids[i], exit_[i]))
        j = (i + 1) % n
        if math.dist(exit_[i], entry[j]) > 1e-9:
            curves.append(Line(exit_[i], entry[j]))
    return Loop(tuple(curves))


def rect(x0: float, y0: float, x1: float, y1: float, r: float = 0.0) -> Loop:
    return poly_loop([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], [r] * 4 if r > 0 else None)


def stadium(cx: float, cy: float, length: float, width: float, along_x: bool = True) -> Loop:
    """Slot shape: two half circles joined by straight sides (a circle when length <= width)."""
    r, half = width / 2, (length - width) / 2
    if half <= 1e-9:
        return circle(cx, cy, r)
    pts = [(-half, -r), (half, -r), (half + r, 0.0), (half, r), (-half, r), (-half - r, 0.0)]
    q = [(cx + x, cy + y) if along_x else (cx - y, cy + x) for x, y in pts]
    return Loop((Line(q[0], q[1]), Arc(q[1], q[2], q[3]), Line(q[3], q[4]), Arc(q[4], q[5], q[0])))


def regular_points(cx: float, cy: float, radius: float, n: int, phase: float) -> list[P2]:
    return [
        (
            cx + radius * math.cos(phase + 2 * math.pi * k / n),
            cy + radius * math.sin(phase + 2 * math.pi * k / n),
        )
        for k in range(n)
    ]


def rough_shape(loop: Loop) -> BaseGeometry:
    """Cheap region of a loop for placement checks (chords through arc points; within ~1e-2 of it)."""
    if loop.is_circle:
        c = loop.curves[0]
        t = np.linspace(0.0, 2 * math.pi, 12, endpoint=False)
        return Polygon(
            np.column_stack([c.center[0] + c.radius * np.cos(t), c.center[1] + c.radius * np.sin(t)])
        )
    pts: list[P2] = []
    for c in loop.curves:
        pts.append(c.start)
        if isinstance(c, Arc):
            pts.append(c.mid)
    return Polygon(pts)


# --- the part being drawn --------------------------------------------------------------------------


@dataclass
class Part:
    """A prismatic base in the local frame: planform in XY, material for z in [z0, z1]."""

    rng: np.random.Generator
    feats: list[Extrude]
    z0: float
    z1: float
    region: BaseGeometry  # planform material (base holes removed)
    kind: str
    flat: dict[tuple[int, int], tuple[float, float]]  # straight side (axis, +-1) -> span along it
    used: BaseGeometry = field(default_factory=Polygon)  # footprints of features on the top face
    tall: bool = False  # something stands above z1
    _inner: dict = field(default_factory=dict)

    @property
    def t(self) -> float:
        return self.z1 - self.z0

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.region.bounds

    def room(self) -> tuple[float, P2]:
        """Radius and centre of the largest circle inside the top face (cached)."""
        if "room" not in self._inner:
            line = shapely.maximum_inscribed_circle(self.region, 0.005)
            (cx, cy), end = line.coords[0], line.coords[-1]
            self._inner["room"] = (math.dist((cx, cy), end), (snap(cx), snap(cy)))
        return self._inner["room"]

    def inner(self, margin: float) -> BaseGeometry:
        """The region shrunk by margin (cached)."""
        key = margin
        if key not in self._inner:
            self._inner[key] = self.region.buffer(-margin, 2) if margin > 0 else self.region
        return self._inner[key]

    def fits(self, shape: BaseGeometry, margin: float = MIN) -> bool:
        if not self.inner(margin).contains(shape):
            return False
        return self.used.is_empty or self.used.distance(shape) > margin

    def use(self, shape: BaseGeometry) -> None:
        self.used = shapely.union(self.used, shape)

    def remove(self, shape: BaseGeometry) -> None:
        """Take shape out of the top face's material."""
        self.region = self.region.difference(shape)
        self._inner.clear()


# --- base --------------------------------------------------------------------------------------------


def _planform(rng: np.random.Generator) -> tuple[str, Loop, dict]:
    kind = str(
        pick(
            rng,
            {
                "rect": 24,
                "rounded": 22,
                "chamfer": 5,
                "disc": 12,
                "stadium": 7,
                "polygon": 8,
                "L": 8,
                "T": 4,
                "U": 6,
                "cross": 2,
                "tri_fillet": 2,
            },
        )
    )
    w = 1.0
    d = dim(rng, 0.25, 1.0)
    x0, y0, x1, y1 = -w / 2, -d / 2, w / 2, d / 2
    full = {(0, -1): (y0, y1), (0, 1): (y0, y1), (1, -1): (x0, x1), (1, 1): (x0, x1)}
    if kind == "rect":
        return kind, rect(x0, y0, x1, y1), full
    if kind == "rounded":
        r = dim(rng, 0.02, min(0.2, d / 2 - 0.01))
        shrunk = {k: (lo + r, hi - r) for k, (lo, hi) in full.items()}
        return kind, rect(x0, y0, x1, y1, r), shrunk
    if kind == "chamfer":
        c = dim(rng, 0.02, min(0.15, d / 3))
        pts = [
            (x0 + c, y0),
            (x1 - c, y0),
            (x1, y0 + c),
            (x1, y1 - c),
            (x1 - c, y1),
            (x0 + c, y1),
            (x0, y1 - c),
            (x0, y0 + c),
        ]
        return kind, poly_loop(pts), {k: (lo + c, hi - c) for k, (lo, hi) in full.items()}
    if kind == "disc":
        return kind, circle(0.0, 0.0, 0.5), {}
    if kind == "stadium":
        return kind, stadium(0.0, 0.0, 1.0, min(d, 0.7)), {}
    if kind in ("polygon", "tri_fillet"):
        n = 3 if kind == "tri_fillet" else int(rng.choice([3, 4, 5, 6, 6, 6, 8]))
        phase = float(rng.choice([0.0, math.pi / n, math.pi / 2]))
        rf = dim(rng, 0.03, 0.15) if kind == "tri_fillet" or rng.random() < 0.25 else 0.0
        return kind, poly_loop(regular_points(0.0, 0.0, 0.5, n, phase), [rf] * n), {}
    a = dim(rng, 2 * MIN, 0.45 * w)
    b = dim(rng, 2 * MIN, 0.45 * d) if d > 4 * MIN + 0.02 else snap(d / 3)
    if kind == "L":
        pts = [(x0, y0), (x1, y0), (x1, y0 + b), (x0 + a, y0 + b), (x0 + a, y1), (x0, y1)]
    elif kind == "T":
        pts = [
            (-a / 2, y0),
            (a / 2, y0),
            (a / 2, y1 - b),
            (x1, y1 - b),
            (x1, y1),
            (x0, y1),
            (x0, y1 - b),
            (-a / 2, y1 - b),
        ]
    elif kind == "U":
        a = min(a, 0.3)
        pts = [
            (x0, y0),
            (x1, y0),
            (x1, y1),
            (x1 - a, y1),
            (x1 - a, y0 + b),
            (x0 + a, y0 + b),
            (x0 + a, y1),
            (x0, y1),
        ]
    else:  # cross
        a, b = min(a, 0.3), min(b, d / 3)
        ha, hb = a / 2, b / 2
        pts = [
            (x0, -hb),
            (-ha, -hb),
            (-ha, y0),
            (ha, y0),
            (ha, -hb),
            (x1, -hb),
            (x1, hb),
            (ha, hb),
            (ha, y1),
            (-ha, y1),
            (-ha, hb),
            (x0, hb),
        ]
    radii = None
    if rng.random() < 0.45:
        radii = [dim(rng, 0.01, 0.08)] * len(pts)
    return kind, poly_loop(pts, radii), {}


def _extent_for(rng: np.random.Generator, t: float) -> tuple[Extent, float, float]:
    """Extent of thickness t for a sketch at z = 0, and the material's (z0, z1)."""
    u = rng.random()
    if u < 0.1:
        return Extent(ExtentKind.SYMMETRIC, snap(t / 2)), -snap(t / 2), snap(t / 2)
    if u < 0.12:
        d2 = dim(rng, 0.2 * t, 0.4 * t)
        return Extent(ExtentKind.TWO_SIDES, t - d2, d2), -d2, t - d2
    if u < 0.22:
        return Extent(ExtentKind.ONE_SIDE, -t), -t, 0.0
    return Extent(ExtentKind.ONE_SIDE, t), 0.0, t


def flat_sides(loop: Loop) -> dict[tuple[int, int], tuple[float, float]]:
    """The longest straight segment of the loop on each side of its bounding box: (axis, +-1) -> span."""
    pts = [c.start for c in loop.curves if not isinstance(c, Circle)]
    if not pts:
        return {}
    lo = (min(p[0] for p in pts), min(p[1] for p in pts))
    hi = (max(p[0] for p in pts), max(p[1] for p in pts))
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for c in loop.curves:
        if not isinstance(c, Line):
            continue
        for axis in (0, 1):
            if c.start[axis] != c.end[axis]:
                continue
            for sign, at in ((-1, lo[axis]), (1, hi[axis])):
                if abs(c.start[axis] - at) < 1e-9:
                    a, b = sorted((c.start[1 - axis], c.end[1 - axis]))
                    if b - a > out.get((axis, sign), (0.0, 0.0))[1] - out.get((axis, sign), (0.0, 0.0))[0]:
                        out[(axis, sign)] = (a, b)
    return out


def make_base(rng: np.random.Generator) -> Part:
    kind, outer, _ = _planform(rng)
    flat = flat_sides(outer)
    u = rng.random()
    t = dim(rng, 0.04, 0.2) if u < 0.55 else dim(rng, 0.2, 0.6) if u < 0.85 else dim(rng, 0.6, 1.5)
    extent, z0, z1 = _extent_for(rng, t)
    part = Part(rng, [], z0, z1, rough_shape(outer), kind, flat)
    holes: list[Loop] = []
    if rng.random() < 0.25:
        holes = _place_pattern(part, _hole_shapes(rng, part.room()[0]))
        part.remove(shapely.union_all([rough_shape(h) for h in holes]))
    part.feats.append(
        extrude(2, 0.0, [Profile(outer, tuple(holes))], Operation.NEW, extent.kind, extent.d1, extent.d2)
    )
    return part


# --- hole patterns on the top face -----------------------------------------------------------------


ShapeFn = Callable[[float, float], Loop]


def _hole_shapes(rng: np.random.Generator, room: float) -> ShapeFn:
    """A function placing one hole-like loop of a random type at (x, y), sized for a face of inradius room."""
    r = dim(rng, 0.015, min(0.08, 0.6 * room - MIN))
    kind = pick(rng, {"circle": 45, "slot": 18, "rounded": 18, "rect": 12, "hex": 4})
    if kind == "circle":
        return lambda x, y: circle(x, y, r)
    if kind == "slot":
        length, along = dim(rng, 3 * r, 8 * r), bool(rng.random() < 0.5)
        return lambda x, y: stadium(x, y, length, 2 * r, along)
    if kind == "hex":
        phase = float(rng.choice([0.0, math.pi / 6]))
        return lambda x, y: poly_loop(regular_points(x, y, r * 1.15, 6, phase))
    w, h = dim(rng, 2 * r, 5 * r), dim(rng, 2 * r, 5 * r)
    rr = dim(rng, 0.01, min(w, h) / 2 - 0.005) if kind == "rounded" else 0.0
    return lambda x, y: rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, rr)


def _pattern_centres(part: Part) -> list[list[P2]]:
    """Candidate hole-centre patterns (single, row, grid, bolt circle), most likely first."""
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    choice = pick(
        rng, {"single": 40, "row": 20, "grid": 20, "circle": 20 if part.kind in ("disc", "polygon") else 4}
    )
    out: list[list[P2]] = []
    if choice == "circle":
        n, rad = int(rng.integers(3, 9)), dim(rng, 0.15, 0.38)
        out.append(regular_points(cx, cy, rad, n, float(rng.choice([0.0, math.pi / n]))))
    if choice in ("grid", "circle"):
        ax, ay = dim(rng, 0.1, (x1 - x0) / 2 - 0.04), dim(rng, 0.05, max(0.06, (y1 - y0) / 2 - 0.04))
        out.append([(cx - ax, cy - ay), (cx + ax, cy - ay), (cx + ax, cy + ay), (cx - ax, cy + ay)])
    if choice in ("row", "grid"):
        n = int(rng.integers(2, 5))
        along_x = rng.random() < 0.7
        span = dim(rng, 0.2, 0.8) * ((x1 - x0) if along_x else (y1 - y0))
        off = dim(rng, -0.3, 0.3) * ((y1 - y0) if along_x else (x1 - x0))
        ts = np.linspace(-span / 2, span / 2, n)
        out.append(
            [(snap(cx + t), snap(cy + off)) if along_x else (snap(cx + off), snap(cy + t)) for t in ts]
        )
    for _ in range(6):
        out.append([(dim(rng, x0, x1), dim(rng, y0, y1))])
    out.insert(1 if out else 0, [(snap(cx), snap(cy))])
    out.insert(2 if len(out) > 2 else 1, [part.room()[1]])
    return out


def _place_pattern(part: Part, shape: ShapeFn) -> list[Loop]:
    """Loops of the first pattern that fits on the top face (empty when none fits); marks them used."""
    for centres in _pattern_centres(part):
        loops = [shape(x, y) for x, y in centres]
        shapes = [rough_shape(lp) for lp in loops]
        if not all(part.fits(s) for s in shapes):
            continue
        union = shapely.union_all(shapes) if len(shapes) > 1 else shapes[0]
        if len(shapes) > 1 and sum(s.area for s in shapes) > union.area + 1e-9:  # overlapping members
            continue
        part.use(union)
        return loops
    return []


# --- features ----------------------------------------------------------------------------------------


def _depth(part: Part, through_p: float = 0.7) -> float:
    """Cut depth from the top face: through, or blind leaving a floor of at least MIN."""
    t = part.t
    if part.rng.random() < through_p or t < 3 * MIN:
        return t
    return dim(part.rng, max(MIN, 0.25 * t), t - MIN)


def _cut_from_top(part: Part, loops: list[Loop], depth: float) -> Extrude:
    rng, t = part.rng, part.t
    profiles = [Profile(lp) for lp in loops]
    u = rng.random()
    if depth >= t and not part.tall:
        if u < 0.1:
            return extrude(
                2,
                snap((part.z0 + part.z1) / 2),
                profiles,
                Operation.CUT,
                ExtentKind.SYMMETRIC,
                snap(t / 2) + 0.0,
            )
        if u < 0.13:
            below = dim(rng, 0.2 * t, 0.8 * t)
            return extrude(
                2, part.z0 + below, profiles, Operation.CUT, ExtentKind.TWO_SIDES, t - below, below
            )
        if u < 0.25:
            return extrude(2, part.z0, profiles, Operation.CUT, ExtentKind.ONE_SIDE, t)
    return extrude(2, part.z1, profiles, Operation.CUT, ExtentKind.ONE_SIDE, -depth)


def f_holes(part: Part) -> list[Extrude]:
    loops = _place_pattern(part, _hole_shapes(part.rng, part.room()[0]))
    return [_cut_from_top(part, loops, _depth(part, 0.8))] if loops else []


def f_counterbore(part: Part) -> list[Extrude]:
    rng = part.rng
    if part.t < 3 * MIN:
        return []
    r1 = dim(rng, 0.03, 0.09)
    r0 = max(0.015, snap(r1 * rng.uniform(0.4, 0.7)))
    loops = _place_pattern(part, lambda x, y: circle(x, y, r1))
    if not loops:
        return []
    c = dim(rng, MIN, part.t - MIN)
    centres = [lp.curves[0].center for lp in loops]
    bore = extrude(2, part.z1, [Profile(lp) for lp in loops], Operation.CUT, ExtentKind.ONE_SIDE, -c)
    if rng.random() < 0.7:
        hole = extrude(
            2,
            part.z1,
            [Profile(circle(x, y, r0)) for x, y in centres],
            Operation.CUT,
            ExtentKind.ONE_SIDE,
            -part.t,
        )
    else:
        hole = extrude(
            2,
            part.z1 - c,
            [Profile(circle(x, y, r0)) for x, y in centres],
            Operation.CUT,
            ExtentKind.ONE_SIDE,
            -(part.t - c),
        )
    return [bore, hole]


def f_pocket(part: Part) -> list[Extrude]:
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    room = part.room()[0]
    w = min(dim(rng, 0.1, 0.6) * (x1 - x0), dim(rng, 0.5, 1.6) * room)
    h = min(dim(rng, 0.1, 0.6) * (y1 - y0), dim(rng, 0.5, 1.6) * room)
    w, h = max(snap(w), 2 * MIN), max(snap(h), 2 * MIN)
    kind = pick(rng, {"rounded": 45, "rect": 25, "circle": 15, "stadium": 10, "polygon": 5})
    rr = dim(rng, 0.01, min(w, h) / 2 - 0.005) if kind == "rounded" else 0.0
    n = int(rng.choice([5, 6, 8]))

    def shape(x: float, y: float) -> Loop:
        if kind == "circle":
            return circle(x, y, min(w, h) / 2)
        if kind == "stadium":
            return stadium(x, y, max(w, h), min(w, h), w >= h)
        if kind == "polygon":
            return poly_loop(regular_points(x, y, min(w, h) / 2, n, 0.0))
        return rect(x - w / 2, y - h / 2, x + w / 2, y + h / 2, rr)

    loops = _place_pattern(part, shape)
    return [_cut_from_top(part, loops, _depth(part, 0.3))] if loops else []


def f_slot(part: Part) -> list[Extrude]:
    rng = part.rng
    width = dim(rng, 0.03, 0.12)
    length = dim(rng, 2 * width, 0.5)
    along = bool(rng.random() < 0.6)
    loops = _place_pattern(part, lambda x, y: stadium(x, y, length, width, along))
    return [_cut_from_top(part, loops, _depth(part, 0.75))] if loops else []


def f_boss(part: Part) -> list[Extrude]:
    rng = part.rng
    r = dim(rng, 0.03, min(0.25, 0.8 * part.room()[0] - MIN))
    kind = pick(rng, {"circle": 40, "rounded": 25, "hex": 8, "ring": 10, "stadium": 17})
    hole_r = max(0.015, snap(r * rng.uniform(0.3, 0.65)))
    rr = dim(rng, 0.01, r - 0.005)

    def shape(x: float, y: float) -> Loop:
        if kind in ("circle", "ring"):
            return circle(x, y, r)
        if kind == "hex":
            return poly_loop(regular_points(x, y, r, 6, 0.0))
        if kind == "stadium":
            return stadium(x, y, 3 * r, 2 * r, True)
        return rect(x - r, y - r, x + r, y + r, rr)

    loops = _place_pattern(part, shape)
    if not loops:
        return []
    h = dim(rng, 0.04, 0.5)
    profiles = [Profile(lp) for lp in loops]
    centres = [_centre(lp) for lp in loops]
    if kind == "ring":
        profiles = [Profile(lp, (circle(x, y, hole_r),)) for lp, (x, y) in zip(loops, centres)]
    out = [extrude(2, part.z1, profiles, Operation.JOIN, ExtentKind.ONE_SIDE, h)]
    if kind != "ring" and rng.random() < 0.45:
        depth = h + part.t if rng.random() < 0.6 else dim(rng, MIN, h + part.t - MIN)
        out.append(
            extrude(
                2,
                part.z1 + h,
                [Profile(circle(x, y, hole_r)) for x, y in centres],
                Operation.CUT,
                ExtentKind.ONE_SIDE,
                -depth,
            )
        )
    part.tall = True
    return out


def _centre(loop: Loop) -> P2:
    c = rough_shape(loop).centroid
    return (snap(c.x), snap(c.y))


def f_rib(part: Part) -> list[Extrude]:
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    w = dim(rng, MIN, 0.07)
    along_x = bool(rng.random() < 0.5)
    length = dim(rng, 0.3, 0.9) * ((x1 - x0) if along_x else (y1 - y0))
    if length < 3 * MIN:
        return []
    n = int(rng.choice([1, 1, 2, 3]))
    gap = dim(rng, 3 * w, 0.3)

    def one(x: float, y: float) -> Polygon:
        if along_x:
            return shapely.box(x - length / 2, y - w / 2, x + length / 2, y + w / 2)
        return shapely.box(x - w / 2, y - length / 2, x + w / 2, y + length / 2)

    for _ in range(6):
        x, y = dim(rng, x0, x1), dim(rng, y0, y1)
        if _ == 0:
            x, y = snap((x0 + x1) / 2), snap((y0 + y1) / 2)
        offs = [(k - (n - 1) / 2) * gap for k in range(n)]
        centres = [(x, snap(y + o)) if along_x else (snap(x + o), y) for o in offs]
        shapes = [one(cx, cy) for cx, cy in centres]
        if all(part.fits(s, 0.0) for s in shapes) and not any(part.used.intersects(s) for s in shapes):
            part.use(shapely.union_all(shapes))
            h = dim(rng, 0.04, 0.35)
            part.tall = True
            if n == 1 and rng.random() < 0.5:  # drawn on its mid plane, extruded to both sides
                a0, b0, a1, b1 = shapes[0].bounds
                if along_x:  # plane Y = y: (u, v) = (Z, X)
                    loop, axis, mid = rect(part.z1, a0, part.z1 + h, a1), 1, y
                else:  # plane X = x: (u, v) = (Y, Z)
                    loop, axis, mid = rect(b0, part.z1, b1, part.z1 + h), 0, x
                return [
                    extrude(axis, mid, [Profile(loop)], Operation.JOIN, ExtentKind.SYMMETRIC, snap(w / 2))
                ]
            loops = [rect(*s.bounds) for s in shapes]
            return [
                extrude(2, part.z1, [Profile(lp) for lp in loops], Operation.JOIN, ExtentKind.ONE_SIDE, h)
            ]
    return []


def _side(part: Part) -> tuple[tuple[int, int], tuple[float, float]] | None:
    sides = [(k, v) for k, v in part.flat.items() if v[1] - v[0] > 4 * MIN]
    if not sides:
        return None
    return sides[int(part.rng.integers(len(sides)))]


def _side_coord(part: Part, side: tuple[int, int]) -> float:
    x0, y0, x1, y1 = part.bounds
    return {(0, -1): x0, (0, 1): x1, (1, -1): y0, (1, 1): y1}[side]


def _footprint(axis: int, c: float, inward: float, lo: float, hi: float) -> Polygon:
    """Rectangle against the side line (axis coordinate c), reaching ``inward`` (signed) from it."""
    a, b = sorted((c, c + inward))
    return shapely.box(a, lo, b, hi) if axis == 0 else shapely.box(lo, a, hi, b)


def f_wall(part: Part) -> list[Extrude]:
    """An upright wall along a straight side (an L bracket), maybe with holes through it."""
    rng = part.rng
    found = _side(part)
    if found is None:
        return []
    (axis, sign), (lo, hi) = found
    c = _side_coord(part, (axis, sign))
    w = dim(rng, MIN, 0.15)
    foot = _footprint(axis, c, -sign * w, lo, hi)
    if part.used.intersects(foot.buffer(MIN / 2)) or not part.region.buffer(1e-6).contains(foot):
        return []
    part.use(foot)
    h = dim(rng, 0.15, 0.8)
    a0, b0, a1, b1 = foot.bounds
    out = [extrude(2, part.z1, [Profile(rect(a0, b0, a1, b1))], Operation.JOIN, ExtentKind.ONE_SIDE, h)]
    part.tall = True
    r = dim(rng, 0.015, 0.07)
    if rng.random() < 0.5 and h > 2 * r + 2 * MIN and hi - lo > 2 * r + 2 * MIN:
        n = int(rng.integers(1, 4))
        zc = snap(part.z1 + h / 2)
        span = (hi - lo) - 2 * r - 2 * MIN
        along = (
            [snap((lo + hi) / 2 + k) for k in np.linspace(-span / 2, span / 2, n)]
            if n > 1
            else [snap((lo + hi) / 2)]
        )
        if n > 1 and span / (n - 1) < 2 * r + MIN:
            along = [snap((lo + hi) / 2)]
        # side plane: axis 0 -> (u, v) = (Y, Z); axis 1 -> (u, v) = (Z, X)
        loops = [circle(s, zc, r) if axis == 0 else circle(zc, s, r) for s in along]
        out.append(
            extrude(axis, c, [Profile(lp) for lp in loops], Operation.CUT, ExtentKind.ONE_SIDE, -sign * w)
        )
    return out


def f_tab(part: Part) -> list[Extrude]:
    """A lug sticking out of a straight side, sketched on the side plane, often with a hole."""
    rng = part.rng
    found = _side(part)
    if found is None:
        return []
    (axis, sign), (lo, hi) = found
    c = _side_coord(part, (axis, sign))
    width = dim(rng, 2 * MIN, min(0.5, hi - lo))
    s0 = dim(rng, lo, hi - width)
    length = dim(rng, 0.08, 0.4)
    thick = part.t if rng.random() < 0.5 else dim(rng, MIN, part.t) if part.t > 2 * MIN else part.t
    z0 = part.z0 if rng.random() < 0.7 else part.z1 - thick
    # on the side plane: axis 0 -> (u, v) = (Y, Z); axis 1 -> (u, v) = (Z, X)
    loop = rect(s0, z0, s0 + width, z0 + thick) if axis == 0 else rect(z0, s0, z0 + thick, s0 + width)
    out = [extrude(axis, c, [Profile(loop)], Operation.JOIN, ExtentKind.ONE_SIDE, sign * length)]
    r = snap(min(width, length) * rng.uniform(0.15, 0.35))
    if rng.random() < 0.6 and r >= 0.015 and min(width, length) - 2 * r >= 2 * MIN:
        hc = (snap(c + sign * length / 2), snap(s0 + width / 2))
        xy = hc if axis == 0 else (hc[1], hc[0])
        out.append(
            extrude(
                2, z0 + thick, [Profile(circle(xy[0], xy[1], r))], Operation.CUT, ExtentKind.ONE_SIDE, -thick
            )
        )
    part.flat.pop((axis, sign), None)
    return out


def f_side_hole(part: Part) -> list[Extrude]:
    """A hole through the part from a side face, at mid thickness."""
    rng = part.rng
    r_max = min(0.08, part.t / 2 - MIN)
    if r_max < 0.015:
        return []
    r = dim(rng, 0.015, r_max)
    x0, y0, x1, y1 = part.bounds
    axis = int(rng.integers(2))
    lo, hi = (y0, y1) if axis == 0 else (x0, x1)
    if hi - lo < 2 * r + 2 * MIN:
        return []
    s = snap((lo + hi) / 2) if rng.random() < 0.5 else dim(rng, lo + r + MIN, hi - r - MIN)
    zc = (
        snap((part.z0 + part.z1) / 2)
        if rng.random() < 0.7
        else dim(rng, part.z0 + r + MIN, part.z1 - r - MIN)
    )
    loop = circle(s, zc, r) if axis == 0 else circle(zc, s, r)
    a, b = (x0, x1) if axis == 0 else (y0, y1)
    u = rng.random()
    if u < 0.25:
        return [
            extrude(
                axis,
                snap((a + b) / 2),
                [Profile(loop)],
                Operation.CUT,
                ExtentKind.SYMMETRIC,
                snap((b - a) / 2 + MIN),
            )
        ]
    if u < 0.6:
        return [extrude(axis, b, [Profile(loop)], Operation.CUT, ExtentKind.ONE_SIDE, -(b - a))]
    depth = dim(rng, 0.1, 0.5) * (b - a)
    return [extrude(axis, a, [Profile(loop)], Operation.CUT, ExtentKind.ONE_SIDE, depth)]


def f_edge(part: Part) -> list[Extrude]:
    """Round or chamfer a long edge of a rectangular-ish base with a cut along it."""
    rng = part.rng
    if part.kind not in ("rect", "rounded", "chamfer", "L", "T", "U"):
        return []
    x0, y0, x1, y1 = part.bounds
    axis = int(rng.integers(2))  # 0: edge along Y at x = x0/x1 (profile in XZ); 1: edge along X
    sign = int(rng.choice([-1, 1]))
    top = rng.random() < 0.75
    r = dim(rng, 0.02, max(0.021, min(part.t - MIN, 0.2)))
    if r > part.t - MIN + 1e-9 or (axis, sign) not in part.flat:
        return []
    c = (x1 if sign > 0 else x0) if axis == 0 else (y1 if sign > 0 else y0)
    strip = _footprint(axis, c, -sign * (r + MIN), y0 if axis == 0 else x0, y1 if axis == 0 else x1)
    if top and part.used.intersects(strip):
        return []
    zc = part.z1 if top else part.z0
    inward, down = -sign * r, (-r if top else r)
    corner = (c, zc)
    p_in, p_dn = (c + inward, zc), (c, zc + down)
    if rng.random() < 0.7:
        k = 1 - 1 / math.sqrt(2)
        mid = (c + inward * k, zc + down * k)
        curves = (Line(p_in, corner), Line(corner, p_dn), Arc(p_dn, mid, p_in))
    else:
        curves = (Line(p_in, corner), Line(corner, p_dn), Line(p_dn, p_in))
    # the profile lies on the perpendicular plane: edge along Y -> plane Y (u, v) = (Z, X);
    # edge along X -> plane X (u, v) = (Y, Z). Points above are (side coordinate, z).
    if axis == 0:
        curves = tuple(map_curve(cv, lambda p: (p[1], p[0])) for cv in curves)
        plane_axis, a, b = 1, y0, y1
    else:
        plane_axis, a, b = 0, x0, x1
    return [extrude(plane_axis, b, [Profile(Loop(curves))], Operation.CUT, ExtentKind.ONE_SIDE, -(b - a))]


def f_notch(part: Part) -> list[Extrude]:
    """A rectangular notch (or a step when blind) cut into a straight side from the top."""
    rng = part.rng
    found = _side(part)
    if found is None:
        return []
    (axis, sign), (lo, hi) = found
    c = _side_coord(part, (axis, sign))
    width = dim(rng, 2 * MIN, max(2 * MIN, min(0.4, hi - lo - 2 * MIN)))
    s0 = dim(rng, lo, hi - width) if rng.random() < 0.7 else lo
    deep = dim(rng, MIN, 0.25)
    foot = _footprint(axis, c, -sign * deep, s0, s0 + width)
    if part.used.intersects(foot.buffer(MIN)) or not part.region.buffer(1e-6).contains(foot):
        return []
    part.use(foot)
    return [_cut_from_top(part, [rect(*foot.bounds)], _depth(part, 0.6))]


def f_stack(part: Part) -> list[Extrude]:
    """A smaller plate stacked on the top face."""
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    w, h = dim(rng, 0.3, 0.8) * (x1 - x0), dim(rng, 0.3, 0.8) * (y1 - y0)
    kind = pick(rng, {"rect": 3, "rounded": 4, "circle": 3})
    rr = dim(rng, 0.01, min(w, h) / 3) if kind == "rounded" else 0.0
    for cx, cy in ((snap((x0 + x1) / 2), snap((y0 + y1) / 2)), part.room()[1]):
        for shrink in (1.0, 0.7, 0.45):
            a, b = snap(w * shrink / 2), snap(h * shrink / 2)
            if min(a, b) < MIN:
                break
            if kind == "circle":
                loop = circle(cx, cy, min(a, b))
            else:
                loop = rect(cx - a, cy - b, cx + a, cy + b, min(rr, min(a, b) - 0.005))
            shape = rough_shape(loop)
            if part.fits(shape, 0.0):
                part.use(shape)
                part.tall = True
                return [
                    extrude(
                        2, part.z1, [Profile(loop)], Operation.JOIN, ExtentKind.ONE_SIDE, dim(rng, 0.04, 0.3)
                    )
                ]
    return []


def f_intersect(part: Part) -> list[Extrude]:
    """Intersect with a rounded silhouette seen from a side (or a disc seen from above)."""
    rng = part.rng
    x0, y0, x1, y1 = part.bounds
    if part.tall:
        return []
    if rng.random() < 0.4:
        rad = snap(math.hypot(x1 - x0, y1 - y0) / 2 * rng.uniform(0.75, 0.95))
        return [
            extrude(
                2,
                part.z0,
                [Profile(circle(snap((x0 + x1) / 2), snap((y0 + y1) / 2), rad))],
                Operation.INTERSECT,
                ExtentKind.ONE_SIDE,
                part.t,
            )
        ]
    r = dim(rng, MIN, max(MIN, min(part.t, (x1 - x0) / 2) - 0.005))
    top = part.z1
    loop = poly_loop([(part.z0, x0), (part.z0, x1), (top, x1), (top, x0)], [0.0, 0.0, r, r])
    return [
        extrude(
            1,
            snap((y0 + y1) / 2),
            [Profile(loop)],
            Operation.INTERSECT,
            ExtentKind.SYMMETRIC,
            snap((y1 - y0) / 2),
        )
    ]


FEATURES: dict[Callable[[Part], list[Extrude]], float] = {
    f_holes: 13,
    f_counterbore: 4,
    f_pocket: 8,
    f_slot: 5,
    f_boss: 26,
    f_rib: 13,
    f_wall: 12,
    f_tab: 11,
    f_side_hole: 6,
    f_edge: 5,
    f_notch: 5,
    f_stack: 13,
    f_intersect: 0.6,
}


def n_features(rng: np.random.Generator) -> int:
    """Target feature count: 1 with p 0.52, else 1 + geometric (mean ~2.1, 90th percentile ~4)."""
    if rng.random() < 0.52:
        return 1
    return int(min(MAX_FEATURES, 1 + rng.geometric(0.45)))


def draw_local(rng: np.random.Generator) -> Program:
    """A raw part in its local frame (nominal size 1, not normalised, not canonical)."""
    part = make_base(rng)
    target = n_features(rng)
    for _ in range(4 * target):
        if len(part.feats) >= target:
            break
        fn = pick(rng, FEATURES)
        new = fn(part)
        if new and len(part.feats) + len(new) <= MAX_FEATURES:
            part.feats.extend(new)
    return Program(tuple(part.feats))


# --- rotation, normalisation -------------------------------------------------------------------------


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A signed permutation matrix with determinant +1; local Z goes to world Z half the time."""
    up = int(pick(rng, {2: 50, 0: 25, 1: 25}))
    others = [a for a in range(3) if a != up]
    if rng.random() < 0.5:
        others.reverse()
    m = np.zeros((3, 3))
    for local, world in zip((0, 1, 2), (*others, up)):
        m[world, local] = rng.choice([-1.0, 1.0])
    if np.linalg.det(m) < 0:
        m[:, 0] *= -1
    return m


def rotate(program: Program, m: np.ndarray) -> Program:
    def rot(v: tuple[float, float, float]) -> tuple[float, float, float]:
        return tuple(float(x) + 0.0 for x in m @ np.asarray(v))

    feats = []
    for f in program.features:
        pl = f.sketch.plane
        feats.append(
            replace(f, sketch=replace(f.sketch, plane=Plane(rot(pl.origin), rot(pl.x_dir), rot(pl.normal))))
        )
    return Program(tuple(feats))


def raw_program(rng: np.random.Generator) -> Program:
    """A raw (un-normalised, un-canonicalised) randomly rotated part."""
    return rotate(draw_local(rng), random_rotation(rng))


def _loop_bounds(loop: Loop) -> tuple[float, float, float, float]:
    xs, ys = [], []
    for c in loop.curves:
        if isinstance(c, Circle):
            xs += [c.center[0] - c.radius, c.center[0] + c.radius]
            ys += [c.center[1] - c.radius, c.center[1] + c.radius]
            continue
        xs += [c.start[0], c.end[0]]
        ys += [c.start[1], c.end[1]]
        if isinstance(c, Arc):
            centre, r, a0, sweep = arc_sweep(c)
            for k in range(4):
                rel = (
                    (k * math.pi / 2 - a0) % (2 * math.pi)
                    if sweep > 0
                    else (a0 - k * math.pi / 2) % (2 * math.pi)
                )
                if rel <= abs(sweep):
                    xs.append(centre[0] + r * math.cos(k * math.pi / 2))
                    ys.append(centre[1] + r * math.sin(k * math.pi / 2))
    return min(xs), min(ys), max(xs), max(ys)


def analytic_bounds(program: Program) -> np.ndarray | None:
    """(min xyz, max xyz) of the union of the new/join bodies; None when an intersect may shrink it."""
    if any(f.operation is Operation.INTERSECT for f in program.features):
        return None
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for f in program.features:
        if f.operation is Operation.CUT:
            continue
        pl = f.sketch.plane
        basis = np.array([pl.x_dir, pl.y_dir, pl.normal], dtype=float)  # rows: u, v, w directions
        w0, w1 = f.extent.interval()
        for p in f.sketch.profiles:
            u0, v0, u1, v1 = _loop_bounds(p.outer)
            box = np.array([[u0, v0, w0], [u1, v1, w1]])
            corners = np.array(
                [[box[i, 0], box[j, 1], box[k, 2]] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
            )
            world = corners @ basis + np.asarray(pl.origin)
            lo, hi = np.minimum(lo, world.min(0)), np.maximum(hi, world.max(0))
    return np.concatenate([lo, hi])


def _snap_extent(f: Extrude) -> Extrude:
    """Extent distances as differences of quantised face heights (faces shared by features stay shared)."""
    pl, e, q = f.sketch.plane, f.extent, quantize_value
    h = dot(pl.origin, normalized(pl.normal))
    qh = q(h)
    d1 = q(h + e.d1) - qh
    d2 = qh - q(h - e.d2) if e.kind is ExtentKind.TWO_SIDES else 0.0
    return replace(f, extent=Extent(e.kind, d1, d2))


def to_normalised_frame(raw: Program, bounds: np.ndarray | None = None) -> Program:
    """The raw program moved to the normalised frame (bounding box centred to within half a quantisation
    step, largest extent 1), not canonical.

    ``bounds`` (min xyz, max xyz) defaults to the built solid's bounding box. Extent distances become
    differences of quantised face heights, so faces shared by features stay shared after quantisation.
    """
    b = np.asarray(build_manifold(raw).bounding_box() if bounds is None else bounds)
    lo, hi = b[:3], b[3:]
    s = 1.0 / float(np.max(hi - lo))
    t = tuple(quantize_value(float(v)) for v in -(lo + hi) / 2 * s)  # on the grid: on-grid designs stay on it
    return Program(tuple(_snap_extent(f) for f in raw.transformed(s, t).features))


def normalise(raw: Program, bounds: np.ndarray | None = None) -> Program:
    """Canonical program of the raw one in the normalised frame (see ``to_normalised_frame``)."""
    return canonicalize(to_normalised_frame(raw, bounds))


def _normalised(bounds: np.ndarray) -> bool:
    ext = bounds[1] - bounds[0]
    return abs(float(ext.max()) - 1.0) < 0.01 and float(np.abs(bounds[1] + bounds[0]).max()) < 0.02


def _steps(v: float) -> float:
    return float(round(v * STEPS_PER_UNIT))


def in_steps(program: Program) -> Program:
    """The quantised program scaled by STEPS_PER_UNIT: every number an exact integer."""
    feats = []
    for f in program.features:
        pl = f.sketch.plane
        profiles = tuple(
            map_profile(p, lambda q: (_steps(q[0]), _steps(q[1])), _steps) for p in f.sketch.profiles
        )
        plane = Plane(tuple(map(_steps, pl.origin)), pl.x_dir, pl.normal)
        extent = Extent(f.extent.kind, _steps(f.extent.d1), _steps(f.extent.d2))
        feats.append(Extrude(Sketch(plane, profiles), extent, f.operation))
    return Program(tuple(feats))


def exact_mesh(program: Program) -> tuple[trimesh.Trimesh, manifold3d.Manifold]:
    """Mesh and solid of a normalised program (the builder keeps coinciding faces exact)."""
    solid = build_manifold(program)
    return manifold_to_trimesh(solid), solid


def _attempt(rng: np.random.Generator) -> tuple[Program, trimesh.Trimesh]:
    raw = raw_program(rng)
    bounds = analytic_bounds(raw)
    program = normalise(raw, bounds)
    mesh, solid = exact_mesh(program)
    if bounds is not None and not _normalised(mesh.bounds):  # a cut removed an extreme face: measure it
        program = normalise(raw)
        mesh, solid = exact_mesh(program)
    if solid.volume() < 1e-4:
        raise GeometryError("degenerate solid")
    if len(solid.decompose()) > 1:  # a cut split the part
        raise GeometryError("several bodies")
    return program, mesh


def generate(seed: int) -> tuple[Program, trimesh.Trimesh]:
    """A valid canonical program in the normalised frame and its watertight mesh, deterministic per seed."""
    for attempt in range(MAX_ATTEMPTS):
        rng = np.random.default_rng([seed, attempt] if attempt else seed)
        try:
            return _attempt(rng)
        except (GeometryError, ProgramError, QuantizationRangeError, TessellationError, ValueError):
            continue
    raise GenerationError(f"seed {seed}: no valid part in {MAX_ATTEMPTS} attempts")


def generate_program(seed: int) -> Program:
    return generate(seed)[0]
