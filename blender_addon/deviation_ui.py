"""Deviation map in the UI: operators (make, show/hide, remove) and the "Deviation Map" sub-panel with
the readout (max / mean / 95th percentile of |d|) and the legend (the material's colour ramp with its
ends in the scene's length unit). The work itself is :mod:`.deviation`."""

from __future__ import annotations

import bpy

from . import build, deviation
from .operators import target_collection

ROLE_ITEMS = (
    ("INPUT", "Input", "Colour the input mesh by its distance to the reconstruction"),
    ("RESULT", "Reconstruction", "Colour the reconstruction by its distance to the input mesh"),
)


def input_and_result(context: bpy.types.Context) -> tuple[bpy.types.Object, bpy.types.Object] | None:
    """(input, reconstruction) of the active result collection, else of exactly two selected meshes
    (the active one is taken as the input); None when neither applies."""
    coll = target_collection(context)
    if coll is not None:
        result = build.result_object(coll)
        source = bpy.data.objects.get(str(coll.get(build.SOURCE_KEY, "")))
        if result is not None and source is not None and source.type == "MESH":
            return source, result
    meshes = [o for o in context.selected_objects if o.type == "MESH" and deviation.DEVIATION_KEY not in o]
    active = context.active_object
    if len(meshes) == 2 and active in meshes:
        return active, next(o for o in meshes if o is not active)
    return None


def current_map(context: bpy.types.Context) -> bpy.types.Object | None:
    """The deviation object to show in the panel: the active one, else the map of the current pair."""
    active = context.active_object
    if deviation.info(active):
        return active
    pair = input_and_result(context)
    if pair is None:
        return None
    return deviation.find_deviation(pair[0].name) or deviation.find_deviation(pair[1].name)


def length_text(context: bpy.types.Context, value: float) -> str:
    """A length in the scene's unit system (e.g. '0.12 mm'), or a plain number without units."""
    units = context.scene.unit_settings
    if units.system == "NONE":
        return f"{value:.4g}"
    return bpy.utils.units.to_string(units.system, "LENGTH", value * units.scale_length, precision=3)


def show_attribute_colors(context: bpy.types.Context) -> None:
    """Solid-shaded 3D views show the colour attribute (so the map is visible without a material view)."""
    screen = getattr(context, "screen", None)
    for area in getattr(screen, "areas", []):
        if area.type == "VIEW_3D":
            shading = area.spaces.active.shading
            if shading.type == "SOLID":
                shading.color_type = "VERTEX" if "VERTEX" in _color_types(shading) else "ATTRIBUTE"


def _color_types(shading) -> set[str]:
    return {item.identifier for item in shading.bl_rna.properties["color_type"].enum_items}


class MESH2CAD_OT_deviation_map(bpy.types.Operator):
    bl_idname = "mesh2cad.deviation_map"
    bl_label = "Deviation Map"
    bl_description = "Colour the input (or the reconstruction) by its signed distance to the other"
    bl_options = {"REGISTER", "UNDO"}

    role: bpy.props.EnumProperty(name="Colour", items=ROLE_ITEMS, default="INPUT")
    limit: bpy.props.FloatProperty(
        name="Range",
        description="Distance at the ends of the colour ramp (0: a round number above the largest deviation)",
        default=0.0,
        min=0.0,
        subtype="DISTANCE",
    )
    detail: bpy.props.IntProperty(
        name="Detail",
        description="Split the map's edges to at most 1/Detail of the part's diagonal (0: the mesh's own vertices)",
        default=deviation.DETAIL,
        min=0,
        max=1000,
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        pair = input_and_result(context)
        if pair is None:
            self.report(
                {"WARNING"}, "select a reconstruction (or two mesh objects: the active one is the input)"
            )
            return {"CANCELLED"}
        source, reference = pair if self.role == "INPUT" else (pair[1], pair[0])
        try:
            obj = deviation.make_deviation(
                source,
                reference,
                context.evaluated_depsgraph_get(),
                self.limit,
                self.role.lower(),
                self.detail,
            )
        except ValueError as exc:
            self.report({"WARNING"}, str(exc))
            return {"CANCELLED"}
        show_attribute_colors(context)
        stats = deviation.info(obj)
        self.report(
            {"INFO"},
            f"{source.name}: max {length_text(context, stats['max'])}, "
            f"mean {length_text(context, stats['mean'])}, 95 % {length_text(context, stats['p95'])}",
        )
        return {"FINISHED"}


class MESH2CAD_OT_deviation_toggle(bpy.types.Operator):
    bl_idname = "mesh2cad.deviation_toggle"
    bl_label = "Show / Hide Deviation Map"
    bl_description = "Hide the deviation map and show the coloured object again (or the reverse)"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = current_map(context)
        if obj is None:
            self.report({"WARNING"}, "no deviation map for the selection")
            return {"CANCELLED"}
        deviation.set_visible(obj, not deviation.is_visible(obj))
        return {"FINISHED"}


class MESH2CAD_OT_deviation_remove(bpy.types.Operator):
    bl_idname = "mesh2cad.deviation_remove"
    bl_label = "Remove Deviation Map"
    bl_description = "Delete the deviation map (the measured objects stay as they are)"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        obj = current_map(context)
        if obj is None:
            return {"CANCELLED"}
        deviation.remove_deviation(obj)
        return {"FINISHED"}


class MESH2CAD_PT_deviation(bpy.types.Panel):
    bl_idname = "MESH2CAD_PT_deviation"
    bl_label = "Deviation Map"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "CAD"
    bl_parent_id = "MESH2CAD_PT_panel"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        row = layout.row(align=True)
        row.enabled = input_and_result(context) is not None
        row.operator(
            MESH2CAD_OT_deviation_map.bl_idname, text="Colour Input", icon="MOD_VERTEX_WEIGHT"
        ).role = "INPUT"
        row.operator(
            MESH2CAD_OT_deviation_map.bl_idname, text="Colour Result", icon="MOD_VERTEX_WEIGHT"
        ).role = "RESULT"
        obj = current_map(context)
        if obj is None:
            layout.label(text="Select a reconstruction (or two meshes)", icon="INFO")
            return
        draw_readout(layout, context, obj)


def draw_readout(layout: bpy.types.UILayout, context: bpy.types.Context, obj: bpy.types.Object) -> None:
    """Statistics, legend and the show / hide / remove buttons of one deviation object."""
    stats = deviation.info(obj)
    box = layout.box()
    visible = deviation.is_visible(obj)
    row = box.row(align=True)
    row.operator(
        MESH2CAD_OT_deviation_toggle.bl_idname,
        text="Hide Map" if visible else "Show Map",
        icon="HIDE_OFF" if visible else "HIDE_ON",
        depress=visible,
    )
    row.operator(MESH2CAD_OT_deviation_remove.bl_idname, text="", icon="TRASH")
    box.label(text=f"{stats.get('source', '?')} → {stats.get('reference', '?')}", icon="ARROW_LEFTRIGHT")
    grid = box.grid_flow(columns=2, align=True)
    for label, key in (("Max", "max"), ("Mean", "mean"), ("95 %", "p95")):
        grid.label(text=label)
        grid.label(text=length_text(context, float(stats.get(key, 0.0))))
    node = deviation.ramp_node(obj)
    if node is not None:
        box.template_color_ramp(node, "color_ramp", expand=False)
    limit = float(stats.get("limit", 0.0))
    ends = box.row()
    ends.label(text=f"-{length_text(context, limit)}")
    ends.alignment = "EXPAND"
    ends.label(text="0")
    ends.label(text=f"+{length_text(context, limit)}")
    hint = box.row()
    hint.scale_y = 0.7
    hint.label(text="blue: inside (missing)   red: outside (excess)")


CLASSES = (
    MESH2CAD_OT_deviation_map,
    MESH2CAD_OT_deviation_toggle,
    MESH2CAD_OT_deviation_remove,
    MESH2CAD_PT_deviation,
)
