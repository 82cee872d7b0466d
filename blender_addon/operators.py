"""Operators: reconstruct, cancel, start/stop backend, apply (bake), export program JSON.

Nothing here blocks: network work runs on a worker thread (:mod:`.worker`) and its
results arrive through :mod:`.poll`. Expected failures (no selection, backend
missing) are stored as the last error and reported as warnings, so calling an
operator from a script never raises for them.
"""

from __future__ import annotations

import json

import bpy
from bpy_extras.io_utils import ExportHelper

from . import bake, build, poll, worker
from .actions import OPEN_PREFERENCES, START_BACKEND
from .backend_process import resolve_python
from .client import BackendError
from .meshdata import mesh_payload
from .preferences import current_settings
from .state import STATE, JobItem

DEFAULT_OPTIONS = {"candidates": 4, "temperature": 0.7, "seed": 0, "decoder": "ar"}


def input_meshes(context: bpy.types.Context) -> list[bpy.types.Object]:
    """Selected mesh objects that are not themselves reconstruction results, sorted by name."""
    objs = [o for o in context.selected_objects if o.type == "MESH" and build.FEATURE_KEY not in o]
    return sorted(objs, key=lambda o: o.name)


def target_collection(context: bpy.types.Context) -> bpy.types.Collection | None:
    """The result collection of the active object, else the last reconstruction's."""
    coll = bake.result_collection(context.active_object)
    if coll is None and STATE.last_result.get("collection"):
        coll = bpy.data.collections.get(STATE.last_result["collection"])
    return coll if coll is not None and build.result_object(coll) is not None else None


class _Reporting:
    def fail(self, message: str, hint: str = "", action: str = "") -> set[str]:
        STATE.set_error(message, hint, action)
        self.report({"WARNING"}, f"{message}: {hint}" if hint else message)  # type: ignore[attr-defined]
        return {"CANCELLED"}

    def refuse_to_start(self, settings, may_start: bool = True) -> set[str] | None:
        """The failure result when a task cannot begin now (busy, or no backend that can start), else None."""
        if STATE.busy:
            return self.fail("the backend is busy with another task", "wait for it or press Cancel")
        if STATE.backend_alive():
            return None
        if not may_start:
            return self.fail("the backend is not running", worker.NOT_RUNNING_HINT, START_BACKEND)
        try:
            resolve_python(settings.python)
        except BackendError as exc:
            return self.fail(exc.message, exc.hint, exc.action)
        return None


class MESH2CAD_OT_reconstruct(_Reporting, bpy.types.Operator):
    bl_idname = "mesh2cad.reconstruct"
    bl_label = "Reconstruct"
    bl_description = "Send the selected meshes to the local backend and build editable CAD over each"
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        if STATE.busy:
            return self.fail("the backend is busy with another task", "wait for it or press Cancel")
        objs = input_meshes(context)
        if not objs:
            return self.fail("no mesh selected", "select one or more mesh objects in the 3D viewport")
        settings = current_settings(context)
        if (refused := self.refuse_to_start(settings, may_start=settings.auto_start)) is not None:
            return refused
        depsgraph = context.evaluated_depsgraph_get()
        items = []
        for obj in objs:
            try:
                mesh = mesh_payload(obj, depsgraph)
            except ValueError as exc:
                return self.fail(str(exc), "select objects with faces (or vertices: a point cloud)")
            matrix = tuple(tuple(row) for row in obj.matrix_world)
            items.append(JobItem(obj.name, mesh, matrix))
        scene_opts = getattr(context.scene, "mesh2cad", None)
        options = scene_opts.as_options() if scene_opts is not None else dict(DEFAULT_OPTIONS)
        _begin("reconstruct", len(items))
        worker.spawn(worker.reconstruct_task, items, options, settings, STATE)
        poll.ensure_timer()
        self.report({"INFO"}, f"Reconstructing {len(items)} mesh(es)")
        return {"FINISHED"}


class MESH2CAD_OT_cancel(bpy.types.Operator):
    bl_idname = "mesh2cad.cancel"
    bl_label = "Cancel"
    bl_description = "Cancel the running reconstruction"
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        if STATE.busy:
            STATE.cancel.set()
            STATE.stage = "cancelling"
        return {"FINISHED"}


class MESH2CAD_OT_start_backend(_Reporting, bpy.types.Operator):
    bl_idname = "mesh2cad.start_backend"
    bl_label = "Start Backend"
    bl_description = "Start the local inference server"
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = current_settings(context)
        if (refused := self.refuse_to_start(settings)) is not None:
            return refused
        _begin("start backend", 0)
        worker.spawn(worker.start_backend_task, settings, STATE)
        poll.ensure_timer()
        return {"FINISHED"}


class MESH2CAD_OT_stop_backend(bpy.types.Operator):
    bl_idname = "mesh2cad.stop_backend"
    bl_label = "Stop Backend"
    bl_description = "Stop the local inference server started by this add-on"
    bl_options = {"REGISTER"}

    def execute(self, context: bpy.types.Context) -> set[str]:
        stop_backend()
        return {"FINISHED"}


class MESH2CAD_OT_apply(_Reporting, bpy.types.Operator):
    bl_idname = "mesh2cad.apply"
    bl_label = "Apply"
    bl_description = "Bake the active (or last) reconstruction into one plain mesh object"
    bl_options = {"REGISTER", "UNDO"}

    keep_editable: bpy.props.BoolProperty(
        name="Keep Editable",
        description="Hide the editable objects instead of deleting them",
        default=False,
    )

    def execute(self, context: bpy.types.Context) -> set[str]:
        coll = target_collection(context)
        if coll is None:
            return self.fail("no reconstruction to apply", "select an object of a CAD result")
        baked = bake.bake_collection(coll, self.keep_editable, context.evaluated_depsgraph_get())
        for obj in context.selected_objects:
            obj.select_set(False)
        baked.select_set(True)
        context.view_layer.objects.active = baked
        return {"FINISHED"}


class _ExportsResult(_Reporting, ExportHelper):
    """Export operators of a reconstruction: the file name defaults to the result collection's."""

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        coll = target_collection(context)
        if coll is not None and not self.filepath:
            self.filepath = bpy.path.clean_name(coll.name) + self.filename_ext
        return ExportHelper.invoke(self, context, event)


class MESH2CAD_OT_export_program(_ExportsResult, bpy.types.Operator):
    bl_idname = "mesh2cad.export_program"
    bl_label = "Export Program"
    bl_description = "Write the CAD program of the active (or last) reconstruction as JSON (cadprog/1)"
    bl_options = {"REGISTER"}

    filename_ext = ".json"
    filter_glob: bpy.props.StringProperty(default="*.json", options={"HIDDEN"})

    def execute(self, context: bpy.types.Context) -> set[str]:
        coll = target_collection(context)
        if coll is None:
            return self.fail("no reconstruction to export", "select an object of a CAD result")
        program = json.loads(coll[build.PROGRAM_KEY])
        try:
            with open(self.filepath, "w", encoding="utf-8") as fh:
                json.dump(program, fh, indent=2)
                fh.write("\n")
        except OSError as exc:
            return self.fail(f"cannot write {self.filepath}: {exc.strerror}", "choose another file")
        self.report({"INFO"}, f"Program written to {self.filepath}")
        return {"FINISHED"}


def stop_backend() -> None:
    """Cancel any task and stop the backend this add-on started (safe to call any time)."""
    if STATE.busy:
        STATE.cancel.set()
    if STATE.backend is not None:
        STATE.backend.stop()
        STATE.backend = None
    STATE.health = {}


def _begin(task: str, total: int) -> None:
    STATE.busy = True
    STATE.task = task
    STATE.index, STATE.total = 0, total
    STATE.progress, STATE.stage, STATE.current = 0.0, "", ""
    STATE.cancel.clear()
    STATE.clear_error()


class MESH2CAD_OT_open_preferences(bpy.types.Operator):
    bl_idname = OPEN_PREFERENCES
    bl_label = "Open Preferences"
    bl_description = "Open the add-on's preferences (backend Python, port, auto-start)"

    def execute(self, context: bpy.types.Context) -> set[str]:
        from .preferences import ADDON_ID

        STATE.clear_error()
        if bpy.app.background:  # no window to open: the panel's hint says where the setting is
            self.report({"INFO"}, f"Edit > Preferences > Add-ons > {ADDON_ID}")
            return {"FINISHED"}
        bpy.ops.screen.userpref_show("INVOKE_DEFAULT")
        context.preferences.active_section = "ADDONS"
        bpy.ops.preferences.addon_show(module=ADDON_ID)
        return {"FINISHED"}


CLASSES = (
    MESH2CAD_OT_reconstruct,
    MESH2CAD_OT_cancel,
    MESH2CAD_OT_start_backend,
    MESH2CAD_OT_stop_backend,
    MESH2CAD_OT_apply,
    MESH2CAD_OT_export_program,
    MESH2CAD_OT_open_preferences,
)
