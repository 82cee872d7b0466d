"""Noisy 2D rings -> clean loops of lines, arcs and circles.

``fit.py`` reads exact sections (every point on the curve, turning angles meaningful); a scan's or a
point cloud's section is noisy, so here each run is fitted by least squares instead: a ring is resampled
evenly, split greedily (from its sharpest corner) into the longest runs that fit a line or a circle with
most residuals within the tolerance, runs too short to be a feature are dropped, neighbouring runs on one
line or circle are merged, and each corner is placed where the neighbouring fitted curves meet (so
corners are sharp although the samples round them). A ring on one circle becomes a ``Circle``. A loop
that does not tessellate to a simple polygon falls back to the ring simplified to straight lines.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from backend.cad.program import Circle, Loop, Profile, map_loop
from backend.sections.corners import Run, build_loop, intersections, is_simple, point, polyline_loop, unit
from backend.sections.fit import MIN_AREA, polygons_of

MAX_POINTS = 300  # ring samples at most (the spacing grows for long rings)
SPACING_PER_TOL = 1.0  # ring sample spacing, in tolerances
INLIER_SHARE = 0.9  # share of a run's residuals that must be within the tolerance
OUTLIER_FACTOR = 2.0  # and all of them within this many tolerances
MAX_RADIUS = 5.0  # flatter runs are lines
MIN_ARC_POINTS = 6
MIN_SWEEP = 0.2  # radians: flatter arcs are lines
MIN_RUN = 4.0  # runs shorter than this many tolerances are corners, not features
MERGE_SLACK = 1.5  # neighbouring runs of one kind merge at this many tolerances
PREFILTER = 1.2  # runs whose RMS residual exceeds this many tolerances fail without a closer look
CORNER_SCALE = 3  # samples either side when measuring the turn at a sample
NOISE_TOLERANCE = 3.0  # tolerance in noise sigmas measured on the ring itself (at least the given one)


def fit_noisy_section(geom, tol: float, corner: float = 0.0) -> list[Profile]:
    """A shapely (Multi)Polygon of a noisy section -> profiles (outer loop, holes). Arcs of radius up to
    ``corner`` between two lines are read as the corner the sampling rounded."""
    out = []
    for poly in polygons_of(geom):
        if poly.area < MIN_AREA:
            continue
        outer = fit_noisy_ring(np.asarray(poly.exterior.coords), tol, corner)
        holes = tuple(
            fit_noisy_ring(np.asarray(r.coords), tol, corner)
            for r in poly.interiors
            if Polygon(r).area >= MIN_AREA
        )
        out.append(Profile(outer, holes))
    return out


def fit_noisy_ring(points: np.ndarray, tol: float, corner: float = 0.0) -> Loop:
    """A closed noisy ring of 2D points (closing duplicate optional) -> one loop, or a circle."""
    ring = np.asarray(points, dtype=np.float64)[:, :2]
    if len(ring) > 1 and np.allclose(ring[0], ring[-1]):
        ring = ring[:-1]
    origin = ring.mean(axis=0)  # fit about the centroid: small, well-conditioned sums
    loop = _fit_centred(ring - origin, tol, corner)
    return map_loop(loop, lambda q: (float(q[0] + origin[0]), float(q[1] + origin[1])))


def _fit_centred(ring: np.ndarray, tol: float, corner: float) -> Loop:
    perimeter = float(np.sum(np.linalg.norm(np.roll(ring, -1, axis=0) - ring, axis=1)))
    p = _resample(ring, max(SPACING_PER_TOL * tol, perimeter / MAX_POINTS))
    tol = max(tol, NOISE_TOLERANCE * ring_noise(p))
    if len(p) < 3:
        raise ValueError("a ring needs at least 3 distinct points")
    circle = _circle_of(p, tol)
    if circle is not None:
        return Loop((circle,))
    start = _sharpest(p)
    c = np.vstack([np.roll(p, -start, axis=0), p[start : start + 1]])  # closed: c[n] == c[0]
    runs = _merge(_drop_short(_greedy(c, tol), c, tol, corner), c, tol, corner)
    loop = build_loop(runs, c, max(10.0 * tol, 2.0 * corner)) if len(runs) >= 2 else None
    if loop is not None and is_simple(loop):
        return loop
    return polyline_loop(ring, tol)


# --- fitting ----------------------------------------------------------------------------------------


def _ok(residuals: np.ndarray, tol: float) -> bool:
    r = np.abs(residuals)
    return bool(np.max(r) <= OUTLIER_FACTOR * tol and np.count_nonzero(r <= tol) >= INLIER_SHARE * len(r))


class _Sums:
    """Prefix sums of a point sequence: least-squares lines and circles of any run in O(1) (plus the
    residual check)."""

    def __init__(self, c: np.ndarray, tol: float) -> None:
        self.c, self.tol = c, tol
        x, y = c[:, 0], c[:, 1]
        z = x * x + y * y
        cols = [np.ones_like(x), x, y, x * x, x * y, y * y, x * z, y * z, z, z * z]
        self.s = np.vstack([np.zeros(len(cols)), np.cumsum(np.column_stack(cols), axis=0)])

    def line(self, i: int, j: int) -> Run | None:
        n, sx, sy, sxx, sxy, syy = (self.s[j + 1] - self.s[i])[:6]
        mx, my = sx / n, sy / n
        cxx, cxy, cyy = sxx / n - mx * mx, sxy / n - mx * my, syy / n - my * my
        smallest = 0.5 * (cxx + cyy) - math.sqrt(0.25 * (cxx - cyy) ** 2 + cxy * cxy)  # mean squared residual
        if smallest > (PREFILTER * self.tol) ** 2:  # too far off on average: no need to look at the samples
            return None
        angle = 0.5 * math.atan2(2.0 * cxy, cxx - cyy)
        d = np.array([math.cos(angle), math.sin(angle)])
        m = np.array([mx, my])
        q = self.c[i : j + 1] - m
        if not _ok(q @ np.array([-d[1], d[0]]), self.tol):
            return None
        along = q @ d
        if np.any(np.diff(along) * np.sign(along[-1] - along[0]) < -2.0 * self.tol):
            return None
        return Run(i, j, "line", m, d)

    def arc(self, i: int, j: int) -> Run | None:
        if j - i + 1 < MIN_ARC_POINTS:
            return None
        n, sx, sy, sxx, sxy, syy, sxz, syz, sz, szz = self.s[j + 1] - self.s[i]
        a = np.array([[2 * sxx, 2 * sxy, sx], [2 * sxy, 2 * syy, sy], [2 * sx, 2 * sy, n]])
        try:
            u, v, w = np.linalg.solve(a, np.array([sxz, syz, sz]))
        except np.linalg.LinAlgError:
            return None
        center = np.array([u, v])
        r2 = w + u * u + v * v
        if not 0 < r2 <= MAX_RADIUS**2:
            return None
        r = math.sqrt(r2)
        # algebraic residuals z - 2ux - 2vy - w ~ 2 r (distance - r): their mean square from the sums
        sq = (
            szz
            + 4 * u * u * sxx
            + 4 * v * v * syy
            + w * w * n
            - 4 * u * sxz
            - 4 * v * syz
            - 2 * w * sz
            + 8 * u * v * sxy
            + 4 * u * w * sx
            + 4 * v * w * sy
        )
        if sq > n * (2.0 * r * PREFILTER * self.tol) ** 2:
            return None
        q = self.c[i : j + 1]
        if not _ok(np.linalg.norm(q - center, axis=1) - r, self.tol):
            return None
        if not MIN_SWEEP <= abs(_sweep(q, center)) < 2.0 * math.pi - MIN_SWEEP:
            return None
        return Run(i, j, "arc", center, np.zeros(2), r)


def _sweep(q: np.ndarray, center: np.ndarray) -> float:
    """Signed angle swept about ``center`` from the first to the last point."""
    v = q - center
    a, b = v[:-1], v[1:]
    return float(np.sum(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.einsum("nd,nd->n", a, b))))


def _longest(fits, i: int, last: int, first: int) -> int:
    """Largest j in [i + first, last] with fits(i, j) (doubling, then bisection), else i."""
    if i + first > last or fits(i, i + first) is None:
        return i
    good, step = i + first, 1
    while good + step <= last and fits(i, good + step) is not None:
        good += step
        step *= 2
    bad = min(good + step, last + 1)
    while bad - good > 1:
        mid = (good + bad) // 2
        if fits(i, mid) is not None:
            good = mid
        else:
            bad = mid
    return good


def _greedy(c: np.ndarray, tol: float) -> list[Run]:
    """Longest line or arc runs from the start on, each ending at a breakpoint of the ring's
    Douglas-Peucker simplification (corners and chords of arcs: few candidates, each a natural end)."""
    f = _Sums(c, tol)
    stops = _breakpoints(c, tol)  # sample indices, 0 ... n
    runs: list[Run] = []
    a = 0
    while a < len(stops) - 1:
        i = stops[a]
        bl = max(_longest(lambda x, y: f.line(stops[x], stops[y]), a, len(stops) - 1, 1), a + 1)
        # only an arc longer than the line matters: start looking for one past the line's end
        first = max(int(np.searchsorted(stops, i + MIN_ARC_POINTS - 1)) - a, bl + 1 - a)
        ba = _longest(lambda x, y: f.arc(stops[x], stops[y]), a, len(stops) - 1, first)
        run = f.arc(i, stops[ba]) if ba > bl else None
        if run is None:
            j = stops[bl]
            run = f.line(i, j) or Run(i, j, "line", c[i], unit(c[j] - c[i]))
            a = bl
        else:
            a = ba
        runs.append(run)
    return runs


def _breakpoints(c: np.ndarray, tol: float) -> np.ndarray:
    """Indices of the samples the Douglas-Peucker simplification (at half the tolerance) keeps."""
    kept = np.asarray(shapely.simplify(LineString(c), 0.5 * tol, preserve_topology=False).coords)
    index = {(float(x), float(y)): k for k, (x, y) in enumerate(c[:-1])}
    stops = sorted({index.get((float(x), float(y)), -1) for x, y in kept[:-1]} - {-1} | {0})
    return np.array([*stops, len(c) - 1], dtype=np.int64)


def _drop_short(runs: list[Run], c: np.ndarray, tol: float, corner: float) -> list[Run]:
    """Runs shorter than ``MIN_RUN`` tolerances, then runs between two lines that those lines explain (a
    corner the sampling rounded: samples more than ``2 corner`` from where the lines meet lie on one of
    them), give their samples to no one: the neighbours are extended to meet."""
    keep = [r for r in runs if _chord(r, c) >= MIN_RUN * tol]
    if len(keep) < 2:
        return runs
    k = 0
    while k < len(keep) and len(keep) > 3:
        a, r, b = keep[k - 1], keep[k], keep[(k + 1) % len(keep)]
        lines = a.kind == b.kind == "line" and min(_chord(a, c), _chord(b, c)) >= 2.0 * corner
        if lines and _rounded(r, a, b, c, tol, corner):
            del keep[k]
        else:
            k += 1
    return keep


def _rounded(run: Run, a: Run, b: Run, c: np.ndarray, tol: float, corner: float) -> bool:
    meet = intersections(a, b)
    if not meet:
        return False
    q = c[np.arange(run.i, run.j + 1) % (len(c) - 1)]
    far = np.linalg.norm(q - meet[0], axis=1) > 2.0 * corner
    if not far.any():
        return True
    q = q[far]
    da = np.abs((q - a.center) @ np.array([-a.axis[1], a.axis[0]]))
    db = np.abs((q - b.center) @ np.array([-b.axis[1], b.axis[0]]))
    return _ok(np.minimum(da, db), tol)


def _chord(run: Run, c: np.ndarray) -> float:
    n = len(c) - 1
    return float(np.linalg.norm(c[run.j % n] - c[run.i % n]))


def _refit(c: np.ndarray, i: int, j: int, kind: str, tol: float) -> Run | None:
    q = c[np.arange(i, j + 1) % (len(c) - 1)]
    f = _Sums(q, tol)
    return f.line(0, len(q) - 1) if kind == "line" else f.arc(0, len(q) - 1)


def _merge(runs: list[Run], c: np.ndarray, tol: float, corner: float) -> list[Run]:
    """Neighbouring runs of one kind that fit together become one (the last and the first included);
    so do two lines on one line with a short bump between them (``2 corner`` long at most)."""
    n = len(c) - 1
    changed = True
    while changed and len(runs) > 2:
        changed = False
        for k in range(len(runs)):
            a, b = runs[k], runs[(k + 1) % len(runs)]
            merged = None
            if a.kind == b.kind:
                j = b.j if b.j > a.i else b.j + n
                fit = _refit(c, a.i, j, a.kind, MERGE_SLACK * tol)
                if fit is not None:
                    merged, drop = Run(a.i, j, a.kind, fit.center, fit.axis, fit.radius), 2
            if merged is None and len(runs) > 3 and a.kind == "line" and _chord(b, c) < 4.0 * corner:
                d = runs[(k + 2) % len(runs)]
                if d.kind == "line":
                    merged, drop = _bridge(a, b, d, c, tol, 0.5 * corner), 3
            if merged is None:
                continue
            runs = [merged] + [runs[(k + m) % len(runs)] for m in range(drop, len(runs))]
            changed = True
            break
    return runs


def _bridge(a: Run, b: Run, d: Run, c: np.ndarray, tol: float, bump: float) -> Run | None:
    """One line through the samples of lines a and d, if it fits them and the samples of b between them
    are within ``bump`` of it (a bump below the sampling's resolution)."""
    n = len(c) - 1
    ia = np.arange(a.i, a.j + 1) % n
    j = d.j if d.j > a.i else d.j + n
    i = d.i if d.i >= a.j else d.i + n
    q = np.vstack([c[ia], c[np.arange(i, j + 1) % n]])
    fit = _Sums(q, MERGE_SLACK * tol).line(0, len(q) - 1)
    if fit is None:
        return None
    mid = c[np.arange(b.i, b.j + (n if b.j < b.i else 0) + 1) % n] - fit.center
    if np.max(np.abs(mid @ np.array([-fit.axis[1], fit.axis[0]]))) > bump:
        return None
    return Run(a.i, j, "line", fit.center, fit.axis)


# --- rings ------------------------------------------------------------------------------------------


def ring_noise(p: np.ndarray, half: int = 3) -> float:
    """Noise sigma of a closed ring: the median distance of a sample from the line fitted to its
    ``2 half + 1`` neighbours (robust to the few windows across corners), read as a Gaussian's."""
    if len(p) < 2 * half + 3:
        return 0.0
    w = np.stack([np.roll(p, -k, axis=0) for k in range(-half, half + 1)], axis=1)  # (n, 2h+1, 2)
    q = w - w.mean(axis=1, keepdims=True)
    cov = np.einsum("nki,nkj->nij", q, q)
    values, vectors = np.linalg.eigh(cov)
    normal = vectors[:, :, 0]
    residual = np.abs(np.einsum("nd,nd->n", q[:, half], normal))
    return float(np.median(residual)) * 1.4826 * math.sqrt((2 * half + 1) / (2 * half - 1))


def _resample(ring: np.ndarray, step: float) -> np.ndarray:
    closed = np.vstack([ring, ring[:1]])
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(closed, axis=0), axis=1))])
    n = max(int(round(s[-1] / step)), 3)
    t = np.linspace(0.0, s[-1], n, endpoint=False)
    return np.column_stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])])


def _circle_of(p: np.ndarray, tol: float) -> Circle | None:
    if len(p) < 2 * MIN_ARC_POINTS:
        return None
    a = np.column_stack([2.0 * p, np.ones(len(p))])
    sol, *_ = np.linalg.lstsq(a, (p * p).sum(axis=1), rcond=None)
    center = sol[:2]
    r = math.sqrt(max(float(sol[2] + center @ center), 0.0))
    if not (0 < r <= MAX_RADIUS) or not _ok(np.linalg.norm(p - center, axis=1) - r, tol):
        return None
    if abs(_sweep(np.vstack([p, p[:1]]), center)) < 6.0:
        return None
    return Circle(point(center), r)


def _sharpest(p: np.ndarray) -> int:
    k = CORNER_SCALE
    a = p - np.roll(p, k, axis=0)
    b = np.roll(p, -k, axis=0) - p
    turn = np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], (a * b).sum(axis=1)))
    return int(np.argmax(turn))
