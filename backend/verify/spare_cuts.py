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

from backend.cad.program import Operation, Program
from backend.geometry.solid import GeometryError, build_manifold, program_scale

SPARE_VOLUME = 1e-6  # share of the part's volume a spare profile may remove (boolean round-off)


def _curves(profile) -> int:
    return sum(len(loop.curves) for loop in (profile.outer, *profile.holes))


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Two (min xyz, max xyz) boxes overlap."""
    return all(a[k] < b[k + 3] and b[k] < a[k + 3] for k in range(3))


def spare_cuts_dropped(program: Program) -> Program | None:
    """``program`` without the profiles of its closing cuts that remove nothing the others do not (module
    docstring); None when none is spare, when the program has no closing cuts or intersects, or when it
    does not build."""
    try:
        return _dropped(program)
    except GeometryError:
        return None


def _dropped(program: Program) -> Program | None:
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
    boxes = {key: tuple(prism.bounding_box()) for key, prism in prisms.items()}
    kept = set(keys)
    for key in sorted(keys, key=lambda k: -_curves(features[k[0]].sketch.profiles[k[1]])):
        alone = prisms[key]
        for other in kept:
            if other != key and _overlap(boxes[key], boxes[other]):
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
