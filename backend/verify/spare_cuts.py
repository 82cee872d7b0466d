"""Cut profiles that remove nothing, dropped: a notch cut from the side and again from above is cut once.

The section candidates cut what each axis shows, so a pocket or notch seen along two axes can be cut
twice (a rim notch as a rectangle from the side and as a D from above), and a derived cut can land on
one already there; a person cuts it once. The cuts at the end of a program commute, so a profile of
them is spare when what it alone removes — its prism, less the other cuts' prisms still kept, within
the material the features before those cuts build — has no volume (``SPARE_VOLUME`` of the part's,
numerical noise). Profiles with more curves are tried first (the costlier copy goes), one at a time
against the cuts still kept (two copies keep one); a cut feature left without profiles goes. The caller
checks the solid (``verify.candidates.same_solid``).
"""

from __future__ import annotations

from dataclasses import replace

import manifold3d

from backend.cad.program import Operation, Program
from backend.geometry.solid import build_manifold, program_scale

SPARE_VOLUME = 1e-6  # share of the part's volume a spare profile may remove (boolean round-off)


def _curves(profile) -> int:
    return sum(len(loop.curves) for loop in (profile.outer, *profile.holes))


def _overlap(a: manifold3d.Manifold, b: manifold3d.Manifold) -> bool:
    (a0, a1), (b0, b1) = _box(a), _box(b)
    return all(a0[k] < b1[k] and b0[k] < a1[k] for k in range(3))


def _box(m: manifold3d.Manifold) -> tuple[tuple[float, ...], tuple[float, ...]]:
    box = m.bounding_box()
    return tuple(box[:3]), tuple(box[3:])


def spare_cuts_dropped(program: Program) -> Program | None:
    """``program`` without the profiles of its closing cuts that remove nothing the others do not (module
    docstring); None when none is spare, when the program has no closing cuts or intersects, or when it
    does not build."""
    features = program.features
    first = len(features)
    while first > 0 and features[first - 1].operation is Operation.CUT:
        first -= 1
    if first in (0, len(features)) or any(f.operation is Operation.INTERSECT for f in features):
        return None
    scale = program_scale(program)
    body = build_manifold(Program(features[:first]), scale)
    limit = SPARE_VOLUME * body.volume()
    keys = [(i, j) for i in range(first, len(features)) for j in range(len(features[i].sketch.profiles))]
    prisms = {}
    for i, j in keys:
        f = features[i]
        alone = replace(
            f, sketch=replace(f.sketch, profiles=(f.sketch.profiles[j],)), operation=Operation.NEW
        )
        prisms[i, j] = build_manifold(Program((alone,)), scale)
    kept = set(keys)
    for key in sorted(keys, key=lambda k: -_curves(features[k[0]].sketch.profiles[k[1]])):
        alone = prisms[key]
        for other in kept - {key}:
            if _overlap(alone, prisms[other]):
                alone = alone - prisms[other]
        if alone.is_empty() or (alone ^ body).volume() <= limit:
            kept.discard(key)
    if len(kept) == len(keys):
        return None
    out = list(features[:first])
    for i in range(first, len(features)):
        profiles = tuple(p for j, p in enumerate(features[i].sketch.profiles) if (i, j) in kept)
        if profiles:
            out.append(replace(features[i], sketch=replace(features[i].sketch, profiles=profiles)))
    return Program(tuple(out))


__all__ = ["SPARE_VOLUME", "spare_cuts_dropped"]
