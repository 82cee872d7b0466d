"""Worker-thread tasks: start the backend, run reconstruction jobs. Network only; no bpy.

Each task reports through ``state.messages`` and always ends with ``TaskDone``.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from .actions import START_BACKEND
from .backend_process import BackendProcess, resolve_python
from .client import BackendError, Client
from .preferences import Settings
from .state import AddonState, Failed, Finished, JobItem, Progress, ServerReady, TaskDone

JOB_POLL_S = 0.5
NOT_RUNNING_HINT = "press Start Backend in the CAD panel, or enable auto-start in the add-on preferences"


def spawn(target: Callable[..., None], *args: Any) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name="mesh2cad-worker", daemon=True)
    thread.start()
    return thread


def start_backend_task(settings: Settings, state: AddonState) -> None:
    """Start the server (if not running) and report its health."""
    _guarded(state, lambda: _ensure_backend(settings, state, force=True))


def reconstruct_task(
    items: list[JobItem], options: dict[str, Any], settings: Settings, state: AddonState
) -> None:
    """Submit each item in turn, relay progress, hand over each finished result."""

    def run() -> bool:
        client = _ensure_backend(settings, state, force=settings.auto_start)
        for index, item in enumerate(items):
            if state.cancel.is_set():
                return True
            state.messages.put(Progress(item.source, 0.0, f"submitting ({index + 1}/{len(items)})"))
            if _run_job(client, item, options, state):
                return True
        return False

    _guarded(state, run)


def _guarded(state: AddonState, run: Callable[[], Any]) -> None:
    cancelled = False
    try:
        cancelled = bool(run())
    except BackendError as exc:
        state.messages.put(Failed(exc.message, exc.hint, action=exc.action))
    except Exception as exc:  # a bug: report it in the panel instead of losing it in a thread
        traceback.print_exc()
        state.messages.put(Failed(f"unexpected error: {exc!r}", "see the system console and report it"))
    finally:
        state.messages.put(TaskDone(cancelled=cancelled or state.cancel.is_set()))


def _ensure_backend(settings: Settings, state: AddonState, force: bool) -> Client:
    """A client for a healthy backend, starting one when allowed; raises BackendError."""
    backend = state.backend
    if backend is None or not backend.alive():
        if not force:
            raise BackendError("the backend is not running", NOT_RUNNING_HINT, START_BACKEND)
        python = resolve_python(settings.python)
        state.messages.put(Progress("", 0.0, "starting backend"))
        backend = BackendProcess.start(
            python, settings.port, settings.checkpoint, settings.startup_timeout, settings.request_timeout
        )
        if state.cancel.is_set():  # cancelled (or the add-on was disabled) while starting
            backend.stop()
            raise BackendError("backend start cancelled")
        state.backend = backend
    client = backend.client(settings.request_timeout)
    state.messages.put(ServerReady(client.health()))
    return client


def _run_job(client: Client, item: JobItem, options: dict[str, Any], state: AddonState) -> bool:
    """Run one job to its end; True when the user cancelled."""
    t0 = time.monotonic()
    job_id = client.submit(item.mesh, options)
    while True:
        if state.cancel.wait(JOB_POLL_S):
            try:
                client.cancel(job_id)
            except BackendError as exc:
                state.messages.put(Failed(f"cancelling {item.source}: {exc.message}", exc.hint, item.source))
            return True
        job = client.job(job_id)
        status = job.get("state")
        state.messages.put(
            Progress(item.source, float(job.get("progress") or 0.0), str(job.get("stage") or status))
        )
        if status == "done":
            result = job.get("result")
            if not isinstance(result, dict) or not isinstance(result.get("program"), dict):
                state.messages.put(
                    Failed(
                        f"{item.source}: the backend finished without a program",
                        "reconstruct again; report it if it persists",
                        item.source,
                    )
                )
            else:
                state.messages.put(Finished(item, result, time.monotonic() - t0))
            return False
        if status in ("failed", "cancelled"):
            reason = job.get("error") or status
            state.messages.put(
                Failed(
                    f"{item.source}: reconstruction {status}: {reason}",
                    "try more candidates or another seed",
                    item.source,
                )
            )
            return False
