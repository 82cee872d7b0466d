"""CAD program (JSON dict, "cadprog/1") → editable Blender objects.

Layout of one result, all in a new collection named after the input:

- ``<name> frame``: an empty carrying ``matrix_world`` (the input's placement);
  every other object is its child, so the result overlays the input.
- one mesh object per feature (``<name> F01 new`` …), placed on its sketch plane,
  whose mesh holds the profile loops as vertices and edges (arcs tessellated) and
  whose geometry-nodes modifier (:mod:`.nodes`) extrudes them into a solid. Moving
  a vertex in edit mode or changing Distance 1 / Distance 2 / Symmetric on the
  modifier updates the solid live.
- the first feature that adds material is the result object: after its extrusion
  it carries one Boolean modifier per later feature (cut → DIFFERENCE, new/join →
  UNION, intersect → INTERSECT) whose operand is that feature's object; operands
  show as wire and are hidden in renders.

Each feature object stores its feature JSON (``mesh2cad_feature``); the result
object and the collection store the whole program (``mesh2cad_program``).
Importable in plain ``bpy`` without registering the add-on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import bpy
from mathutils import Matrix

from . import nodes
from .sketch import CHORD_TOLERANCE, ProgramError, check_program, feature_loops, interval, part_size
from .sketch import plane_matrix as _plane_matrix

PROGRAM_KEY = "mesh2cad_program"
FEATURE_KEY = "mesh2cad_feature"
INDEX_KEY = "mesh2cad_feature_index"
RESULT_KEY = "mesh2cad_result"
SOURCE_KEY = "mesh2cad_source"
BOOLEAN_OPERATION = {"new": "UNION", "join": "UNION", "cut": "DIFFERENCE", "intersect": "INTERSECT"}
SOLVER_PREFERENCE = ("MANIFOLD", "EXACT")  # the first one this Blender offers (else its first item)
EXTRUDE_MODIFIER = "Extrude"

__all__ = ["BuildError", "ProgramError", "boolean_solver", "build_program", "result_object"]


class BuildError(ProgramError):
    """The program parses but gives no Blender result (e.g. no feature adds material)."""


def boolean_solver() -> str:
    """The Boolean modifier solver to use, from the enum this Blender offers (names differ in 4.x/5.x)."""
    items = [e.identifier for e in bpy.types.BooleanModifier.bl_rna.properties["solver"].enum_items]
    return next((s for s in SOLVER_PREFERENCE if s in items), items[0])


def build_program(
    program: dict[str, Any],
    name: str = "CAD",
    matrix_world: Matrix | Sequence[Sequence[float]] | None = None,
    scene: bpy.types.Scene | None = None,
) -> bpy.types.Collection:
    """Build ``program`` as an editable result in a new collection linked to ``scene`` (default: current).

    Raises ProgramError (or its subclass BuildError) with a readable message for a bad program;
    nothing is left behind in that case.
    """
    features = check_program(program)
    tol = CHORD_TOLERANCE * part_size(features)
    loops = [feature_loops(f, tol) for f in features]  # all parsing before any datablock exists
    frames = [Matrix(_plane_matrix(f["sketch"]["plane"])) for f in features]
    intervals = [interval(f["extent"]) for f in features]
    base = next((i for i, f in enumerate(features) if f["operation"] in ("new", "join")), None)
    if base is None:
        raise BuildError("no feature adds material (the first feature must be new or join)")

    scene = scene or bpy.context.scene
    group = nodes.extrude_group()
    ids = nodes.input_identifiers(group)
    program_json = json.dumps(program)

    coll = bpy.data.collections.new(name)
    scene.collection.children.link(coll)
    root = bpy.data.objects.new(f"{name} frame", None)
    root.empty_display_type = "PLAIN_AXES"
    root.empty_display_size = 0.1 * part_size(features)
    root.matrix_world = Matrix(matrix_world) if matrix_world is not None else Matrix.Identity(4)
    coll.objects.link(root)

    objects = []
    for i, feature in enumerate(features):
        obj = _feature_object(f"{name} F{i + 1:02d} {feature['operation']}", loops[i], frames[i], root)
        coll.objects.link(obj)
        _add_extrude(obj, group, ids, intervals[i], feature["extent"].get("kind") == "symmetric")
        obj[FEATURE_KEY] = json.dumps(feature)
        obj[INDEX_KEY] = i
        objects.append(obj)

    result = objects[base]
    solver = boolean_solver()
    for i in range(base + 1, len(features)):
        mod = result.modifiers.new(f"F{i + 1:02d} {features[i]['operation']}", "BOOLEAN")
        mod.operation = BOOLEAN_OPERATION[features[i]["operation"]]
        mod.operand_type = "OBJECT"
        mod.object = objects[i]
        mod.solver = solver
        mod.show_in_editmode = True  # editing the base sketch shows the finished solid
    for i, obj in enumerate(objects):
        if i != base:  # operands (and features before the base, which act on nothing)
            obj.display_type = "WIRE"
            obj.hide_render = True
    result[PROGRAM_KEY] = program_json
    coll[PROGRAM_KEY] = program_json
    coll[RESULT_KEY] = result
    return coll


def result_object(coll: bpy.types.Collection) -> bpy.types.Object | None:
    """The object carrying the whole solid of a built collection (None if it is not one)."""
    obj = coll.get(RESULT_KEY)
    return obj if isinstance(obj, bpy.types.Object) and obj.name in coll.objects else None


def _feature_object(
    name: str, loops: list[tuple[int, list[tuple[float, float]]]], frame: Matrix, root: bpy.types.Object
) -> bpy.types.Object:
    verts: list[tuple[float, float, float]] = []
    edges: list[tuple[int, int]] = []
    profile_of_vertex: list[int] = []
    for profile, poly in loops:
        start = len(verts)
        verts.extend((u, v, 0.0) for u, v in poly)
        edges.extend((start + k, start + (k + 1) % len(poly)) for k in range(len(poly)))
        profile_of_vertex += [profile] * len(poly)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(verts, edges, [])
    mesh.validate()
    attr = mesh.attributes.new(nodes.PROFILE_ATTRIBUTE, "INT", "POINT")  # each profile fills on its own
    attr.data.foreach_set("value", profile_of_vertex)
    obj = bpy.data.objects.new(name, mesh)
    obj.parent = root
    obj.matrix_parent_inverse = Matrix.Identity(4)
    obj.matrix_basis = frame
    return obj


def _add_extrude(
    obj: bpy.types.Object,
    group: bpy.types.NodeTree,
    ids: dict[str, str],
    span: tuple[float, float],
    symmetric: bool,
) -> None:
    lo, hi = span
    mod = obj.modifiers.new(EXTRUDE_MODIFIER, "NODES")
    mod.node_group = group
    mod[ids[nodes.INPUT_D1]] = float(hi)
    mod[ids[nodes.INPUT_D2]] = float(-lo)
    mod[ids[nodes.INPUT_SYMMETRIC]] = bool(symmetric)
