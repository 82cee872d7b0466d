"""Add-on preferences (backend Python, auto-start, port, timeouts) and a plain snapshot of them."""

from __future__ import annotations

from dataclasses import dataclass

import bpy

from .backend_process import config_path, read_backend_config

ADDON_ID = __package__ or "mesh2cad"


@dataclass(frozen=True)
class Settings:
    """What the worker thread needs, copied from the preferences on the main thread."""

    python: str = ""  # empty: the one install.py recorded in backend.json
    checkpoint: str = ""
    auto_start: bool = True
    port: int = 0
    request_timeout: float = 10.0
    startup_timeout: float = 180.0


class Mesh2CadPreferences(bpy.types.AddonPreferences):
    bl_idname = ADDON_ID

    python: bpy.props.StringProperty(
        name="Backend Python",
        description="Python of the backend's virtual environment (empty: the one recorded by install.py)",
        subtype="FILE_PATH",
        default="",
    )
    checkpoint: bpy.props.StringProperty(
        name="Checkpoint",
        description="Model checkpoint folder (empty: the backend's default)",
        subtype="DIR_PATH",
        default="",
    )
    auto_start: bpy.props.BoolProperty(
        name="Start backend on first use",
        description="Start the local server when Reconstruct needs it",
        default=Settings.auto_start,
    )
    port: bpy.props.IntProperty(
        name="Port",
        description="Port on 127.0.0.1 (0: let the server pick a free one)",
        default=Settings.port,
        min=0,
        max=65535,
    )
    request_timeout: bpy.props.FloatProperty(
        name="Request timeout",
        description="Seconds to wait for one HTTP answer from the backend",
        default=Settings.request_timeout,
        min=0.5,
        max=600.0,
        unit="TIME_ABSOLUTE",
    )
    startup_timeout: bpy.props.FloatProperty(
        name="Start-up timeout",
        description="Seconds to wait for a starting backend to become healthy",
        default=Settings.startup_timeout,
        min=5.0,
        max=3600.0,
        unit="TIME_ABSOLUTE",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        layout.prop(self, "python")
        if not self.python:
            found = read_backend_config().get("python")
            layout.label(
                text=f"Using {found} (from {config_path()})"
                if found
                else "No backend recorded: run `python install.py` in the mesh2cad repository",
                icon="INFO" if found else "ERROR",
            )
        layout.prop(self, "checkpoint")
        layout.prop(self, "auto_start")
        row = layout.row()
        row.prop(self, "port")
        row.prop(self, "request_timeout")
        row.prop(self, "startup_timeout")


def current_settings(context: bpy.types.Context | None = None) -> Settings:
    """The preferences as a Settings snapshot (defaults when the add-on is not enabled, e.g. in tests)."""
    context = context or bpy.context
    addon = context.preferences.addons.get(ADDON_ID)
    prefs = getattr(addon, "preferences", None)
    if prefs is None:
        return Settings()
    return Settings(
        python=prefs.python,
        checkpoint=prefs.checkpoint,
        auto_start=prefs.auto_start,
        port=prefs.port,
        request_timeout=prefs.request_timeout,
        startup_timeout=prefs.startup_timeout,
    )
