"""Deviation map: colour one mesh by its signed distance to another (an accuracy analyser).

``make_deviation(source, reference)`` copies ``source``'s evaluated mesh (world space) into a new
object "<source> deviation" in its own collection, with

- vertices added where its edges are long (``densify``: a CAD-like mesh has few), then
- a float point attribute ``DISTANCE_ATTR``: signed distance of each vertex to ``reference``'s
  evaluated surface (``mathutils.bvhtree.BVHTree.find_nearest``; positive where the vertex lies
  outside the reference, on the side its nearest face's normal points to: excess material;
  negative inside: missing material);
- a colour attribute ``COLOR_ATTR`` (the ramp below, for Workbench / Solid shading by attribute);
- a material that maps the distance through the same ramp (Material Preview / Rendered), whose
  ColorRamp node the panel draws as the legend.

The statistics (max / mean / 95th percentile of |d|, signed min / max, the ramp range) are stored
on the object as JSON under ``DEVIATION_KEY``. The input object is never changed: showing the map
hides the source object, hiding it shows the source again. Only the stdlib, bpy and mathutils.
"""

from __future__ import annotations

import json
import math
import time
from array import array
from itertools import chain
from typing import Any

import bmesh
import bpy
from mathutils import Vector
from mathutils.bvhtree import BVHTree

DEVIATION_KEY = "mesh2cad_deviation"
DISTANCE_ATTR = "mesh2cad_distance"
COLOR_ATTR = "mesh2cad_deviation_color"
RAMP_NODE = "Deviation Ramp"
DETAIL = 50  # densify: edges at most 1/DETAIL of the bounding-box diagonal, for meshes ...
DENSE_FACES = 50_000  # ... with fewer faces than this (a scan has vertices enough) ...
MAX_FACES = 300_000  # ... and stopping once the copy has this many
MAX_SPLIT_PASSES = 12
MAX_CUTS = 4  # cuts per long edge and pass
LUT_SIZE = 1024  # colours of the ramp table used for the vertex colours
# (position on [0, 1] for [-range, +range], linear RGBA): inside blue ... on-surface green ... outside red
RAMP = (
    (0.0, (0.05, 0.1, 0.9, 1.0)),
    (0.25, (0.0, 0.65, 0.9, 1.0)),
    (0.5, (0.1, 0.75, 0.1, 1.0)),
    (0.75, (0.95, 0.8, 0.0, 1.0)),
    (1.0, (0.9, 0.05, 0.05, 1.0)),
)


def world_mesh(obj: bpy.types.Object, depsgraph: bpy.types.Depsgraph) -> bpy.types.Mesh:
    """A new mesh datablock: ``obj``'s evaluated mesh with its world transform applied."""
    mesh = bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph), depsgraph=depsgraph)
    mesh.transform(obj.matrix_world)
    return mesh


def densify(mesh: bpy.types.Mesh, detail: int, max_faces: int = MAX_FACES) -> None:
    """Split edges longer than 1/``detail`` of the mesh's bounding-box diagonal (same surface, more
    vertices), so a sparse CAD-like mesh gets a map with as much detail as a scan; 0, or a mesh with
    ``DENSE_FACES`` faces or more: leave it."""
    if detail <= 0 or not mesh.vertices or len(mesh.polygons) >= DENSE_FACES:
        return
    co = array("f", bytes(4 * 3 * len(mesh.vertices)))
    mesh.vertices.foreach_get("co", co)
    lo = [min(co[i::3]) for i in range(3)]
    hi = [max(co[i::3]) for i in range(3)]
    max_edge = math.dist(lo, hi) / detail
    bm = bmesh.new()
    try:
        bm.from_mesh(mesh)
        changed = False
        for _ in range(MAX_SPLIT_PASSES):
            lengths = [(e.calc_length(), e) for e in bm.edges]
            long = [e for length, e in lengths if length > max_edge]
            if not long or len(bm.faces) > max_faces:
                break
            typical = sorted(length for length, _ in lengths if length > max_edge)[len(long) // 2]
            cuts = max(1, min(MAX_CUTS, math.ceil(typical / max_edge) - 1))  # fewer passes on long edges
            bmesh.ops.subdivide_edges(bm, edges=long, cuts=cuts)
            bmesh.ops.triangulate(bm, faces=[f for f in bm.faces if len(f.verts) > 3])
            changed = True
        if changed:
            bm.to_mesh(mesh)
    finally:
        bm.free()


def surface_tree(mesh: bpy.types.Mesh) -> BVHTree:
    """BVH of a mesh's faces (normals up to date, so ``find_nearest`` returns face normals)."""
    bm = bmesh.new()
    try:
        bm.from_mesh(mesh)
        bm.normal_update()
        return BVHTree.FromBMesh(bm)
    finally:
        bm.free()


def signed_distances(mesh: bpy.types.Mesh, tree: BVHTree) -> array:
    """Signed distance of every vertex of ``mesh`` to the surface in ``tree`` (same space)."""
    n = len(mesh.vertices)
    co = array("f", bytes(4 * 3 * n))
    mesh.vertices.foreach_get("co", co)
    out = array("f", bytes(4 * n))
    nearest = tree.find_nearest
    p = Vector((0.0, 0.0, 0.0))
    for i in range(n):
        j = 3 * i
        p.x, p.y, p.z = co[j], co[j + 1], co[j + 2]
        loc, normal, _, dist = nearest(p)
        if loc is None:
            out[i] = math.nan
        else:
            out[i] = dist if (p - loc).dot(normal) >= 0.0 else -dist
    return out


def statistics(distances: array) -> dict[str, float]:
    """max / mean / p95 of |d| and the signed min / max (NaNs, from an empty reference, are left out)."""
    finite = [d for d in distances if d == d]
    if not finite:
        return {"count": 0, "max": 0.0, "mean": 0.0, "p95": 0.0, "min_signed": 0.0, "max_signed": 0.0}
    absolute = sorted(abs(d) for d in finite)
    k = max(0, math.ceil(0.95 * len(absolute)) - 1)  # nearest-rank percentile
    return {
        "count": len(finite),
        "max": absolute[-1],
        "mean": math.fsum(absolute) / len(absolute),
        "p95": absolute[k],
        "min_signed": min(finite),
        "max_signed": max(finite),
    }


def nice_range(value: float) -> float:
    """The smallest 1, 2 or 5 x 10^k that is >= ``value`` (a clean legend end), at least 1e-9."""
    value = max(float(value), 1e-9)
    exp = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10.0**exp >= value * (1.0 - 1e-9):
            return step * 10.0**exp
    return 10.0 ** (exp + 1)


def ramp_color(t: float) -> tuple[float, float, float, float]:
    """The ramp's colour at ``t`` in [0, 1] (linear interpolation, like the ColorRamp node)."""
    t = min(1.0, max(0.0, t))
    for (t0, c0), (t1, c1) in zip(RAMP, RAMP[1:]):
        if t == t1:
            return c1
        if t < t1:
            f = (t - t0) / (t1 - t0)
            return tuple(a + (b - a) * f for a, b in zip(c0, c1))  # type: ignore[return-value]
    return RAMP[-1][1]


def colors_for(distances: array, limit: float) -> array:
    """Flat RGBA per vertex for distances mapped from [-limit, +limit] onto the ramp (NaN: grey),
    through a table of ``LUT_SIZE`` ramp colours."""
    top = LUT_SIZE - 1
    lut = [ramp_color(i / top) for i in range(LUT_SIZE)] + [(0.5, 0.5, 0.5, 1.0)]  # last: NaN
    k = 0.5 * top / limit
    mid = 0.5 * top + 0.5
    index = [top + 1 if d != d else min(top, max(0, int(mid + k * d))) for d in distances]
    return array("f", chain.from_iterable(lut[i] for i in index))


def deviation_material(name: str, limit: float) -> bpy.types.Material:
    """Distance attribute -> Map Range [-limit, limit] -> ColorRamp (``RAMP``) -> Base Color."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = next(n for n in nodes if n.type == "BSDF_PRINCIPLED")
    attr = nodes.new("ShaderNodeAttribute")
    attr.attribute_name = DISTANCE_ATTR
    attr.location = (-700, 200)
    remap = nodes.new("ShaderNodeMapRange")
    remap.location = (-500, 200)
    remap.inputs["From Min"].default_value = -limit
    remap.inputs["From Max"].default_value = limit
    ramp = nodes.new("ShaderNodeValToRGB")
    ramp.name = ramp.label = RAMP_NODE
    ramp.location = (-300, 200)
    elements = ramp.color_ramp.elements
    while len(elements) < len(RAMP):
        elements.new(0.5)
    for element, (pos, color) in zip(elements, RAMP):
        element.position, element.color = pos, color
    links.new(attr.outputs["Fac"], remap.inputs["Value"])
    links.new(remap.outputs["Result"], ramp.inputs["Fac"])
    links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
    mat.diffuse_color = RAMP[2][1]
    return mat


def make_deviation(
    source: bpy.types.Object,
    reference: bpy.types.Object,
    depsgraph: bpy.types.Depsgraph | None = None,
    limit: float = 0.0,
    role: str = "input",
    detail: int = DETAIL,
) -> bpy.types.Object:
    """The deviation object of ``source`` against ``reference`` (replacing an earlier one of the same
    source); ``limit`` is the ramp's half range (0: a clean number above the largest |d|); ``detail``:
    see ``densify`` (the copy is densified, never the source)."""
    start = time.perf_counter()
    depsgraph = depsgraph or bpy.context.evaluated_depsgraph_get()
    reference_mesh = world_mesh(reference, depsgraph)
    try:
        if not reference_mesh.polygons:
            raise ValueError(f"{reference.name} has no faces to measure against")
        tree = surface_tree(reference_mesh)
    finally:
        bpy.data.meshes.remove(reference_mesh)
    mesh = world_mesh(source, depsgraph)
    densify(mesh, detail)
    distances = signed_distances(mesh, tree)
    stats = statistics(distances)
    limit = limit if limit > 0 else nice_range(stats["max"])
    attr = mesh.attributes.new(DISTANCE_ATTR, "FLOAT", "POINT")
    attr.data.foreach_set("value", distances)
    colors = mesh.color_attributes.new(COLOR_ATTR, "FLOAT_COLOR", "POINT")
    colors.data.foreach_set("color", colors_for(distances, limit))
    mesh.color_attributes.active_color = colors
    name = f"{source.name} deviation"
    remove_deviation(find_deviation(source.name))
    mesh.name = name
    mesh.materials.clear()  # one slot: the map's material on every face
    mesh.polygons.foreach_set("material_index", array("i", bytes(4 * len(mesh.polygons))))
    mesh.materials.append(deviation_material(name, limit))
    obj = bpy.data.objects.new(name, mesh)
    _collection(name).objects.link(obj)
    info = {**stats, "limit": limit, "source": source.name, "reference": reference.name, "role": role}
    info["seconds"] = time.perf_counter() - start
    obj[DEVIATION_KEY] = json.dumps(info)
    set_visible(obj, True)
    return obj


def _collection(name: str) -> bpy.types.Collection:
    coll = bpy.data.collections.new(name)
    bpy.context.scene.collection.children.link(coll)
    return coll


def info(obj: bpy.types.Object | None) -> dict[str, Any]:
    """The stored statistics of a deviation object ({} for anything else)."""
    if obj is None or DEVIATION_KEY not in obj:
        return {}
    try:
        data = json.loads(obj[DEVIATION_KEY])
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def find_deviation(source_name: str) -> bpy.types.Object | None:
    """The deviation object made for the object called ``source_name``, if any."""
    return next((o for o in bpy.data.objects if info(o).get("source") == source_name), None)


def ramp_node(obj: bpy.types.Object) -> bpy.types.ShaderNode | None:
    """The legend's ColorRamp node in the deviation object's material."""
    mat = obj.active_material
    if mat is None or mat.node_tree is None:
        return None
    return mat.node_tree.nodes.get(RAMP_NODE)


def is_visible(obj: bpy.types.Object) -> bool:
    return not obj.hide_get() and not obj.hide_viewport


def set_visible(obj: bpy.types.Object, visible: bool) -> None:
    """Show the map and hide its source (or the reverse); the render visibility follows."""
    obj.hide_viewport = False
    obj.hide_set(not visible)
    obj.hide_render = not visible
    source = bpy.data.objects.get(info(obj).get("source", ""))
    if source is not None:
        source.hide_set(visible)
        source.hide_render = visible


def remove_deviation(obj: bpy.types.Object | None) -> None:
    """Delete a deviation object, its mesh, material and collection; show its source again."""
    if obj is None:
        return
    set_visible(obj, False)
    mesh, colls = obj.data, list(obj.users_collection)
    mats = [m for m in mesh.materials if m is not None]
    bpy.data.objects.remove(obj)
    if mesh.users == 0:
        bpy.data.meshes.remove(mesh)
    for mat in mats:
        if mat.users == 0:
            bpy.data.materials.remove(mat)
    for coll in colls:
        if not coll.objects and not coll.children:
            bpy.data.collections.remove(coll)
