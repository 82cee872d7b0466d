"""The part being drawn: its top face's material and what features have used of it, hole patterns
placed on that face, and cuts from it. Shared by the base and every feature."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from backend.cad.program import ExtentKind, Extrude, Loop, Operation, Profile
from backend.data.generator.grid import MIN, P2, dim, extrude, pick, snap
from backend.data.generator.loops import circle, poly_loop, rect, regular_points, rough_shape, stadium


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


FeatureFn = Callable[[Part], list[Extrude]]  # draws one kind of feature on the part; [] when it does not fit


# --- hole patterns on the top face -----------------------------------------------------------------


ShapeFn = Callable[[float, float], Loop]  # one loop of a hole-like shape placed at (x, y)


def hole_shapes(rng: np.random.Generator, room: float) -> ShapeFn:
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


def place_pattern(part: Part, shape: ShapeFn) -> list[Loop]:
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


# --- cuts from the top face -----------------------------------------------------------------------


def cut_depth(part: Part, through_p: float = 0.7) -> float:
    """Cut depth from the top face: through, or blind leaving a floor of at least MIN."""
    t = part.t
    if part.rng.random() < through_p or t < 3 * MIN:
        return t
    return dim(part.rng, max(MIN, 0.25 * t), t - MIN)


def cut_from_top(part: Part, loops: list[Loop], depth: float) -> Extrude:
    """One cut of the loops from the top face, ``depth`` deep (through cuts are sometimes written
    symmetric, two-sided or from the bottom)."""
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
