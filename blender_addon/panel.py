"""The "CAD" tab of the 3D viewport sidebar."""

from __future__ import annotations

import textwrap

import bpy

from . import actions, cad_export
from .operators import input_meshes, target_collection
from .state import STATE

WRAP = 42  # characters per label line
MAX_LINES = 12


class MESH2CAD_PT_panel(bpy.types.Panel):
    bl_idname = "MESH2CAD_PT_panel"
    bl_label = "Mesh to CAD"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "CAD"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        _draw_backend(layout)
        meshes = input_meshes(context)
        layout.label(text=f"Selected meshes: {len(meshes)}", icon="MESH_DATA")

        opts = getattr(context.scene, "mesh2cad", None)
        if opts is not None:
            col = layout.column(align=True)
            col.prop(opts, "candidates")
            col.prop(opts, "seed")
            col.prop(opts, "temperature")
            col.prop(opts, "decoder")
            col.prop(opts, "underside_unseen")

        row = layout.row()
        row.scale_y = 1.4
        row.enabled = bool(meshes) and not STATE.busy
        row.operator("mesh2cad.reconstruct", icon="MOD_SOLIDIFY")
        if STATE.busy:
            _draw_progress(layout)

        _draw_result(layout, context)
        if STATE.last_error:
            box = layout.box()
            _wrapped(box, STATE.last_error, icon="ERROR")
            if STATE.last_hint:
                _wrapped(box, STATE.last_hint, icon="INFO")
            if STATE.last_action:  # the error's fix as a button
                text, icon = actions.label(STATE.last_action)
                box.operator(STATE.last_action, text=text, icon=icon)


def _draw_backend(layout: bpy.types.UILayout) -> None:
    row = layout.row(align=True)
    if STATE.backend_alive():
        model = STATE.health.get("model", "")
        row.label(text=f"Backend: {model or 'running'}", icon="CHECKMARK")
        row.operator("mesh2cad.stop_backend", text="", icon="CANCEL")
    else:
        row.label(text="Backend: not running", icon="UNLINKED")
        sub = row.row()
        sub.enabled = not STATE.busy
        sub.operator("mesh2cad.start_backend", text="Start", icon="PLAY")


def _draw_progress(layout: bpy.types.UILayout) -> None:
    box = layout.box()
    where = f"{STATE.current} ({STATE.index}/{STATE.total}): " if STATE.total and STATE.current else ""
    box.progress(factor=STATE.progress, type="BAR", text=f"{where}{STATE.stage or STATE.task}")
    box.operator("mesh2cad.cancel", icon="X")


def _draw_result(layout: bpy.types.UILayout, context: bpy.types.Context) -> None:
    last = STATE.last_result
    coll = target_collection(context)
    if not last and coll is None:
        return
    box = layout.box()
    if last:
        box.label(text=f"Last: {last.get('source', '')}", icon="OUTLINER_COLLECTION")
        grid = box.grid_flow(columns=2, align=True)
        grid.label(text=f"CD: {_fmt(last.get('cd'), 5)}")
        grid.label(text=f"IoU: {_fmt(last.get('iou'), 3)}")
        grid.label(text=f"Time: {_fmt(last.get('seconds'), 1)} s")
        grid.label(text=f"Features: {last.get('features', '?')}")
        if last.get("note"):  # the input decimated or its holes filled (on a copy) for fitting
            _wrapped(box, last["note"], "INFO")
    else:
        box.label(text=coll.name, icon="OUTLINER_COLLECTION")
    row = box.row(align=True)
    row.enabled = coll is not None
    row.operator("mesh2cad.apply", icon="CHECKMARK")
    row.operator("mesh2cad.export_program", text="Export JSON", icon="EXPORT")
    cad_export.draw_buttons(box, coll is not None)


def _fmt(value: object, digits: int) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else "–"


def _wrapped(layout: bpy.types.UILayout, text: str, icon: str) -> None:
    lines = [w for para in text.splitlines() for w in textwrap.wrap(para, WRAP)] or [""]
    if len(lines) > MAX_LINES:  # keep the summary and the end of a quoted log
        lines = lines[:2] + ["…"] + lines[-(MAX_LINES - 3) :]
    col = layout.column(align=True)
    for i, line in enumerate(lines):
        col.label(text=line, icon=icon if i == 0 else "BLANK1")


CLASSES = (MESH2CAD_PT_panel,)
