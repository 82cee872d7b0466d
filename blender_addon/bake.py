"""Apply: bake an editable result collection to one plain mesh object."""

from __future__ import annotations

import bpy

from . import build


def result_collection(obj: bpy.types.Object | None) -> bpy.types.Collection | None:
    """The result collection an object belongs to (None if it is not part of one)."""
    if obj is None:
        return None
    return next((c for c in obj.users_collection if build.PROGRAM_KEY in c), None)


def bake_collection(
    coll: bpy.types.Collection, keep_editable: bool = False, depsgraph: bpy.types.Depsgraph | None = None
) -> bpy.types.Object:
    """A new mesh object holding the evaluated solid, placed like the input, linked where the collection was.

    The editable objects are deleted (or only hidden when ``keep_editable``). Raises ValueError
    when ``coll`` is not a result collection.
    """
    result = build.result_object(coll)
    if result is None:
        raise ValueError(f"{coll.name} is not a mesh2cad result")
    depsgraph = depsgraph or bpy.context.evaluated_depsgraph_get()
    evaluated = result.evaluated_get(depsgraph)
    mesh = bpy.data.meshes.new_from_object(evaluated, preserve_all_data_layers=False, depsgraph=depsgraph)
    name = coll.name.removesuffix(" CAD") + " baked" if coll.name.endswith(" CAD") else f"{coll.name} baked"
    mesh.name = name
    baked = bpy.data.objects.new(name, mesh)
    parent = result.parent  # the frame empty: the baked object gets its placement (the input's)
    if parent is not None:
        mesh.transform(result.matrix_parent_inverse @ result.matrix_basis)
        baked.matrix_world = parent.matrix_world.copy()
    else:
        mesh.transform(result.matrix_world)
    baked[build.PROGRAM_KEY] = coll[build.PROGRAM_KEY]
    parents = [c for c in bpy.data.collections if coll.name in c.children]
    scenes = [s for s in bpy.data.scenes if coll.name in s.collection.children]
    targets = parents + [s.collection for s in scenes] or [bpy.context.scene.collection]
    for target in targets:
        target.objects.link(baked)
    if keep_editable:
        coll.hide_viewport = coll.hide_render = True
    else:
        _delete_collection(coll)
    return baked


def _delete_collection(coll: bpy.types.Collection) -> None:
    meshes = [o.data for o in coll.objects if o.type == "MESH"]
    for obj in list(coll.objects):
        bpy.data.objects.remove(obj)
    for mesh in meshes:
        if mesh.users == 0:
            bpy.data.meshes.remove(mesh)
    bpy.data.collections.remove(coll)
