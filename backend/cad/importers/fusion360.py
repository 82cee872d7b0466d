"""Fusion 360 Gallery reconstruction JSON -> ``Program`` (and the reader shared with DeepCAD; its
sketch reading is in ``sketches.py``).

The file lists ``entities`` (``Sketch`` and ``ExtrudeFeature``) and a ``timeline`` giving their
order. A sketch has a ``transform`` (origin, x/y/z axes in world space) and ``profiles``: regions,
each a list of loops (``is_outer`` flags) of ``profile_curves`` (``Line3D`` / ``Arc3D`` /
``Circle3D``) in sketch coordinates. An extrude references profiles by (sketch, profile) id and
has an ``extent_type``, ``extent_one`` / ``extent_two`` distances, an ``operation`` and a
``start_extent`` (profile plane or an offset from it).

Mapping:

- the plane is the sketch transform (origin, x axis, z axis as normal, y = normal x x); profile
  points are re-expressed in that right-handed frame (a mirrored transform is handled);
  an ``OffsetStartDefinition`` moves the origin along the normal;
- ``OneSideFeatureExtentType`` -> ONE_SIDE d1 = extent_one (sign kept);
  ``SymmetricFeatureExtentType`` -> SYMMETRIC d1 = distance on each side (half the value when the
  extent says ``is_full_length``); ``TwoSidesFeatureExtentType`` -> TWO_SIDES d1 = extent_one,
  d2 = extent_two (measured against the normal);
- profiles of one extrude on coplanar sketches are merged into one sketch; profiles on
  non-coplanar sketches become one feature per sketch (not possible for intersect);
- arcs get their mid point from centre, radius, reference vector and angles; loops are chained
  end to start, outer loops counter-clockwise, holes clockwise.

Lengths stay in the file's units (cm for Fusion 360).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from backend.cad.importers.errors import ImportErrorUnsupported, ImportFormatError
from backend.cad.importers.sketches import Conventions, Frame, read_num, read_profile
from backend.cad.program import (
    Extent,
    ExtentKind,
    Extrude,
    Operation,
    Plane,
    Profile,
    Program,
    Sketch,
)

OPERATIONS = {
    "NewBodyFeatureOperation": Operation.NEW,
    "JoinFeatureOperation": Operation.JOIN,
    "CutFeatureOperation": Operation.CUT,
    "IntersectFeatureOperation": Operation.INTERSECT,
}
EXTENT_KINDS = {
    "OneSideFeatureExtentType": ExtentKind.ONE_SIDE,
    "SymmetricFeatureExtentType": ExtentKind.SYMMETRIC,
    "TwoSidesFeatureExtentType": ExtentKind.TWO_SIDES,
}
DISTANCE_EXTENTS = ("DistanceExtentDefinition", "SymmetricExtentDefinition")
ANGLE_TOLERANCE = 1e-9  # radians: a taper below this is zero


FUSION360 = Conventions(
    "Fusion 360", arc_normal_in_world=False, trust_is_outer=True, symmetric_full_length=False
)


def import_fusion360(data: dict[str, Any]) -> Program:
    """Convert a parsed Fusion 360 Gallery reconstruction JSON object to a ``Program``."""
    entities = _entities(data)
    timeline = data.get("timeline")
    if not isinstance(timeline, list):
        raise ImportFormatError("Fusion 360 file has no 'timeline' list")
    items = sorted(timeline, key=lambda t: t.get("index", 0) if isinstance(t, dict) else 0)
    order = [t.get("entity") if isinstance(t, dict) else None for t in items]
    return read_program(entities, order, FUSION360)


# --- shared reader ----------------------------------------------------------------------------------


def read_program(entities: dict[str, Any], order: Iterable[Any], conv: Conventions) -> Program:
    """Features for the entity ids in ``order``: sketches are read on use, extrudes become features."""
    features: list[Extrude] = []
    for entity_id in order:
        entity = entities.get(entity_id) if isinstance(entity_id, str) else None
        if not isinstance(entity, dict):
            raise ImportFormatError(f"{conv.source}: timeline refers to unknown entity {entity_id!r}")
        kind = entity.get("type")
        if kind == "Sketch":
            continue
        if kind != "ExtrudeFeature":
            name = entity.get("name", entity_id)
            raise ImportErrorUnsupported(
                f"{conv.source}: feature {name!r} is a {kind}; only sketch + extrude"
            )
        features.extend(_extrude(entities, entity_id, entity, conv))
    if not features:
        raise ImportFormatError(f"{conv.source}: the file has no extrude features")
    return Program(tuple(features))


def _entities(data: dict[str, Any]) -> dict[str, Any]:
    entities = data.get("entities")
    if not isinstance(entities, dict):
        raise ImportFormatError("file has no 'entities' object")
    return entities


# --- extrude -----------------------------------------------------------------------------------------


def _extrude(entities: dict[str, Any], entity_id: str, e: dict[str, Any], conv: Conventions) -> list[Extrude]:
    name = f"{conv.source} extrude {e.get('name', entity_id)!r}"
    op_name = e.get("operation")
    if op_name not in OPERATIONS:
        raise ImportErrorUnsupported(f"{name}: operation {op_name!r}")
    operation = OPERATIONS[op_name]
    extent = _extent(e, name, conv)
    offset = _start_offset(e.get("start_extent"), name)

    refs = e.get("profiles")
    if not isinstance(refs, list) or not refs:
        raise ImportFormatError(f"{name}: no profiles")
    groups: dict[str, list[str]] = {}
    for ref in refs:
        if not isinstance(ref, dict) or not isinstance(ref.get("sketch"), str):
            raise ImportFormatError(f"{name}: malformed profile reference {ref!r}")
        groups.setdefault(ref["sketch"], []).append(ref.get("profile"))

    # one plane per set of coplanar sketches, in order of first use
    planes: list[tuple[Frame, list[tuple[Frame, dict[str, Any], list[Any]]]]] = []
    for sketch_id, profile_ids in groups.items():
        sketch = entities.get(sketch_id)
        if not isinstance(sketch, dict) or sketch.get("type") != "Sketch":
            raise ImportFormatError(f"{name}: profile references unknown sketch {sketch_id!r}")
        frame = Frame.from_transform(
            sketch.get("transform"), f"{name}: sketch {sketch.get('name', sketch_id)!r}"
        )
        for target, members in planes:
            if target.coplanar(frame):
                members.append((frame, sketch, profile_ids))
                break
        else:
            planes.append((frame, [(frame, sketch, profile_ids)]))
    if operation is Operation.INTERSECT and len(planes) > 1:
        raise ImportErrorUnsupported(f"{name}: intersect with profiles on non-coplanar sketches")

    features = []
    for target, members in planes:
        profiles: list[Profile] = []
        for frame, sketch, profile_ids in members:
            to_plane = target.mapper(frame)
            sketch_where = f"{name}: sketch {sketch.get('name', '?')!r}"
            for pid in profile_ids:
                profiles.append(read_profile(sketch, pid, frame, to_plane, conv, sketch_where))
        n = target.normal
        origin = (
            target.origin[0] + offset * n[0],
            target.origin[1] + offset * n[1],
            target.origin[2] + offset * n[2],
        )
        plane = Plane(origin, target.x_dir, n)
        features.append(Extrude(Sketch(plane, tuple(profiles)), extent, operation))
    return features


def _extent(e: dict[str, Any], name: str, conv: Conventions) -> Extent:
    kind_name = e.get("extent_type")
    if kind_name not in EXTENT_KINDS:
        raise ImportErrorUnsupported(f"{name}: extent type {kind_name!r}")
    kind = EXTENT_KINDS[kind_name]
    one = _distance(e.get("extent_one"), f"{name}: extent_one")
    if kind is ExtentKind.ONE_SIDE:
        return Extent(kind, one)
    if kind is ExtentKind.SYMMETRIC:
        full = e["extent_one"].get("is_full_length", conv.symmetric_full_length)
        d = abs(one)
        return Extent(kind, d / 2.0 if full else d)
    two = _distance(e.get("extent_two"), f"{name}: extent_two")
    return Extent(kind, one, two)


def _distance(ext: Any, where: str) -> float:
    if not isinstance(ext, dict):
        raise ImportFormatError(f"{where} is missing")
    kind = ext.get("type", "DistanceExtentDefinition")
    if kind not in DISTANCE_EXTENTS or "distance" not in ext:
        raise ImportErrorUnsupported(f"{where}: extent definition {kind!r} (only distances)")
    taper = ext.get("taper_angle")
    if taper is not None and abs(read_num(taper, f"{where}.taper_angle")) > ANGLE_TOLERANCE:
        angle = math.degrees(read_num(taper, f"{where}.taper_angle"))
        raise ImportErrorUnsupported(f"{where}: taper angle {angle:.6g} degrees")
    return read_num(ext["distance"], f"{where}.distance")


def _start_offset(start: Any, name: str) -> float:
    kind = start.get("type") if isinstance(start, dict) else None
    if start is None or kind == "ProfilePlaneStartDefinition":
        return 0.0
    if kind == "OffsetStartDefinition":
        return read_num(start.get("offset"), f"{name}: start_extent.offset")
    raise ImportErrorUnsupported(f"{name}: start extent {kind!r}")
