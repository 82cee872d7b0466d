"""mesh2cad: turn selected meshes into editable sketch-and-extrude CAD with a local model.

Modules: build (program → objects), nodes (extrude node group), sketch (program JSON →
polygons), bake (apply), client (HTTP), backend_process (server process), worker
(thread tasks), poll (queue → bpy), state, meshdata, preferences, properties,
operators, panel, cad_export (STEP / CadQuery through the backend), deviation and
deviation_ui (deviation map). Only the stdlib and bpy are used.
"""

from __future__ import annotations

import bpy

from . import cad_export, deviation_ui, operators, panel, poll, preferences, properties
from .poll import poll_once
from .state import STATE

__all__ = ["poll_once", "register", "unregister"]

_CLASSES = (
    preferences.Mesh2CadPreferences,
    properties.Mesh2CadOptions,
    *operators.CLASSES,
    *panel.CLASSES,
    *cad_export.CLASSES,
    *deviation_ui.CLASSES,  # after panel: its sub-panel needs the parent registered
)


def register() -> None:
    for cls in _CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.mesh2cad = bpy.props.PointerProperty(type=properties.Mesh2CadOptions)


def unregister() -> None:
    operators.stop_backend()
    poll.stop_timer()
    while not STATE.messages.empty():  # drop what a stopping worker still reports
        STATE.messages.get_nowait()
    STATE.busy = False
    del bpy.types.Scene.mesh2cad
    for cls in reversed(_CLASSES):
        bpy.utils.unregister_class(cls)
