"""Errors that carry their fix: an error may name an action, and the panel draws it as a button.

An action is an operator's ``bl_idname``; ``LABELS`` says how its button reads. Pure Python (no bpy):
the worker thread attaches actions to the messages it queues.
"""

from __future__ import annotations

START_BACKEND = "mesh2cad.start_backend"
OPEN_PREFERENCES = "mesh2cad.open_preferences"
RECONSTRUCT = "mesh2cad.reconstruct"

LABELS: dict[str, tuple[str, str]] = {  # action -> (button text, icon)
    START_BACKEND: ("Start Backend", "PLAY"),
    OPEN_PREFERENCES: ("Open Preferences", "PREFERENCES"),
    RECONSTRUCT: ("Try Again", "FILE_REFRESH"),
}


def label(action: str) -> tuple[str, str]:
    """(text, icon) of the action's button; unknown actions read as their operator name."""
    return LABELS.get(action, (action, "NONE"))
