"""Export STEP / CadQuery: the add-on cannot import OpenCascade, so it sends the stored program to the
backend (``POST /v1/export``) on a worker thread and writes the returned text where the user chose.

Nothing blocks: the operator starts a task like Reconstruct does (starting the backend when the
preferences allow), progress and errors arrive through :mod:`.poll`, and ``LAST_EXPORT`` names the
last file written (drawn under the buttons).
"""

from __future__ import annotations

import json
import os
from typing import Any

import bpy

from . import build, poll, worker
from .client import BackendError
from .operators import _begin, _ExportsResult, target_collection
from .preferences import Settings, current_settings
from .state import STATE, AddonState, Progress

EXPORT_TIMEOUT_S = 300.0  # a large STEP build; the first one also loads OpenCascade (a few seconds)
LAST_EXPORT: dict[str, str] = {}  # {"path", "format"} of the last file written (set by the worker)


def export_task(
    program: dict[str, Any], fmt: str, path: str, name: str, settings: Settings, state: AddonState
) -> None:
    """Worker thread: ask the backend for the file's text and write it to ``path``."""

    def run() -> None:
        client = worker._ensure_backend(settings, state, force=settings.auto_start)
        client.timeout = max(client.timeout, EXPORT_TIMEOUT_S)
        state.messages.put(Progress("", 0.3, f"exporting {fmt}"))
        reply = client.export(program, fmt, name)
        content = reply.get("content")
        if not isinstance(content, str):
            raise BackendError(f"the backend answered the {fmt} export without a file", "export again")
        try:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(content)
        except OSError as exc:
            raise BackendError(f"cannot write {path}: {exc.strerror}", "choose another file") from None
        LAST_EXPORT.update(path=path, format=fmt)
        state.messages.put(Progress("", 1.0, f"wrote {os.path.basename(path)}"))

    worker._guarded(state, run)


class _ExportCad(_ExportsResult):
    export_format = ""  # "step" | "cadquery" (the backend's names)
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        coll = target_collection(context)
        if coll is None:
            return self.fail("no reconstruction to export", "select an object of a CAD result")
        settings = current_settings(context)
        if (refused := self.refuse_to_start(settings, may_start=settings.auto_start)) is not None:
            return refused
        program = json.loads(coll[build.PROGRAM_KEY])
        name = os.path.splitext(os.path.basename(self.filepath))[0] or coll.name
        _begin(f"export {self.export_format}", 0)
        worker.spawn(export_task, program, self.export_format, self.filepath, name, settings, STATE)
        poll.ensure_timer()
        self.report({"INFO"}, f"Exporting {self.export_format} to {self.filepath}")
        return {"FINISHED"}


class MESH2CAD_OT_export_step(_ExportCad, bpy.types.Operator):
    bl_idname = "mesh2cad.export_step"
    bl_label = "Export STEP"
    bl_description = (
        "Write the reconstruction as a STEP solid (planes and true cylinders), built by the backend"
    )
    export_format = "step"
    filename_ext = ".step"
    filter_glob: bpy.props.StringProperty(default="*.step;*.stp", options={"HIDDEN"})


class MESH2CAD_OT_export_cadquery(_ExportCad, bpy.types.Operator):
    bl_idname = "mesh2cad.export_cadquery"
    bl_label = "Export CadQuery"
    bl_description = "Write the reconstruction as a runnable CadQuery script with named parameters"
    export_format = "cadquery"
    filename_ext = ".py"
    filter_glob: bpy.props.StringProperty(default="*.py", options={"HIDDEN"})


def draw_buttons(layout: bpy.types.UILayout, enabled: bool) -> None:
    """The STEP / CadQuery export buttons (next to Export JSON) and the last file written."""
    row = layout.row(align=True)
    row.enabled = enabled and not STATE.busy
    row.operator(MESH2CAD_OT_export_step.bl_idname, text="STEP", icon="EXPORT")
    row.operator(MESH2CAD_OT_export_cadquery.bl_idname, text="CadQuery", icon="FILE_SCRIPT")
    if LAST_EXPORT.get("path"):
        layout.label(text=f"Wrote {os.path.basename(LAST_EXPORT['path'])}", icon="CHECKMARK")


CLASSES = (MESH2CAD_OT_export_step, MESH2CAD_OT_export_cadquery)
