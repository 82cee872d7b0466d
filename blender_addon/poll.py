"""Main-thread side of the worker hand-over: drain the message queue and apply it to bpy.

``poll_once()`` is plain (tests call it; timers never fire in headless bpy);
``ensure_timer()`` makes ``bpy.app.timers`` call it while a task runs.
"""

from __future__ import annotations

import json
import queue

import bpy
from mathutils import Matrix

from . import build
from .actions import RECONSTRUCT
from .state import STATE, Failed, Finished, Message, Progress, ServerReady, TaskDone

TIMER_INTERVAL_S = 0.2
SCORES_KEY = "mesh2cad_scores"


def poll_once() -> int:
    """Apply every queued message; returns how many were handled."""
    handled = 0
    while True:
        try:
            message = STATE.messages.get_nowait()
        except queue.Empty:
            break
        _handle(message)
        handled += 1
    if handled:
        _redraw()
    return handled


def ensure_timer() -> None:
    if not bpy.app.timers.is_registered(_tick):
        bpy.app.timers.register(_tick, first_interval=TIMER_INTERVAL_S)


def stop_timer() -> None:
    if bpy.app.timers.is_registered(_tick):
        bpy.app.timers.unregister(_tick)


def _tick() -> float | None:
    poll_once()
    return TIMER_INTERVAL_S if STATE.busy or not STATE.messages.empty() else None


def _handle(message: Message) -> None:
    if isinstance(message, Progress):
        if message.source and message.source != STATE.current:
            STATE.current = message.source
            STATE.index += 1
        STATE.progress = min(1.0, max(0.0, message.progress))
        STATE.stage = message.stage
    elif isinstance(message, ServerReady):
        STATE.health = dict(message.health)
    elif isinstance(message, Finished):
        _apply_result(message)
    elif isinstance(message, Failed):
        STATE.set_error(message.message, message.hint, message.action)
        print(f"mesh2cad: {message.message}" + (f" ({message.hint})" if message.hint else ""))
    elif isinstance(message, TaskDone):
        STATE.busy = False
        STATE.task = ""
        STATE.progress = 0.0
        STATE.stage = "cancelled" if message.cancelled else ""
        STATE.current = ""
        STATE.cancel.clear()


def _apply_result(message: Finished) -> None:
    """Build the program over the input (one undo step) and remember the scores."""
    result, item = message.result, message.item
    try:
        coll = build.build_program(
            result["program"], name=f"{item.source} CAD", matrix_world=Matrix(item.matrix_world)
        )
    except build.ProgramError as exc:
        STATE.set_error(
            f"{item.source}: the backend's program cannot be built: {exc}",
            "reconstruct again with more candidates or another seed",
            RECONSTRUCT,
        )
        return
    scores = result.get("scores") if isinstance(result.get("scores"), dict) else {}
    timings = result.get("timings") if isinstance(result.get("timings"), dict) else {}
    coll[SCORES_KEY] = json.dumps(scores)
    coll[build.SOURCE_KEY] = item.source
    seconds = timings.get("total", message.seconds)
    STATE.last_result = {
        "source": item.source,
        "collection": coll.name,
        "cd": scores.get("cd"),
        "iou": scores.get("iou"),
        "seconds": float(seconds) if isinstance(seconds, (int, float)) else message.seconds,
        "features": len(result["program"]["features"]),
        "note": str(scores.get("input_note") or ""),  # what the backend did to a copy of the input
    }
    STATE.clear_error()
    _undo_push(f"mesh2cad: reconstruct {item.source}")


def _undo_push(message: str) -> None:
    """One undo step; timers run without a window in the context, so borrow the first one."""
    windows = list(getattr(bpy.context.window_manager, "windows", []))
    if bpy.context.window is None and windows:
        with bpy.context.temp_override(window=windows[0]):
            if bpy.ops.ed.undo_push.poll():
                bpy.ops.ed.undo_push(message=message)
    elif bpy.ops.ed.undo_push.poll():
        bpy.ops.ed.undo_push(message=message)


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", []):
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()
