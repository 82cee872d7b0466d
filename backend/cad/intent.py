"""Design intent: the same solid written as a person would model it.

``holes_as_cuts`` takes the holes out of the sketches of stacked extrusions (new/join) and makes them
``cut`` features: a hole that runs through several slabs becomes one cut through all of them; over the
same span, round holes of one diameter (a pattern) share one cut, and so do outlines that are not
circles (pockets and slots drawn in one sketch). Slabs left with the same outline and
touching merge into one extrusion (any consecutive union features on one axis with the same outline).
The cuts come last, so with exactly matching loops the rewrite is the original solid minus whatever
else lay in the holes' prisms; loops are matched within ``MATCH_TOLERANCE`` (fitting noise), so the
caller checks that the rewrite builds the same solid (``verify.candidates.same_solid``).

``notches_as_cuts`` does the same for the notches of their outlines (``cad.notches``): the edge drawn
straight, the notch cut out of it, through the slabs that share it.

``spans_as_one`` draws one sketch extruded on one axis in several pieces as one extrusion: adding
features whose spans touch, overlap, or leave between them only what the others already fill (a boss
above and below a plate).

``covered_profiles_dropped`` drops the adding profiles whose prisms already lie in the other adding
features' (merged slabs leave a thin slab's copy of their outline inside them).

``cuts_as_drawn`` draws the consecutive cuts of one plane and one span (or through all of the part) in
one sketch, whatever their loops (``cut_groups``: what the verifier's rule counts as one operation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from shapely.errors import GEOSException
from shapely.geometry import Polygon
from shapely.ops import unary_union

from backend.cad.canonical import canonicalize
from backend.cad.curves import loop_bounds, oriented
from backend.cad.notches import split_notches
from backend.cad.program import (
    Circle,
    Extent,
    ExtentKind,
    Extrude,
    Loop,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
    Vec3,
    dot,
    normalized,
)
from backend.cad.tessellate import tessellate_loop

MATCH_TOLERANCE = 2e-3  # normalised units: loops and heights this close are the same (fitting noise)
_UNION = (Operation.NEW, Operation.JOIN)
# A sketch of more different islands than this stays one feature (lettering, a plate of many parts: what
# a person draws in one sketch; measured on the Fusion 360 parts' extrude counts)
MAX_ISLAND_FEATURES = 3


@dataclass
class _Track:
    """A hole's prism: ``loop`` (sketch frame of ``axis``'s canonical plane) from ``lo`` to ``hi``."""

    axis: int
    plane: Plane
    loop: Loop
    lo: float
    hi: float


def _signed_axis(f: Extrude) -> tuple[int, float] | None:
    """(axis, ±1) when the feature's plane normal is an axis either way, else None."""
    n = f.sketch.plane.normal
    for a in range(3):
        if abs(n[a]) == 1.0 and all(n[b] == 0.0 for b in range(3) if b != a):
            return a, n[a]
    return None


def _axis(f: Extrude) -> int | None:
    """The axis of a feature whose plane normal is that axis, pointing up (the canonical form's)."""
    signed = _signed_axis(f)
    return signed[0] if signed is not None and signed[1] > 0 else None


def _span(f: Extrude, axis: int) -> tuple[float, float]:
    lo, hi = f.extent.interval()
    h = f.sketch.plane.origin[axis]
    return h + lo, h + hi


def _points(loop: Loop) -> list[tuple[float, ...]]:
    out = []
    for c in loop.curves:
        if isinstance(c, Circle):
            out.append((c.center[0], c.center[1], c.radius))
        else:
            out.append((*c.start, *getattr(c, "mid", ()), *c.end))
    return out


def same_loop(a: Loop, b: Loop, tol: float = MATCH_TOLERANCE) -> bool:
    """The same closed curve within ``tol``: same curve kinds, points within ``tol``, any start."""
    pa, pb = _points(a), _points(b)
    if len(pa) != len(pb) or sorted(type(c).__name__ for c in a.curves) != sorted(
        type(c).__name__ for c in b.curves
    ):
        return False
    n = len(pa)
    for shift in range(n):
        if all(
            len(pa[i]) == len(pb[(i + shift) % n])
            and max(abs(x - y) for x, y in zip(pa[i], pb[(i + shift) % n])) <= tol
            for i in range(n)
        ):
            return True
    return False


def _same_kind(a: Loop, b: Loop, tol: float = MATCH_TOLERANCE) -> bool:
    """One cut's worth: round holes of one diameter (a hole pattern), or any outlines that are not
    circles (pockets and slots drawn in one sketch)."""
    if a.is_circle or b.is_circle:
        return a.is_circle and b.is_circle and abs(a.curves[0].radius - b.curves[0].radius) <= tol
    return True


def _holds_island(hole: Loop, profiles: tuple[Profile, ...]) -> bool:
    """Another profile of the sketch lies inside ``hole`` (cutting the hole would remove it)."""
    h = loop_bounds(hole)
    for p in profiles:
        b = loop_bounds(p.outer)
        if h[0] <= b[0] and h[1] <= b[1] and b[2] <= h[2] and b[3] <= h[3]:
            return True
    return False


def _strip(f: Extrude, axis: int) -> tuple[Extrude, list[_Track]]:
    """The feature without its (island-free) holes, and those holes' prisms."""
    lo, hi = _span(f, axis)
    profiles, tracks = [], []
    for p in f.sketch.profiles:
        kept = []
        for h in p.holes:
            if _holds_island(h, f.sketch.profiles):  # (an island filling the hole exactly counts too)
                kept.append(h)
            else:
                tracks.append(_Track(axis, f.sketch.plane, h, lo, hi))
        profiles.append(Profile(p.outer, tuple(kept)))
    return Extrude(Sketch(f.sketch.plane, tuple(profiles)), f.extent, f.operation), tracks


def _same_outlines(a: Extrude, b: Extrude) -> bool:
    pa, pb = a.sketch.profiles, b.sketch.profiles
    return len(pa) == len(pb) and all(
        not x.holes and not y.holes and same_loop(x.outer, y.outer) for x, y in zip(pa, pb)
    )


def _merge_slabs(features: list[Extrude]) -> list[Extrude]:
    """Consecutive union features on one axis with the same outline, touching, as one extrusion."""
    out: list[Extrude] = []
    for f in features:
        prev = out[-1] if out else None
        axis = _axis(f)
        if (
            prev is not None
            and axis is not None
            and _axis(prev) == axis
            and f.operation in _UNION
            and prev.operation in _UNION
            and _same_outlines(prev, f)
        ):
            (plo, phi), (lo, hi) = _span(prev, axis), _span(f, axis)
            if abs(phi - lo) <= MATCH_TOLERANCE or abs(hi - plo) <= MATCH_TOLERANCE:
                out[-1] = _extrusion(
                    prev.sketch.profiles, prev.sketch.plane, axis, min(plo, lo), max(phi, hi), prev.operation
                )
                continue
        out.append(f)
    return out


def _same_sketches(a: Extrude, b: Extrude) -> bool:
    """The same profiles (outer loops and holes) in the same order, within ``MATCH_TOLERANCE``."""
    pa, pb = a.sketch.profiles, b.sketch.profiles
    return len(pa) == len(pb) and all(
        len(x.holes) == len(y.holes)
        and same_loop(x.outer, y.outer)
        and all(same_loop(h, k) for h, k in zip(x.holes, y.holes))
        for x, y in zip(pa, pb)
    )


def _filled(shape, lo: float, hi: float, others: list[tuple[float, float, object]]) -> bool:
    """The prism of ``shape`` from ``lo`` to ``hi`` lies inside the prisms ``others`` ((lo, hi, shape) on
    the same axis): every stretch between their ends is covered by the union of those spanning it."""
    cuts = sorted({lo, hi, *(e for o in others for e in o[:2] if lo < e < hi)})
    try:
        inner = shape.buffer(-MATCH_TOLERANCE)
        for a, b in zip(cuts, cuts[1:]):
            if b - a <= MATCH_TOLERANCE:
                continue
            over = [s for s0, s1, s in others if s0 <= a + MATCH_TOLERANCE and s1 >= b - MATCH_TOLERANCE]
            if not over or not inner.within(unary_union(over).buffer(MATCH_TOLERANCE)):
                return False
    except GEOSException:  # a profile shapely cannot union (e.g. overlapping holes): not known to be filled
        return False
    return True


def spans_as_one(program: Program) -> Program | None:
    """``program`` with the union features of one axis that draw the same sketch as one extrusion from the
    lowest end to the highest, where what lies between their spans is already material of the others
    (a boss through a plate drawn once, not above and below it; touching slabs anywhere in the list).
    Unions commute, so only features before the first cut or intersect take part; the merged one takes
    the first one's place. One pass: a piece that joins the first one lies between it and any piece it
    brings within reach, so it fills their gap and that piece merges too. In the continuous canonical
    form; None when nothing merged. Loops match within ``MATCH_TOLERANCE``, so the caller checks the
    solid (``verify.candidates.same_solid``)."""
    canonical = canonicalize(program, quantize=False)
    features = list(canonical.features)
    head = next((k for k, f in enumerate(features) if f.operation not in _UNION), len(features))
    axes = [_axis(f) for f in features[:head]]
    shapes: dict[int, object] = {}  # regions, tessellated only for the features a gap test needs

    def shape(k: int):
        if k not in shapes:
            shapes[k] = _shape(list(features[k].sketch.profiles))
        return shapes[k]

    merged: set[int] = set()
    for i in range(head):
        if i in merged or axes[i] is None:
            continue
        partners = [j for j in range(i + 1, head) if j not in merged and axes[j] == axes[i]]
        partners = [j for j in partners if _same_sketches(features[i], features[j])]
        if not partners or shape(i) is None:
            continue
        lo, hi = _span(features[i], axes[i])
        for j in partners:
            jlo, jhi = _span(features[j], axes[i])
            gap = (hi, jlo) if jlo >= hi else (jhi, lo) if lo >= jhi else None
            if gap is not None and gap[1] - gap[0] > MATCH_TOLERANCE:
                others = [
                    (*_span(features[k], axes[i]), shape(k))
                    for k in range(head)
                    if k not in merged and k not in (i, j) and axes[k] == axes[i]
                ]
                if not _filled(shape(i), *gap, [o for o in others if o[2] is not None]):
                    continue
            lo, hi = min(lo, jlo), max(hi, jhi)
            f = features[i]
            features[i] = _extrusion(f.sketch.profiles, f.sketch.plane, axes[i], lo, hi, f.operation)
            merged.add(j)
    if not merged:
        return None
    return canonicalize(Program(tuple(f for k, f in enumerate(features) if k not in merged)), quantize=False)


def covered_profiles_dropped(program: Program) -> Program | None:
    """``program`` without the profiles that add nothing: an adding profile whose prism already lies in
    the other adding features' (a plate's outline drawn again in a thin slab within the plate's span,
    next to the islands that slab does add). Unions commute, so only features before the first cut or
    intersect take part; profiles are dropped one at a time against what is left (two copies of one
    prism keep one); a feature left without profiles goes, and the first left is the new one. Each
    profile's region is drawn once and weighed only against those of its axis whose boxes and spans meet
    its own (a sketch of many islands stays cheap). In the continuous canonical form; None when nothing
    was dropped. Regions and heights are compared within ``MATCH_TOLERANCE`` (a step that low is fitting
    noise), so the caller checks the solid (``verify.candidates.same_solid``)."""
    canonical = canonicalize(program, quantize=False)
    features = list(canonical.features)
    head = next((k for k, f in enumerate(features) if f.operation not in _UNION), len(features))
    axes = [_axis(f) for f in features[:head]]
    spans = [_span(f, a) if a is not None else None for f, a in zip(features[:head], axes)]
    regions = {
        (k, j): _shape([profile])
        for k in range(head)
        if axes[k] is not None
        for j, profile in enumerate(features[k].sketch.profiles)
    }
    regions = {key: r for key, r in regions.items() if r is not None and not r.is_empty}
    kept = set(regions)
    boxes = {key: r.bounds for key, r in regions.items()}
    dropped = False

    def meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
        return (
            a[0] <= b[2] + MATCH_TOLERANCE
            and b[0] <= a[2] + MATCH_TOLERANCE
            and (a[1] <= b[3] + MATCH_TOLERANCE and b[1] <= a[3] + MATCH_TOLERANCE)
        )

    for key in sorted(regions):
        i = key[0]
        (lo, hi), box = spans[i], boxes[key]
        others = [
            (*spans[k], regions[other])
            for other in kept
            if other != key
            and axes[k := other[0]] == axes[i]
            and spans[k][0] < hi
            and spans[k][1] > lo
            and meet(box, boxes[other])
        ]
        if others and _filled(regions[key], lo, hi, others):
            kept.discard(key)
            dropped = True
    if not dropped:
        return None
    out = []
    for k, f in enumerate(features):
        if k < head and axes[k] is not None:
            profiles = tuple(
                p for j, p in enumerate(f.sketch.profiles) if (k, j) in kept or (k, j) not in regions
            )
            if not profiles:
                continue
            f = replace(f, sketch=replace(f.sketch, profiles=profiles))
        out.append(f)
    if out[0].operation is not Operation.NEW:
        out[0] = replace(out[0], operation=Operation.NEW)
    return canonicalize(Program(tuple(out)), quantize=False)


def _extrusion(profiles, plane: Plane, axis: int, lo: float, hi: float, operation: Operation) -> Extrude:
    origin = tuple(lo if k == axis else 0.0 for k in range(3))
    return Extrude(
        Sketch(Plane(origin, plane.x_dir, plane.normal), tuple(profiles)),
        Extent(ExtentKind.ONE_SIDE, hi - lo),
        operation,
    )


def _joined_tracks(tracks: list[_Track]) -> list[_Track]:
    """Prisms of the same hole in touching slabs, as one prism."""
    out: list[_Track] = []
    for t in sorted(tracks, key=lambda t: (t.axis, t.lo)):
        for o in out:
            if o.axis == t.axis and abs(o.hi - t.lo) <= MATCH_TOLERANCE and same_loop(o.loop, t.loop):
                o.hi = t.hi
                break
        else:
            out.append(_Track(t.axis, t.plane, t.loop, t.lo, t.hi))
    return out


def _cuts(tracks: list[_Track]) -> list[Extrude]:
    """One cut per span and kind (``_same_kind``): a pattern of holes shares one sketch."""
    groups: list[list[_Track]] = []
    for t in tracks:
        for g in groups:
            r = g[0]
            if (
                r.axis == t.axis
                and abs(r.lo - t.lo) <= MATCH_TOLERANCE
                and abs(r.hi - t.hi) <= MATCH_TOLERANCE
                and _same_kind(r.loop, t.loop)
            ):
                g.append(t)
                break
        else:
            groups.append([t])
    return [
        _extrusion(
            tuple(Profile(oriented(t.loop, ccw=True)) for t in g),
            g[0].plane,
            g[0].axis,
            g[0].lo,
            g[0].hi,
            Operation.CUT,
        )
        for g in groups
    ]


def _cut_out(
    program: Program, strip: Callable[[Extrude, int], tuple[Extrude, list[_Track]]]
) -> Program | None:
    """``program`` with what ``strip`` takes out of its axis-plane union features as cut features (a
    prism through touching slabs one cut, one cut per span and kind) and the slabs left with one outline
    merged, in the continuous canonical form; None when ``strip`` took nothing."""
    canonical = canonicalize(program, quantize=False)
    features: list[Extrude] = []
    tracks: list[_Track] = []
    for f in canonical.features:
        axis = _axis(f)
        if axis is None or f.operation not in _UNION:
            features.append(f)
            continue
        stripped, found = strip(f, axis)
        features.append(stripped)
        tracks += found
    if not tracks:
        return None
    rewritten = _merge_slabs(features) + _cuts(_joined_tracks(tracks))
    return canonicalize(Program(tuple(rewritten)), quantize=False)


def _strip_notches(f: Extrude, axis: int) -> tuple[Extrude, list[_Track]]:
    """The feature with its outlines' notches straightened (``cad.notches``), and those notches' prisms."""
    lo, hi = _span(f, axis)
    profiles, tracks = [], []
    for p in f.sketch.profiles:
        outer, notches = split_notches(p.outer)
        profiles.append(Profile(outer, p.holes))
        tracks += [_Track(axis, f.sketch.plane, n, lo, hi) for n in notches]
    return Extrude(Sketch(f.sketch.plane, tuple(profiles)), f.extent, f.operation), tracks


def holes_as_cuts(program: Program) -> Program | None:
    """``program`` with the holes of its axis-plane union features as cut features (module docstring),
    in the continuous canonical form; None when it has no such hole."""
    return _cut_out(program, _strip)


def notches_as_cuts(program: Program) -> Program | None:
    """``program`` with the notches of its axis-plane union features' outlines as cut features (module
    docstring), in the continuous canonical form; None when no outline has one."""
    return _cut_out(program, _strip_notches)


def _congruent(a: Profile, b: Profile, tol: float = MATCH_TOLERANCE) -> bool:
    """Copies of one shape (a pattern drawn in one sketch), told cheaply: hole-free outlines of the same
    curve kinds and the same extent, e.g. round bosses of one diameter (a rectangle and a trapezoid of
    one size count as copies: they stay in one sketch, which changes the grouping, never the solid)."""
    if a.holes or b.holes:
        return False
    if a.outer.is_circle or b.outer.is_circle:
        return _same_kind(a.outer, b.outer, tol)  # both circles, one radius
    kinds = sorted(type(c).__name__ for c in a.outer.curves)
    if kinds != sorted(type(c).__name__ for c in b.outer.curves):
        return False
    ba, bb = loop_bounds(a.outer), loop_bounds(b.outer)
    return abs((ba[2] - ba[0]) - (bb[2] - bb[0])) <= tol and abs((ba[3] - ba[1]) - (bb[3] - bb[1])) <= tol


def islands_as_features(program: Program) -> Program | None:
    """``program`` with each sketch's separate islands (profiles) as features of their own, copies of one
    shape kept together (a pattern shares one sketch): two different bosses are two joins, as a person
    would draw them. Same depth and operation: the solid is the union of the profiles' prisms either way
    (new and join both add), so it is the same. Cut and intersect features stay whole (the holes cut
    through one depth are one sketch: ``cuts_as_drawn``), and so do sketches of more than
    ``MAX_ISLAND_FEATURES`` different islands; islands that touch are one region (``_regions``). None
    when no sketch was split."""
    out: list[Extrude] = []
    split = False
    for f in program.features:
        if f.operation not in _UNION or len(f.sketch.profiles) < 2:
            out.append(f)
            continue
        groups: list[list[Profile]] = []
        for p in f.sketch.profiles:
            for g in groups:
                if _congruent(g[0], p):
                    g.append(p)
                    break
            else:
                groups.append([p])
        if 2 <= len(groups) <= MAX_ISLAND_FEATURES:
            groups = _regions(groups)
        if not 2 <= len(groups) <= MAX_ISLAND_FEATURES:
            out.append(f)
            continue
        split = True
        for k, g in enumerate(groups):
            op = Operation.JOIN if (k > 0 and f.operation is Operation.NEW) else f.operation
            out.append(Extrude(Sketch(f.sketch.plane, tuple(g)), f.extent, op))
    return Program(tuple(out)) if split else None


def _regions(groups: list[list[Profile]], tol: float = MATCH_TOLERANCE) -> list[list[Profile]]:
    """The groups, those whose islands meet (within ``tol``, directly or through others) merged: islands
    that touch are one region drawn as two profiles (a person draws one outline, one feature), not two
    bosses. An island in another profile's hole does not touch it. Whatever the profiles' order."""
    shapes = [_shape(g) for g in groups]
    parent = list(range(len(groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(len(groups)):
        for j in range(i + 1, len(groups)):
            if shapes[i] is not None and shapes[j] is not None and shapes[i].distance(shapes[j]) <= tol:
                parent[root(j)] = root(i)
    merged: dict[int, list[Profile]] = {}
    for i, g in enumerate(groups):
        merged.setdefault(root(i), []).extend(g)
    return list(merged.values())


def _shape(profiles: list[Profile]):
    """The region of the profiles (outer loops less their holes), or None when one is too degenerate to
    measure (it is then not known to touch anything)."""
    try:
        polygons = [
            Polygon(tessellate_loop(p.outer), [tessellate_loop(h) for h in p.holes]) for p in profiles
        ]
        return polygons[0] if len(polygons) == 1 else unary_union(polygons)
    except (GEOSException, ValueError):
        return None


def _axis_line(f: Extrude) -> tuple[int, tuple[float, float]] | None:
    """(axis, span along it) of a feature sketched on a plane whose normal is an axis either way, or None."""
    signed = _signed_axis(f)
    if signed is None:
        return None
    a, sign = signed
    ends = sorted(f.sketch.plane.origin[a] + t * sign for t in f.extent.interval())
    return a, (ends[0], ends[1])


def _cut_runs(features: tuple[Extrude, ...]) -> list[list[int]]:
    """Indices of consecutive axis-plane cut features (cuts commute with each other, not with unions)."""
    runs: list[list[int]] = []
    for k, f in enumerate(features):
        if f.operation is Operation.CUT and _axis_line(f) is not None:
            if runs and runs[-1][-1] == k - 1:
                runs[-1].append(k)
            else:
                runs.append([k])
    return runs


def union_box(program: Program) -> tuple[Vec3, Vec3] | None:
    """Corners (low, high) of the box around the program's new and join features (each sketch's profile
    bounds swept over its extent): the solid never leaves it. None without such features."""
    points: list[Vec3] = []
    for f in program.features:
        if f.operation not in _UNION or not f.sketch.profiles:
            continue
        b = [loop_bounds(p.outer) for p in f.sketch.profiles]
        u0, v0 = min(x[0] for x in b), min(x[1] for x in b)
        u1, v1 = max(x[2] for x in b), max(x[3] for x in b)
        for w in f.extent.interval():
            points += [f.sketch.plane.to_world(u, v, w) for u in (u0, u1) for v in (v0, v1)]
    if not points:
        return None
    low = tuple(min(p[a] for p in points) for a in range(3))
    return low, tuple(max(p[a] for p in points) for a in range(3))


def cuts_through(feature: Extrude, box: tuple[Vec3, Vec3] | None) -> bool:
    """A cut on an axis plane (normal either way) spanning the whole ``box`` (``union_box``) along its
    axis: through all."""
    line = _axis_line(feature)
    if feature.operation is not Operation.CUT or line is None or box is None:
        return False
    axis, (lo, hi) = line
    return lo <= box[0][axis] + MATCH_TOLERANCE and hi >= box[1][axis] - MATCH_TOLERANCE


LINE_DIGITS = 3  # decimals of a unit normal that make two sketch planes' normals one line


def _cut_line(feature: Extrude, box: tuple[Vec3, Vec3] | None) -> tuple[tuple[float, ...], tuple | str]:
    """(the line of the cut's plane normal, the span it removes along it or "through")."""
    n = normalized(feature.sketch.plane.normal)
    rounded = [round(v, LINE_DIGITS) + 0.0 for v in n]
    sign = 1.0 if next(v for v in rounded if v != 0.0) > 0 else -1.0  # a unit vector has one >= 0.577
    line = tuple(sign * v + 0.0 for v in rounded)
    if cuts_through(feature, box):
        return line, "through"
    lo, hi = feature.extent.interval()
    height = dot(feature.sketch.plane.origin, n)
    return line, tuple(sorted(sign * (height + t) for t in (lo, hi)))


def cut_groups(features: list[Extrude], box: tuple[Vec3, Vec3] | None = None) -> list[list[int]]:
    """Indices of the cut ``features`` grouped as a person draws them: cuts whose planes' normals lie on
    one line and that remove one span (ends within ``MATCH_TOLERANCE`` of the group's first), or that all
    go through ``box`` (``union_box``, from either face), are one operation, drawn in one sketch whatever
    their loops (``cuts_as_drawn``, ``verify.rank.operations``)."""
    groups: list[tuple[tuple, tuple | str, list[int]]] = []
    for k, f in enumerate(features):
        if f.operation is not Operation.CUT:
            continue
        line, span = _cut_line(f, box)
        for g_line, g_span, members in groups:
            if g_line != line:
                continue
            if span == g_span == "through" or (
                "through" not in (span, g_span)
                and abs(span[0] - g_span[0]) <= MATCH_TOLERANCE
                and abs(span[1] - g_span[1]) <= MATCH_TOLERANCE
            ):
                members.append(k)
                break
        else:
            groups.append((line, span, [k]))
    return [members for _, _, members in groups]


def cuts_as_drawn(program: Program) -> Program | None:
    """``program`` (continuous canonical form) with its cuts as a person draws them: each group of
    consecutive axis-plane cuts of ``cut_groups`` — one plane line and one span, or through all — one cut
    of all their loops, whatever their sizes, over the first one's span (through all: exactly the union
    features' box along the axis; no material lies beyond it). Cuts commute and overlapping loops of one
    sketch are united, so with equal spans the solid is the same; spans match within ``MATCH_TOLERANCE``,
    so the caller checks (``verify.candidates.same_solid``). None when no two cuts share a group."""
    canonical = canonicalize(program, quantize=False)
    box = union_box(canonical)
    features = list(canonical.features)
    merged: set[int] = set()
    for run in _cut_runs(canonical.features):
        for members in cut_groups([features[k] for k in run], box):
            if len(members) < 2:
                continue
            indices = [run[m] for m in members]
            first = features[indices[0]]
            axis, (lo, hi) = _axis_line(first)
            if cuts_through(first, box):
                lo, hi = box[0][axis], box[1][axis]
            profiles = tuple(p for k in indices for p in features[k].sketch.profiles)
            features[indices[0]] = _extrusion(profiles, first.sketch.plane, axis, lo, hi, Operation.CUT)
            merged.update(indices[1:])
    if not merged:
        return None
    kept = Program(tuple(f for k, f in enumerate(features) if k not in merged))
    return canonicalize(kept, quantize=False)
