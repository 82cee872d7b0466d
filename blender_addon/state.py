"""Shared add-on state and the messages a worker thread hands to the main thread.

Workers never touch bpy: they put the message dataclasses below on ``STATE.messages``;
:func:`.poll.poll_once` drains them on the main thread.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

from .backend_process import BackendProcess


@dataclass(frozen=True)
class JobItem:
    """One input mesh, captured on the main thread when Reconstruct was pressed."""

    source: str  # the input object's name
    mesh: dict[str, Any]  # the wire form ({"vertices": b64, "faces": b64, ...})
    matrix_world: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Progress:
    source: str
    progress: float
    stage: str


@dataclass(frozen=True)
class ServerReady:
    health: dict[str, Any]


@dataclass(frozen=True)
class Finished:
    item: JobItem
    result: dict[str, Any]  # the job's "result": {"program", "scores", "timings", ...}
    seconds: float


@dataclass(frozen=True)
class Failed:
    message: str
    hint: str = ""
    source: str = ""
    action: str = ""  # an operator that fixes it (actions.py), drawn as a button


@dataclass(frozen=True)
class TaskDone:
    cancelled: bool = False


Message = Progress | ServerReady | Finished | Failed | TaskDone


@dataclass
class AddonState:
    messages: queue.Queue = field(default_factory=queue.Queue)
    cancel: threading.Event = field(default_factory=threading.Event)
    busy: bool = False  # a worker thread is running (set and cleared on the main thread)
    task: str = ""  # what the worker does, for the panel
    current: str = ""
    index: int = 0
    total: int = 0
    progress: float = 0.0
    stage: str = ""
    last_error: str = ""
    last_hint: str = ""
    last_action: str = ""
    last_result: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    backend: BackendProcess | None = None

    def set_error(self, message: str, hint: str = "", action: str = "") -> None:
        self.last_error, self.last_hint, self.last_action = message, hint, action

    def clear_error(self) -> None:
        self.last_error = self.last_hint = self.last_action = ""

    def backend_alive(self) -> bool:
        return self.backend is not None and self.backend.alive()

    def decoders(self) -> list[str]:
        found = self.health.get("decoders")
        return [str(d) for d in found] if isinstance(found, list) and found else ["ar"]


STATE = AddonState()


def reset() -> None:
    """Forget everything except a running backend (tests; unregister stops the backend first)."""
    STATE.__dict__.update(AddonState(backend=STATE.backend).__dict__)
