"""The CAD program: the one schema every part of the product shares.

A program is an ordered list of extrude features. Each feature extrudes the
closed profiles of one sketch along the sketch plane's normal and combines the
result with the solid built so far (new | join | cut | intersect).

Plain frozen dataclasses: no torch, no bpy, safe to import anywhere (the
Blender add-on reads the same JSON through its own copy of nothing: it only
needs the JSON layout documented in ``serialize.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Union

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]


class Operation(StrEnum):
    NEW = "new"
    JOIN = "join"
    CUT = "cut"
    INTERSECT = "intersect"


class ExtentKind(StrEnum):
    ONE_SIDE = "one_side"  # from the plane to d1 along the normal (d1 may be negative)
    SYMMETRIC = "symmetric"  # d1 on each side of the plane: [-d1, +d1]
    TWO_SIDES = "two_sides"  # d1 along the normal, d2 against it: [-d2, +d1]


@dataclass(frozen=True)
class Line:
    start: Vec2
    end: Vec2


@dataclass(frozen=True)
class Arc:
    """Circular arc through three points (start, a point on the arc, end)."""

    start: Vec2
    mid: Vec2
    end: Vec2


@dataclass(frozen=True)
class Circle:
    center: Vec2
    radius: float


Curve = Union[Line, Arc, Circle]


@dataclass(frozen=True)
class Loop:
    """A closed chain of lines and arcs, or exactly one circle."""

    curves: tuple[Curve, ...]

    @property
    def is_circle(self) -> bool:
        return len(self.curves) == 1 and isinstance(self.curves[0], Circle)


@dataclass(frozen=True)
class Profile:
    """One outer loop and zero or more holes inside it."""

    outer: Loop
    holes: tuple[Loop, ...] = ()

    @property
    def loops(self) -> tuple[Loop, ...]:
        return (self.outer, *self.holes)


@dataclass(frozen=True)
class Plane:
    """Sketch plane: origin and a right-handed frame (x_dir, y_dir = normal × x_dir, normal)."""

    origin: Vec3
    x_dir: Vec3
    normal: Vec3

    @property
    def y_dir(self) -> Vec3:
        return cross(self.normal, self.x_dir)

    def to_world(self, u: float, v: float, w: float = 0.0) -> Vec3:
        """Point with plane coordinates (u, v) and height w along the normal, in world space."""
        o, x, y, n = self.origin, self.x_dir, self.y_dir, self.normal
        return (
            o[0] + u * x[0] + v * y[0] + w * n[0],
            o[1] + u * x[1] + v * y[1] + w * n[1],
            o[2] + u * x[2] + v * y[2] + w * n[2],
        )


@dataclass(frozen=True)
class Extent:
    kind: ExtentKind
    d1: float
    d2: float = 0.0

    def interval(self) -> tuple[float, float]:
        """(low, high) heights along the sketch normal that the extrusion spans."""
        if self.kind is ExtentKind.ONE_SIDE:
            return (min(0.0, self.d1), max(0.0, self.d1))
        if self.kind is ExtentKind.SYMMETRIC:
            return (-abs(self.d1), abs(self.d1))
        return (-self.d2, self.d1)


@dataclass(frozen=True)
class Sketch:
    plane: Plane
    profiles: tuple[Profile, ...]


@dataclass(frozen=True)
class Extrude:
    sketch: Sketch
    extent: Extent
    operation: Operation = Operation.NEW


@dataclass(frozen=True)
class Program:
    features: tuple[Extrude, ...] = field(default_factory=tuple)

    def transformed(self, scale: float, translation: Vec3) -> Program:
        """The same shape under p -> scale * p + translation (scale > 0)."""
        return Program(tuple(_transform_feature(f, scale, translation) for f in self.features))

    @property
    def curve_count(self) -> int:
        return sum(len(loop.curves) for f in self.features for p in f.sketch.profiles for loop in p.loops)


# --- small vector helpers (used across the package; defined once here) -------------------------


def cross(a: Vec3, b: Vec3) -> Vec3:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def normalized(a: Vec3) -> Vec3:
    n = math.sqrt(dot(a, a))
    if n == 0.0 or not math.isfinite(n):
        raise ValueError(f"cannot normalise vector {a}")
    return (a[0] / n, a[1] / n, a[2] / n)


# --- structural operations on curves, loops and profiles (measured geometry: ``curves.py``) -------

PointFn = Callable[[Vec2], Vec2]
RadiusFn = Callable[[float], float]


def map_curve(curve: Curve, point: PointFn, radius: RadiusFn | None = None) -> Curve:
    """The curve with ``point`` applied to each of its 2D points (a circle's centre) and ``radius`` to a
    circle's radius (kept when None)."""
    if isinstance(curve, Line):
        return Line(point(curve.start), point(curve.end))
    if isinstance(curve, Arc):
        return Arc(point(curve.start), point(curve.mid), point(curve.end))
    return Circle(point(curve.center), curve.radius if radius is None else radius(curve.radius))


def map_loop(loop: Loop, point: PointFn, radius: RadiusFn | None = None) -> Loop:
    """``map_curve`` on every curve of the loop."""
    return Loop(tuple(map_curve(c, point, radius) for c in loop.curves))


def map_profile(profile: Profile, point: PointFn, radius: RadiusFn | None = None) -> Profile:
    """``map_curve`` on every curve of the profile's outer loop and holes."""
    return Profile(
        map_loop(profile.outer, point, radius), tuple(map_loop(h, point, radius) for h in profile.holes)
    )


def reverse_curve(curve: Curve) -> Curve:
    """The curve walked from its end to its start (a circle has no direction: returned as is)."""
    if isinstance(curve, Line):
        return Line(curve.end, curve.start)
    if isinstance(curve, Arc):
        return Arc(curve.end, curve.mid, curve.start)
    return curve


def reverse_loop(loop: Loop) -> Loop:
    """The loop walked the other way round (curves in reverse order, each reversed)."""
    return Loop(tuple(reverse_curve(c) for c in reversed(loop.curves)))


def _transform_feature(f: Extrude, s: float, t: Vec3) -> Extrude:
    if not s > 0:
        raise ValueError(f"scale must be positive, got {s}")
    pl = f.sketch.plane
    origin = (pl.origin[0] * s + t[0], pl.origin[1] * s + t[1], pl.origin[2] * s + t[2])
    profiles = tuple(
        map_profile(p, lambda q: (q[0] * s, q[1] * s), lambda r: r * s) for p in f.sketch.profiles
    )
    extent = Extent(f.extent.kind, f.extent.d1 * s, f.extent.d2 * s)
    return Extrude(Sketch(Plane(origin, pl.x_dir, pl.normal), profiles), extent, f.operation)
