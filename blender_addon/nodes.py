"""The one code-built geometry-node group that turns a sketch (closed edge loops) into a solid.

The group is looked up by name and carries a version stamp; a group with another
stamp is rebuilt in place. Inputs (keyed on a modifier by the interface item's
identifier, see :func:`input_identifiers`):

- ``Distance 1``: height along the sketch normal (local +Z) where the solid ends.
- ``Distance 2``: depth against the normal where it starts (ignored when ``Symmetric``).
- ``Symmetric``: span ``[-Distance 1, +Distance 1]``.

The solid spans ``[min(lo, hi), max(lo, hi)]`` with ``lo = -Distance 2`` and
``hi = Distance 1``. Pipeline: Mesh to Curve → Fill Curve (holes by even-odd, each
profile on its own through the ``profile`` point attribute, so touching profiles
both fill) → merged → faces turned to +Z → moved to ``lo`` → Extrude Mesh by
``hi - lo``; the extrusion leaves the bottom open, so a flipped copy of the fill is
joined and merged. Merge distances are relative to the sketch's size, so parts in
millimetres weld as well as normalised ones.
"""

from __future__ import annotations

import bpy

GROUP_NAME = "mesh2cad.Extrude"
GROUP_VERSION = 2
VERSION_KEY = "mesh2cad_version"
INPUT_D1 = "Distance 1"
INPUT_D2 = "Distance 2"
INPUT_SYMMETRIC = "Symmetric"
MERGE_RELATIVE = 1e-6  # weld distance as a share of the sketch's bounding-box diagonal
PROFILE_ATTRIBUTE = "profile"  # int point attribute: which profile a sketch vertex belongs to


def extrude_group() -> bpy.types.GeometryNodeTree:
    """The extrude node group of the current version (created or rebuilt when needed)."""
    ng = bpy.data.node_groups.get(GROUP_NAME)
    if ng is not None and ng.bl_idname == "GeometryNodeTree" and ng.get(VERSION_KEY) == GROUP_VERSION:
        return ng
    if ng is None or ng.bl_idname != "GeometryNodeTree":
        ng = bpy.data.node_groups.new(GROUP_NAME, "GeometryNodeTree")
    _build(ng)
    ng[VERSION_KEY] = GROUP_VERSION
    return ng


def input_identifiers(ng: bpy.types.NodeTree) -> dict[str, str]:
    """Interface input name → identifier (the key of a modifier's input value)."""
    return {
        item.name: item.identifier
        for item in ng.interface.items_tree
        if item.item_type == "SOCKET" and item.in_out == "INPUT"
    }


def _build(ng: bpy.types.GeometryNodeTree) -> None:
    ng.nodes.clear()
    ng.interface.clear()
    iface = ng.interface
    iface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    d1 = iface.new_socket(INPUT_D1, in_out="INPUT", socket_type="NodeSocketFloat")
    d2 = iface.new_socket(INPUT_D2, in_out="INPUT", socket_type="NodeSocketFloat")
    sym = iface.new_socket(INPUT_SYMMETRIC, in_out="INPUT", socket_type="NodeSocketBool")
    iface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    d1.default_value, d2.default_value, sym.default_value = 0.1, 0.0, False
    for sock in (d1, d2):  # unit display; the subtype enum differs between 4.x releases
        if "DISTANCE" in {e.identifier for e in sock.bl_rna.properties["subtype"].enum_items}:
            sock.subtype = "DISTANCE"
    d1.description = "Height along the sketch normal where the solid ends"
    d2.description = "Depth against the sketch normal where the solid starts (unused when symmetric)"
    sym.description = "Extrude Distance 1 to both sides of the sketch plane"

    nodes, links = ng.nodes, ng.links
    link = links.new

    def node(kind: str, x: float, y: float, **props) -> bpy.types.Node:
        n = nodes.new(kind)
        n.location = (x, y)
        for key, value in props.items():
            setattr(n, key, value)
        return n

    def math(op: str, a, b, x: float, y: float) -> bpy.types.NodeSocket:
        n = node("ShaderNodeMath", x, y, operation=op)
        for i, v in enumerate((a, b)):
            if isinstance(v, bpy.types.NodeSocket):
                link(v, n.inputs[i])
            else:
                n.inputs[i].default_value = v
        return n.outputs[0]

    gin = node("NodeGroupInput", -900, 0)
    gout = node("NodeGroupOutput", 900, 0)

    # heights: lo = -(Symmetric ? D1 : D2), hi = D1, sorted
    switch = node("GeometryNodeSwitch", -700, -300, input_type="FLOAT")
    link(gin.outputs[INPUT_SYMMETRIC], switch.inputs["Switch"])
    link(gin.outputs[INPUT_D2], switch.inputs["False"])
    link(gin.outputs[INPUT_D1], switch.inputs["True"])
    neg = math("MULTIPLY", switch.outputs[0], -1.0, -550, -300)
    lo = math("MINIMUM", neg, gin.outputs[INPUT_D1], -400, -300)
    hi = math("MAXIMUM", neg, gin.outputs[INPUT_D1], -400, -450)
    height = math("SUBTRACT", hi, lo, -250, -450)

    # fill the loops, faces facing +Z, at height lo
    to_curve = node("GeometryNodeMeshToCurve", -700, 0)
    link(gin.outputs["Geometry"], to_curve.inputs["Mesh"])
    fill = node("GeometryNodeFillCurve", -550, 0, mode="TRIANGLES")
    link(to_curve.outputs[0], fill.inputs["Curve"])
    profile = node("GeometryNodeInputNamedAttribute", -700, -150, data_type="INT")
    profile.inputs["Name"].default_value = PROFILE_ATTRIBUTE
    link(profile.outputs["Attribute"], fill.inputs["Group ID"])

    # weld distance: MERGE_RELATIVE x the sketch's bounding-box diagonal
    bounds = node("GeometryNodeBoundBox", -700, 300)
    link(gin.outputs["Geometry"], bounds.inputs["Geometry"])
    span = node("ShaderNodeVectorMath", -550, 300, operation="DISTANCE")
    link(bounds.outputs["Min"], span.inputs[0])
    link(bounds.outputs["Max"], span.inputs[1])
    weld = math("MULTIPLY", span.outputs["Value"], MERGE_RELATIVE, -400, 300)
    welded = node("GeometryNodeMergeByDistance", -400, 0, mode="ALL")
    link(fill.outputs[0], welded.inputs["Geometry"])
    link(weld, welded.inputs["Distance"])
    normal = node("GeometryNodeInputNormal", -550, 150)
    sep = node("ShaderNodeSeparateXYZ", -400, 150)
    link(normal.outputs["Normal"], sep.inputs[0])
    down = node("FunctionNodeCompare", -250, 150, data_type="FLOAT", operation="LESS_THAN")
    link(sep.outputs["Z"], down.inputs["A"])
    down.inputs["B"].default_value = 0.0
    upright = node("GeometryNodeFlipFaces", -100, 0)
    link(welded.outputs[0], upright.inputs["Mesh"])
    link(down.outputs[0], upright.inputs["Selection"])
    lift = node("ShaderNodeCombineXYZ", -100, -300)
    link(lo, lift.inputs["Z"])
    move = node("GeometryNodeTransform", 50, 0)
    link(upright.outputs[0], move.inputs["Geometry"])
    link(lift.outputs[0], move.inputs["Translation"])

    # extrude up by hi - lo; close the open bottom with a flipped copy of the fill
    extrude = node("GeometryNodeExtrudeMesh", 250, 100, mode="FACES")
    link(move.outputs[0], extrude.inputs["Mesh"])
    extrude.inputs["Offset"].default_value = (0.0, 0.0, 1.0)
    link(height, extrude.inputs["Offset Scale"])
    extrude.inputs["Individual"].default_value = False
    bottom = node("GeometryNodeFlipFaces", 250, -100)
    link(move.outputs[0], bottom.inputs["Mesh"])
    join = node("GeometryNodeJoinGeometry", 450, 0)
    link(bottom.outputs[0], join.inputs[0])
    link(extrude.outputs["Mesh"], join.inputs[0])
    merge = node("GeometryNodeMergeByDistance", 650, 0, mode="ALL")
    link(join.outputs[0], merge.inputs["Geometry"])
    link(weld, merge.inputs["Distance"])
    link(merge.outputs[0], gout.inputs[0])
